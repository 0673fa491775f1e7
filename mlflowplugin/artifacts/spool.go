package artifacts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"sync"

	"github.com/modelgate/modelgate/core/scan"
)

// Spool lets the scanner read this location's large files at random
// while they download: each file of a listed size above 64 KiB and at
// most maxBytes goes to a temporary file in dir ("" for the system's),
// hashed on the way, and a read waits only for the bytes it asks for. The
// scan of a pickle then runs alongside its download instead of after it
// (the core would spool a plain stream whole before scanning). Larger
// files and files of unknown size still stream. Without Spool every file
// streams.
func (l *Location) Spool(dir string, maxBytes int64) {
	if f, ok := l.FS.(*storeFS); ok {
		f.mu.Lock()
		f.spoolDir, f.spoolMax, f.spooling = dir, maxBytes, true
		f.mu.Unlock()
	}
}

// Sums returns the sha256 of every file of fsys (an FS from this package)
// that was downloaded to its end and matched its listed size, by path.
func Sums(fsys fs.FS) map[string]string {
	f, ok := fsys.(*storeFS)
	if !ok {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.sums)
}

// spoolFile is a large artifact being downloaded to a temporary file.
// It implements io.ReaderAt and Size, so the core reads it in place.
type spoolFile struct {
	fsys *storeFS
	name string
	e    Entry

	startOnce sync.Once
	mu        sync.Mutex
	cond      *sync.Cond
	tmp       *os.File
	have      int64 // bytes on disk so far
	done      bool  // the download ended (err says how)
	err       error
	finished  chan struct{}

	pos int64 // for Read
}

var (
	_ scan.Arriving = (*spoolFile)(nil)
	_ fs.File       = (*spoolFile)(nil)
)

func (f *spoolFile) Stat() (fs.FileInfo, error) { return info{f.e}, nil }

// Size is the listed size; reads never go past it.
func (f *spoolFile) Size() int64 { return f.e.Size }

func (f *spoolFile) start() {
	f.startOnce.Do(func() {
		f.cond = sync.NewCond(&f.mu)
		f.finished = make(chan struct{})
		tmp, err := os.CreateTemp(f.fsys.spoolDir, "modelgate-artifact-*")
		if err != nil {
			err = fmt.Errorf("spooling %s: %w", f.name, err)
			f.fsys.fail(f.name, err)
			f.finish(err)
			return
		}
		// Unlinked at once: the space is freed when the file closes, even
		// if the process dies mid-scan.
		_ = os.Remove(tmp.Name())
		f.tmp = tmp
		go f.download()
	})
}

func (f *spoolFile) finish(err error) {
	f.mu.Lock()
	f.done, f.err = true, err
	f.cond.Broadcast()
	f.mu.Unlock()
	close(f.finished)
}

func (f *spoolFile) download() {
	err := f.copy()
	if err != nil {
		f.fsys.fail(f.name, err)
	}
	f.finish(err)
}

// copy writes the stream to the spool file while a second goroutine
// hashes it: sha256 costs about as much as the network and the disk
// together, and the scanner reads alongside (see Arrived).
func (f *spoolFile) copy() error {
	rc, err := f.fsys.store.Open(f.fsys.ctx, f.name)
	if err != nil {
		return err
	}
	defer rc.Close()
	// Chunks small enough to stay in the CPU cache between the disk write
	// and the hash; a megabyte each made both several times slower.
	const chunk, inFlight = 64 << 10, 32
	free, full := make(chan []byte, inFlight), make(chan []byte, inFlight)
	for range inFlight {
		free <- make([]byte, chunk)
	}
	sum := make(chan string, 1)
	go func() {
		h := sha256.New()
		for b := range full {
			h.Write(b)
			free <- b[:cap(b)]
		}
		sum <- hex.EncodeToString(h.Sum(nil))
	}()
	n, err := f.write(rc, free, full)
	close(full)
	digest := <-sum
	if err != nil {
		return err
	}
	if n != f.e.Size {
		return fmt.Errorf("artifact %s has %d bytes, its listing says %d", f.name, n, f.e.Size)
	}
	f.fsys.recordSum(f.name, digest)
	return nil
}

func (f *spoolFile) write(rc io.Reader, free <-chan []byte, full chan<- []byte) (int64, error) {
	var n int64
	for {
		buf := <-free
		m, rerr := io.ReadFull(rc, buf)
		if m > 0 {
			if n+int64(m) > f.e.Size {
				return n, fmt.Errorf("artifact %s is larger than the %d bytes its listing says", f.name, f.e.Size)
			}
			if _, err := f.tmp.Write(buf[:m]); err != nil {
				return n, fmt.Errorf("spooling %s: %w", f.name, err)
			}
			full <- buf[:m]
			n += int64(m)
			f.mu.Lock()
			f.have = n
			f.cond.Broadcast()
			f.mu.Unlock()
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			return n, nil
		}
		if rerr != nil {
			return n, fmt.Errorf("downloading %s: %w", f.name, rerr)
		}
	}
}

// ReadAt waits until the download has passed the end of the range.
func (f *spoolFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= f.e.Size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), f.e.Size)
	f.start()
	f.mu.Lock()
	for f.have < end && !f.done {
		f.cond.Wait()
	}
	have, err := f.have, f.err
	f.mu.Unlock()
	if err != nil {
		// Fail closed: content that disagrees with its listing is not
		// scanned as if the part read were all of it.
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: err}
	}
	if have < end {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: io.ErrUnexpectedEOF}
	}
	n, rerr := f.tmp.ReadAt(p[:end-off], off)
	if rerr != nil && !(errors.Is(rerr, io.EOF) && int64(n) == end-off) {
		return n, rerr
	}
	if int64(n) < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// Arrived is how much of the file is on disk; with Wait it makes the
// file an engine.Arriving, so the scan starts from the head while the rest
// downloads.
func (f *spoolFile) Arrived() int64 {
	f.start()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.have
}

// Wait blocks until the download ended and returns its error.
func (f *spoolFile) Wait(ctx context.Context) error {
	f.start()
	select {
	case <-f.finished:
	case <-ctx.Done():
		return ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *spoolFile) Read(p []byte) (int, error) {
	n, err := f.ReadAt(p, f.pos)
	f.pos += int64(n)
	return n, err
}

// Close lets the download finish (the digest needs every byte even when
// the scanner stopped early) and frees the temporary file.
func (f *spoolFile) Close() error {
	f.startOnce.Do(func() {}) // a file never read starts no download now
	if f.finished == nil {
		return nil
	}
	<-f.finished
	if f.tmp != nil {
		return f.tmp.Close()
	}
	return nil
}

func (f *storeFS) recordSum(name, sum string) {
	f.mu.Lock()
	f.sums[name] = sum
	f.mu.Unlock()
}

// fail remembers that a file's content disagreed with its listing (or
// could not be opened): later opens, such as the digest's, fail too.
func (f *storeFS) fail(name string, err error) {
	f.mu.Lock()
	if f.failed == nil {
		f.failed = map[string]error{}
	}
	f.failed[name] = err
	f.mu.Unlock()
}
