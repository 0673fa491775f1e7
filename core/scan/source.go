package scan

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/modelgate/modelgate/core/engine"
)

// A Source is a tree of files to scan: a directory on disk, any fs.FS (an
// artifact store fetched over HTTP, a zip, an OCI layer), the git index or a
// revision range, or one stream. Sources list and open; they never judge.
type Source interface {
	// Walk calls visit once for every file, in any order, and stops at the
	// first error visit returns. An error about the source itself (a path
	// that names nothing) is returned as a *PathError.
	Walk(ctx context.Context, visit func(Entry) error) error
}

// A Lookuper can open files it did not list, so that model-directory
// analyzers see the files a changed MLmodel refers to in a git diff even
// when only the MLmodel changed.
type Lookuper interface {
	Lookup(ctx context.Context, path string) (Entry, bool)
}

// Entry is one file of a source.
type Entry struct {
	// Path is the report path: '/'-separated and relative to the source's
	// root, e.g. "models/churn/MLmodel".
	Path string
	// Size is the content size, or -1 when only reading tells.
	Size int64
	// Open returns the content. When the reader also implements
	// io.ReaderAt with a Size() int64 method (or is an *os.File) it is
	// read in place; otherwise it is spooled within the limits.
	Open func(ctx context.Context) (io.ReadCloser, error)
	// Err, when set, says the entry exists but cannot be read (a dangling
	// symlink, a permission error); it is reported as not scanned.
	Err error
	// Identity, when not empty, names the underlying content (a symlink's
	// resolved target): entries that share one are scanned once and
	// reported under each path.
	Identity string
}

// PathError reports a path argument that names nothing in the source: a
// typo in a CI path filter must not switch the gate off.
type PathError struct {
	Path   string
	Source string // "working tree", "index", "HEAD~1..HEAD" ...
	Err    error
}

func (e *PathError) Error() string {
	src := e.Source
	if src == "" {
		src = "the file system"
	}
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("%s: names nothing in %s", e.Path, src)
}

func (e *PathError) Unwrap() error { return e.Err }

// IsPathError reports whether err is (or wraps) a *PathError.
func IsPathError(err error) bool {
	var pe *PathError
	return errors.As(err, &pe)
}

// Multi walks several sources in order, as one.
func Multi(sources ...Source) Source { return multi(sources) }

type multi []Source

func (m multi) Walk(ctx context.Context, visit func(Entry) error) error {
	for _, s := range m {
		if err := s.Walk(ctx, visit); err != nil {
			return err
		}
	}
	return nil
}

func (m multi) Lookup(ctx context.Context, path string) (Entry, bool) {
	for _, s := range m {
		if l, ok := s.(Lookuper); ok {
			if e, ok := l.Lookup(ctx, path); ok {
				return e, true
			}
		}
	}
	return Entry{}, false
}

// RandomAccess makes random-access content an Entry.Open result that is read
// in place rather than spooled again; c is closed with it (nil: nothing).
func RandomAccess(r io.ReaderAt, size int64, c io.Closer) io.ReadCloser {
	return randomAccess{io.NewSectionReader(r, 0, size), c}
}

type randomAccess struct {
	*io.SectionReader
	c io.Closer
}

func (r randomAccess) Close() error {
	if r.c == nil {
		return nil
	}
	return r.c.Close()
}

// Arriving is content still arriving while it is scanned, such as a
// download written to a temporary file as it comes in. An Entry.Open result
// that implements it (and Size) is scanned from its head while the rest
// arrives, with the result a scan of the complete content would have; see
// engine.Arriving.
type Arriving = engine.Arriving
