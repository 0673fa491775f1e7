package pickle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// errTruncated mirrors CPython's "pickle data was truncated".
var errTruncated = errors.New("pickle data was truncated")

// ReadError is a failure to read the content being traced, at Offset. A
// trace that meets one is incomplete for reasons outside the pickle, so
// Run returns it instead of recording the pickle as malformed.
type ReadError struct {
	Offset int64
	Err    error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("read at offset %d: %v", e.Offset, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// reader is a buffered reader over an io.ReaderAt that knows its offset and
// can skip large payloads without reading them.
type reader struct {
	r    io.ReaderAt
	size int64
	buf  []byte
	base int64 // stream offset of buf[0]
	pos  int   // read position in buf
	end  int   // valid bytes in buf
	// inPlace is set when buf is the content itself (see newReader),
	// which must never be written.
	inPlace bool
	// failed is the first read error that was not the end of the content
	// (a disk error, a download that broke off): the bytes are unknown,
	// which is not the same as a pickle cut short.
	failed error
}

func newReader(r io.ReaderAt, start, size int64) *reader {
	if m, ok := r.(interface{ Bytes() []byte }); ok && start >= 0 && start <= size && int64(len(m.Bytes())) == size {
		// Content already in memory (engine.Memory) is read in place:
		// no buffer to allocate and fill.
		return &reader{r: r, size: size, buf: m.Bytes(), pos: int(start), end: int(size), inPlace: true}
	}
	// Most pickles (joblib members, numpy object arrays, nested payloads)
	// are small; a full-size buffer for each would dominate allocation.
	n := int64(256 << 10)
	if rem := size - start; rem >= 0 && rem+64 < n {
		n = max(rem+64, 4096)
	}
	return &reader{r: r, size: size, buf: make([]byte, n), base: start}
}

// Offset is the stream offset of the next byte.
func (r *reader) Offset() int64 { return r.base + int64(r.pos) }

// Remaining is the number of unread bytes.
func (r *reader) Remaining() int64 { return r.size - r.Offset() }

func (r *reader) fill() error {
	if r.inPlace {
		return io.EOF // everything up to size is in buf already
	}
	if r.pos > 0 {
		copy(r.buf, r.buf[r.pos:r.end])
		r.base += int64(r.pos)
		r.end -= r.pos
		r.pos = 0
	}
	off := r.base + int64(r.end)
	if off >= r.size {
		return io.EOF
	}
	want := len(r.buf) - r.end
	if rem := r.size - off; int64(want) > rem {
		want = int(rem)
	}
	n, err := r.r.ReadAt(r.buf[r.end:r.end+want], off)
	r.end += n
	if n == 0 {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && r.failed == nil {
			r.failed = &ReadError{Offset: off, Err: err}
		}
		return err
	}
	return nil
}

func (r *reader) byte() (byte, error) {
	if r.pos >= r.end {
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	c := r.buf[r.pos]
	r.pos++
	return c, nil
}

// peek returns the next n (<= len(buf)) bytes without consuming them.
func (r *reader) peek(n int) ([]byte, error) {
	for r.end-r.pos < n {
		if err := r.fill(); err != nil {
			return nil, errTruncated
		}
	}
	return r.buf[r.pos : r.pos+n], nil
}

// fixed reads n small bytes (n <= 8) for lengths and numbers.
func (r *reader) fixed(n int) ([]byte, error) {
	b, err := r.peek(n)
	if err != nil {
		return nil, err
	}
	r.pos += n
	return b, nil
}

// data reads an n-byte payload, keeping at most maxInline bytes. The
// returned string is the kept prefix; off is where the payload started.
func (r *reader) data(n int64) (s string, off int64, err error) {
	return r.dataKeep(n, maxInline)
}

// dataKeep is data keeping at most max bytes.
func (r *reader) dataKeep(n, max int64) (s string, off int64, err error) {
	off = r.Offset()
	if n < 0 || n > r.Remaining() {
		return "", off, errTruncated
	}
	keep := min(n, max)
	if keep == n && int64(r.end-r.pos) >= n {
		// The common case, a short payload already buffered: one copy.
		s = string(r.buf[r.pos : r.pos+int(n)])
		r.pos += int(n)
		return s, off, nil
	}
	out := make([]byte, 0, keep)
	for int64(len(out)) < keep {
		if r.pos >= r.end {
			if err := r.fill(); err != nil {
				return "", off, errTruncated
			}
		}
		take := r.end - r.pos
		if need := int(keep) - len(out); take > need {
			take = need
		}
		out = append(out, r.buf[r.pos:r.pos+take]...)
		r.pos += take
	}
	if err := r.skip(n - keep); err != nil {
		return "", off, err
	}
	return string(out), off, nil
}

// dataObject is data returning the payload as a string or bytes object
// (Len and Off filled in); short buffered payloads go to a pooled object.
func (r *reader) dataObject(n int64, p *pools) (*Object, error) {
	if n >= 0 && n <= 40 && int64(r.end-r.pos) >= n {
		o := p.str(r.buf[r.pos : r.pos+int(n)])
		o.Len, o.Off = n, r.Offset()
		r.pos += int(n)
		return o, nil
	}
	keep := int64(maxInline)
	if p.cells > p.longCut {
		// Past this the VM already holds a lot: a long payload keeps a
		// short prefix (its offset re-reads the rest), so that memory
		// follows the number of values, not their bytes.
		keep = longCutPrefix
	}
	s, off, err := r.dataKeep(n, keep)
	if err != nil {
		return nil, err
	}
	return p.long(s, n, off), nil
}

// skip discards n bytes; large skips only move the offset.
func (r *reader) skip(n int64) error {
	if n <= 0 {
		return nil
	}
	if n > r.Remaining() {
		return errTruncated
	}
	if avail := int64(r.end - r.pos); n <= avail {
		r.pos += int(n)
		return nil
	}
	r.base = r.Offset() + n
	r.pos, r.end = 0, 0
	return nil
}

// line reads up to and including '\n' and returns the line without it,
// keeping at most maxInline bytes. A missing newline is an error, as in
// CPython's loads().
func (r *reader) line() (string, error) {
	var out []byte
	for {
		if r.pos >= r.end {
			if err := r.fill(); err != nil {
				return "", errors.New("pickle data was truncated (no newline)")
			}
		}
		chunk := r.buf[r.pos:r.end]
		i := bytes.IndexByte(chunk, '\n')
		if i >= 0 {
			if len(out) < maxInline {
				out = append(out, chunk[:i]...)
			}
			r.pos += i + 1
			if len(out) > maxInline {
				out = out[:maxInline]
			}
			return string(out), nil
		}
		if len(out) < maxInline {
			out = append(out, chunk...)
		}
		r.pos = r.end
	}
}
