package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// errMalformed marks structural problems in the flatbuffer.
var errMalformed = errors.New("malformed flatbuffer")

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, a...))
}

// pageSize is the unit the reader fetches from the host: a TFLite model's
// tables sit close together, so one page usually serves many fields.
const pageSize = 64 << 10

// maxPages bounds the reader's cache (4 MiB).
const maxPages = 64

// buffer reads a flatbuffer through an io.ReaderAt in cached pages, with
// every offset checked against the size. It never reads a vector's
// elements in bulk, so weight buffers are never fetched.
type buffer struct {
	r     io.ReaderAt
	size  int64
	pages map[int64][]byte
	order []int64
}

func newBuffer(r io.ReaderAt, size int64) *buffer {
	return &buffer{r: r, size: size, pages: map[int64][]byte{}}
}

// bytes returns n bytes at off (n <= pageSize).
func (b *buffer) bytes(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off+int64(n) > b.size {
		return nil, malformed("%d bytes at offset %d are outside the %d-byte file", n, off, b.size)
	}
	out := make([]byte, 0, n)
	for len(out) < n {
		at := off + int64(len(out))
		page, err := b.page(at / pageSize)
		if err != nil {
			return nil, err
		}
		start := int(at % pageSize)
		end := min(len(page), start+n-len(out))
		if start >= end {
			return nil, malformed("short page at offset %d", at)
		}
		out = append(out, page[start:end]...)
	}
	return out, nil
}

func (b *buffer) page(i int64) ([]byte, error) {
	if p, ok := b.pages[i]; ok {
		return p, nil
	}
	n := min(int64(pageSize), b.size-i*pageSize)
	p := make([]byte, n)
	got, err := b.r.ReadAt(p, i*pageSize)
	if int64(got) < n {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read at %d: %w", i*pageSize, err)
	}
	if len(b.order) >= maxPages {
		delete(b.pages, b.order[0])
		b.order = b.order[1:]
	}
	b.pages[i] = p
	b.order = append(b.order, i)
	return p, nil
}

func (b *buffer) u32(off int64) (uint32, error) {
	p, err := b.bytes(off, 4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(p), nil
}

func (b *buffer) u16(off int64) (uint16, error) {
	p, err := b.bytes(off, 2)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(p), nil
}

// table is a flatbuffer table: its position and its vtable's.
type table struct {
	b      *buffer
	pos    int64
	vt     int64
	vtSize uint16
}

// tableAt reads the table at pos.
func (b *buffer) tableAt(pos int64) (table, error) {
	so, err := b.u32(pos)
	if err != nil {
		return table{}, err
	}
	vt := pos - int64(int32(so))
	vtSize, err := b.u16(vt)
	if err != nil {
		return table{}, err
	}
	if vtSize < 4 || vtSize%2 != 0 {
		return table{}, malformed("vtable at %d has size %d", vt, vtSize)
	}
	if _, err := b.bytes(vt, int(vtSize)); err != nil {
		return table{}, err
	}
	return table{b: b, pos: pos, vt: vt, vtSize: vtSize}, nil
}

// field returns the absolute position of field slot i, or 0 if absent.
func (t table) field(i int) (int64, error) {
	slot := 4 + 2*i
	if slot+2 > int(t.vtSize) {
		return 0, nil
	}
	off, err := t.b.u16(t.vt + int64(slot))
	if err != nil || off == 0 {
		return 0, err
	}
	return t.pos + int64(off), nil
}

// ref follows a uoffset field to what it points at (0 if absent).
func (t table) ref(i int) (int64, error) {
	at, err := t.field(i)
	if err != nil || at == 0 {
		return 0, err
	}
	rel, err := t.b.u32(at)
	if err != nil {
		return 0, err
	}
	target := at + int64(rel)
	if target >= t.b.size {
		return 0, malformed("field %d at %d points past the end (%d)", i, at, target)
	}
	return target, nil
}

// int32Field reads a scalar field, def when absent.
func (t table) int32Field(i int, def int32) (int32, error) {
	at, err := t.field(i)
	if err != nil || at == 0 {
		return def, err
	}
	v, err := t.b.u32(at)
	return int32(v), err
}

func (t table) int8Field(i int, def int8) (int8, error) {
	at, err := t.field(i)
	if err != nil || at == 0 {
		return def, err
	}
	p, err := t.b.bytes(at, 1)
	if err != nil {
		return def, err
	}
	return int8(p[0]), nil
}

// vector returns the element count and the position of the first element
// of the vector field i (count 0 when absent).
func (t table) vector(i int) (n uint32, first int64, err error) {
	at, err := t.ref(i)
	if err != nil || at == 0 {
		return 0, 0, err
	}
	n, err = t.b.u32(at)
	return n, at + 4, err
}

// stringAt reads the string at pos, refusing ones longer than max.
func (b *buffer) stringAt(pos int64, max int) (string, error) {
	n, err := b.u32(pos)
	if err != nil {
		return "", err
	}
	if int64(n) > int64(max) {
		return "", malformed("string at %d is %d bytes long (limit %d)", pos, n, max)
	}
	p, err := b.bytes(pos+4, int(n))
	return string(p), err
}
