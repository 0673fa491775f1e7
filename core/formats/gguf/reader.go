package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/modelgate/modelgate/core/limits"
)

// reader reads little- or big-endian values sequentially from an
// io.ReaderAt through a small buffer, tracking the absolute offset.
type reader struct {
	r     io.ReaderAt
	size  int64
	pos   int64
	order binary.ByteOrder
	buf   []byte
	bufAt int64
	bufN  int
}

var errTruncated = errors.New("truncated")

// errImpossible marks declared counts or sizes that no file of this size
// could hold by orders of magnitude: not a cut-off download but a header
// aimed at the loader's size arithmetic (the heap-overflow class of
// CVE-2024-25664/25665 in llama.cpp's GGUF reader).
var errImpossible = errors.New("impossible for the file size")

// impossible reports whether needing need bytes where remaining are left
// is beyond truncation (see limits.Impossible).
func impossible(need float64, remaining int64) bool { return limits.Impossible(need, remaining) }

// beyond returns errImpossible when need is impossible for remaining, and
// errTruncated otherwise.
func beyond(need float64, remaining int64) error {
	if impossible(need, remaining) {
		return errImpossible
	}
	return errTruncated
}

func newReader(r io.ReaderAt, size int64) *reader {
	return &reader{r: r, size: size, order: binary.LittleEndian, buf: make([]byte, 64<<10), bufAt: -1}
}

// fill makes buf hold [pos, pos+n) if possible.
func (rd *reader) bytes(n int) ([]byte, error) {
	if n < 0 || rd.pos+int64(n) > rd.size {
		return nil, fmt.Errorf("read %d bytes at %d: %w", n, rd.pos, errTruncated)
	}
	if n > len(rd.buf) {
		out := make([]byte, n)
		if _, err := rd.r.ReadAt(out, rd.pos); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		rd.pos += int64(n)
		return out, nil
	}
	if rd.bufAt < 0 || rd.pos < rd.bufAt || rd.pos+int64(n) > rd.bufAt+int64(rd.bufN) {
		want := int64(len(rd.buf))
		if rd.size-rd.pos < want {
			want = rd.size - rd.pos
		}
		m, err := rd.r.ReadAt(rd.buf[:want], rd.pos)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if int64(m) < int64(n) {
			return nil, fmt.Errorf("read %d bytes at %d: %w", n, rd.pos, errTruncated)
		}
		rd.bufAt, rd.bufN = rd.pos, m
	}
	start := rd.pos - rd.bufAt
	rd.pos += int64(n)
	return rd.buf[start : start+int64(n)], nil
}

func (rd *reader) skip(n int64) error {
	if n < 0 || rd.pos+n > rd.size {
		return fmt.Errorf("skip %d bytes at %d: %w", n, rd.pos, errTruncated)
	}
	rd.pos += n
	return nil
}

func (rd *reader) u32() (uint32, error) {
	b, err := rd.bytes(4)
	if err != nil {
		return 0, err
	}
	return rd.order.Uint32(b), nil
}

func (rd *reader) u64() (uint64, error) {
	b, err := rd.bytes(8)
	if err != nil {
		return 0, err
	}
	return rd.order.Uint64(b), nil
}
