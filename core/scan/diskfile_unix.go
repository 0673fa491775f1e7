//go:build unix

package scan

import (
	"io"
	"os"
	"syscall"
)

// openDisk opens a file for scanning. Small regular files are read whole
// with four system calls (open, fstat, pread, close); os.Open alone costs
// more, because it offers every descriptor to the network poller (two
// fcntl calls, an epoll_ctl that fails for regular files, two more fcntl
// calls to undo it), which a directory of thousands of small models pays
// per file. Larger files go through os.Open as before.
func openDisk(path string) (io.ReadCloser, error) {
	// O_NONBLOCK keeps a FIFO swapped in after the walk from blocking the
	// open; it changes nothing for regular files.
	fd, err := openNoEINTR(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st syscall.Stat_t
	if err := fstatNoEINTR(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, errNotRegular
	}
	if st.Size <= 0 || st.Size > wholeReadBytes {
		syscall.Close(fd)
		return openWithOS(path)
	}
	defer syscall.Close(fd)
	buf := make([]byte, st.Size)
	for off := 0; off < len(buf); {
		n, err := syscall.Pread(fd, buf[off:], int64(off))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return nil, &os.PathError{Op: "read", Path: path, Err: io.ErrUnexpectedEOF}
		}
		off += n
	}
	return newMemFile(buf), nil
}

func openNoEINTR(path string, mode int) (int, error) {
	for {
		fd, err := syscall.Open(path, mode, 0)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

func fstatNoEINTR(fd int, st *syscall.Stat_t) error {
	for {
		if err := syscall.Fstat(fd, st); err != syscall.EINTR {
			return err
		}
	}
}
