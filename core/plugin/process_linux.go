package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
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

// checkRunning hashes the executable the process actually runs, which
// closes the window between go-plugin's hash of the file and exec.
func checkRunning(pid int, want string) error {
	if pid <= 0 {
		return fmt.Errorf("no process id to verify")
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return fmt.Errorf("verifying the running executable: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("verifying the running executable: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("the running executable has sha256 %s, not the pinned %s", got, want)
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
