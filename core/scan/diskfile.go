package scan

import (
	"bytes"
	"errors"
	"io"
	"os"

	"github.com/modelgate/modelgate/core/engine"
)

// wholeReadBytes is the size up to which a file on disk is read into
// memory in one call when it is opened. Sniffing and parsing read a small
// file in many small pieces (head, zip end record, central directory,
// member headers, CRCs); one read and then memory is cheaper, and parsers
// read memory in place.
const wholeReadBytes = 1 << 20

// memFile is a small file read whole when it was opened. It satisfies the
// random-access contract of Entry.Open (ReadAt and Size) and exposes its
// bytes like engine.Memory.
type memFile struct {
	engine.Memory
	r *bytes.Reader
}

func newMemFile(b []byte) *memFile { return &memFile{Memory: b} }

// Read implements io.Reader for callers that stream the entry.
func (m *memFile) Read(p []byte) (int, error) {
	if m.r == nil {
		m.r = bytes.NewReader(m.Memory)
	}
	return m.r.Read(p)
}

// Close implements io.Closer; there is nothing to release.
func (m *memFile) Close() error { return nil }

var errNotRegular = errors.New("not a regular file")

// openWithOS is the portable way to open a file for scanning: an *os.File,
// or the whole content for a small regular file.
func openWithOS(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, errNotRegular
	}
	size := st.Size()
	if size <= 0 || size > wholeReadBytes {
		return f, nil
	}
	defer f.Close()
	buf := make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, size), buf); err != nil {
		return nil, err
	}
	return newMemFile(buf), nil
}
