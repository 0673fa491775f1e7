package engine

import "io"

// Memory is content held in memory. Sources hand small files to the engine
// this way, and parsers that would otherwise copy what they read (the
// pickle reader's buffer, the zip end-record search) read it in place
// through Bytes. Nothing may write to it.
type Memory []byte

// ReadAt implements io.ReaderAt.
func (m Memory) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if off >= int64(len(m)) {
		return 0, io.EOF
	}
	n := copy(p, m[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Size is the content's length.
func (m Memory) Size() int64 { return int64(len(m)) }

// Bytes returns the content itself, which callers must not modify.
func (m Memory) Bytes() []byte { return m }
