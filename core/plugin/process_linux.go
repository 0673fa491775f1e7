package plugin

import (
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysProcAttr puts the plugin in its own process group (so stopping it
// takes anything it spawned too) and has the kernel kill it if the host
// dies without cleaning up (SIGKILL leaves no chance to), so no plugin
// outlives its scan.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// identity is what tells one version of a file from another without
// reading it: any write changes the inode's ctime, which only root can set.
type identity struct {
	dev, ino, size uint64
	ctimeSec       int64
	ctimeNsec      int64
}

func identityOf(st os.FileInfo) (identity, error) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return identity{}, fmt.Errorf("no inode information")
	}
	return identity{dev: sys.Dev, ino: sys.Ino, size: uint64(sys.Size), ctimeSec: sys.Ctim.Sec, ctimeNsec: sys.Ctim.Nsec}, nil
}

func fileIdentity(path string) (identity, error) {
	st, err := os.Stat(path)
	if err != nil {
		return identity{}, err
	}
	return identityOf(st)
}

// checkRunning makes sure the process runs the very file whose identity
// was taken before go-plugin hashed it: not a file swapped in or rewritten
// between the hash and exec.
func checkRunning(pid int, want identity) error {
	if pid <= 0 {
		return fmt.Errorf("no process id to verify")
	}
	st, err := os.Stat("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return fmt.Errorf("verifying the running executable: %w", err)
	}
	got, err := identityOf(st)
	if err != nil {
		return fmt.Errorf("verifying the running executable: %w", err)
	}
	if got != want {
		return fmt.Errorf("the executable changed while it was started (checksum and running file differ); refusing to use it")
	}
	return nil
}

// limitProcess sets the memory and CPU-time limits. Memory is bounded by
// RLIMIT_DATA (private writable memory, which is where heaps live) rather
// than RLIMIT_AS: Go and other runtimes reserve far more address space than
// they ever use and fail to start under a tight address-space limit.
func limitProcess(pid int, spec Spec) error {
	mem := uint64(spec.MemoryBytes)
	if err := unix.Prlimit(pid, unix.RLIMIT_DATA, &unix.Rlimit{Cur: mem, Max: mem}, nil); err != nil {
		return err
	}
	// CPU time can only be bounded per process; the wall-time budget is
	// enforced per call by the host. The kernel sends SIGXCPU at the soft
	// limit and SIGKILL at the hard one.
	cpu := uint64(spec.TimeBudget.Seconds()) + 10
	return unix.Prlimit(pid, unix.RLIMIT_CPU, &unix.Rlimit{Cur: cpu, Max: cpu + 5}, nil)
}

func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}
