// Package protoscan walks protobuf wire-format messages straight from an
// io.ReaderAt, without generated code and without loading the file: large
// payloads (tensor bytes) are skipped by offset, so a multi-GB model costs
// only the reads of its small fields. Every walk is bounded by nesting depth,
// a total field count and the context.
package protoscan

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/modelgate/modelgate/core/limits"
)

// ErrMalformed marks input that is not valid protobuf wire format.
var ErrMalformed = errors.New("malformed protobuf")

// ErrImpossible marks (together with ErrMalformed) a declared length no
// file of this size could hold by orders of magnitude (limits.Impossible):
// a message aimed at a reader's size arithmetic, not a truncated file.
var ErrImpossible = errors.New("declared length impossible for the file size")

// ErrLimit marks a walk stopped by Limits.
var ErrLimit = errors.New("protobuf limit exceeded")

// Limits bound one Reader across all its walks.
type Limits struct {
	// MaxDepth bounds message nesting (the root message is depth 0).
	MaxDepth int
	// MaxFields bounds the total number of fields visited.
	MaxFields int64
}

// DefaultLimits match what protobuf's own C++ parser accepts for depth and
// allow tens of millions of fields, far beyond real graphs.
func DefaultLimits() Limits { return Limits{MaxDepth: 100, MaxFields: 50_000_000} }

// Field is one decoded field. Varint, fixed32 and fixed64 values are in
// Value; length-delimited payloads are located by Off and Len and read on
// demand.
type Field struct {
	Num   protowire.Number
	Type  protowire.Type
	Value uint64
	Off   int64
	Len   int64
	// Depth is the nesting depth of the message holding this field.
	Depth int
}

// IsBytes reports whether the field is length-delimited.
func (f Field) IsBytes() bool { return f.Type == protowire.BytesType }

const window = 64 << 10

// Reader walks messages in r. It is not safe for concurrent use.
type Reader struct {
	r      io.ReaderAt
	size   int64
	lim    Limits
	fields int64
	buf    []byte
	bufOff int64
}

// New returns a Reader over size bytes of r.
func New(r io.ReaderAt, size int64, lim Limits) *Reader {
	d := DefaultLimits()
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = d.MaxDepth
	}
	if lim.MaxFields <= 0 {
		lim.MaxFields = d.MaxFields
	}
	return &Reader{r: r, size: size, lim: lim}
}

// Size is the number of bytes the Reader covers.
func (p *Reader) Size() int64 { return p.size }

// Fields is how many fields have been visited so far.
func (p *Reader) Fields() int64 { return p.fields }

// peek returns up to n bytes at off, never past limit. The slice is valid
// until the next read.
func (p *Reader) peek(off int64, n int, limit int64) ([]byte, error) {
	if rem := limit - off; int64(n) > rem {
		n = int(rem)
	}
	if n <= 0 {
		return nil, nil
	}
	if off >= p.bufOff && off+int64(n) <= p.bufOff+int64(len(p.buf)) {
		s := off - p.bufOff
		return p.buf[s : s+int64(n)], nil
	}
	want := int64(window)
	if rem := p.size - off; want > rem {
		want = rem
	}
	if want < int64(n) {
		want = int64(n)
	}
	if cap(p.buf) < int(want) {
		p.buf = make([]byte, want)
	}
	p.buf = p.buf[:want]
	m, err := p.r.ReadAt(p.buf, off)
	p.buf = p.buf[:m]
	p.bufOff = off
	if m < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read at %d: %w", off, err)
	}
	return p.buf[:n], nil
}

// Walk calls fn for every field of the message stored in [off, off+n) at
// nesting depth. Groups are skipped. An error from fn stops the walk and is
// returned unchanged.
func (p *Reader) Walk(ctx context.Context, off, n int64, depth int, fn func(Field) error) error {
	if depth > p.lim.MaxDepth {
		return fmt.Errorf("%w: messages nested deeper than %d", ErrLimit, p.lim.MaxDepth)
	}
	end := off + n
	if off < 0 || n < 0 || end > p.size {
		return fmt.Errorf("%w: message [%d,+%d) outside %d bytes", ErrMalformed, off, n, p.size)
	}
	pos := off
	for pos < end {
		f, next, err := p.field(ctx, pos, end, depth)
		if err != nil {
			return err
		}
		pos = next
		switch f.Type {
		case protowire.StartGroupType:
			continue
		case protowire.EndGroupType:
			return fmt.Errorf("%w: end of group %d outside a group", ErrMalformed, f.Num)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// field decodes the field at pos; groups are skipped whole.
func (p *Reader) field(ctx context.Context, pos, end int64, depth int) (Field, int64, error) {
	p.fields++
	if p.fields > p.lim.MaxFields {
		return Field{}, 0, fmt.Errorf("%w: more than %d fields", ErrLimit, p.lim.MaxFields)
	}
	if p.fields&1023 == 0 {
		if err := ctx.Err(); err != nil {
			return Field{}, 0, err
		}
	}
	b, err := p.peek(pos, binary.MaxVarintLen64, end)
	if err != nil {
		return Field{}, 0, err
	}
	num, typ, tl := protowire.ConsumeTag(b)
	if tl < 0 {
		return Field{}, 0, fmt.Errorf("%w: bad tag at offset %d", ErrMalformed, pos)
	}
	pos += int64(tl)
	f := Field{Num: num, Type: typ, Depth: depth}
	switch typ {
	case protowire.VarintType:
		b, err := p.peek(pos, binary.MaxVarintLen64, end)
		if err != nil {
			return f, 0, err
		}
		v, l := protowire.ConsumeVarint(b)
		if l < 0 {
			return f, 0, fmt.Errorf("%w: bad varint at offset %d", ErrMalformed, pos)
		}
		f.Value = v
		return f, pos + int64(l), nil
	case protowire.Fixed32Type:
		b, err := p.peek(pos, 4, end)
		if err != nil || len(b) < 4 {
			return f, 0, fmt.Errorf("%w: truncated fixed32 at offset %d", ErrMalformed, pos)
		}
		f.Value = uint64(binary.LittleEndian.Uint32(b))
		return f, pos + 4, nil
	case protowire.Fixed64Type:
		b, err := p.peek(pos, 8, end)
		if err != nil || len(b) < 8 {
			return f, 0, fmt.Errorf("%w: truncated fixed64 at offset %d", ErrMalformed, pos)
		}
		f.Value = binary.LittleEndian.Uint64(b)
		return f, pos + 8, nil
	case protowire.BytesType:
		b, err := p.peek(pos, binary.MaxVarintLen64, end)
		if err != nil {
			return f, 0, err
		}
		v, l := protowire.ConsumeVarint(b)
		if l < 0 {
			return f, 0, fmt.Errorf("%w: bad length at offset %d", ErrMalformed, pos)
		}
		pos += int64(l)
		if v > uint64(end-pos) {
			if limits.Impossible(float64(v), p.size-pos) {
				return f, 0, fmt.Errorf("%w: %w: field %d length %d at offset %d of a %d-byte file", ErrMalformed, ErrImpossible, num, v, pos, p.size)
			}
			return f, 0, fmt.Errorf("%w: field %d length %d runs past its message at offset %d", ErrMalformed, num, v, pos)
		}
		f.Off, f.Len = pos, int64(v)
		return f, pos + int64(v), nil
	case protowire.StartGroupType:
		if depth+1 > p.lim.MaxDepth {
			return f, 0, fmt.Errorf("%w: groups nested deeper than %d", ErrLimit, p.lim.MaxDepth)
		}
		for {
			if pos >= end {
				return f, 0, fmt.Errorf("%w: unterminated group %d", ErrMalformed, num)
			}
			g, next, err := p.field(ctx, pos, end, depth+1)
			if err != nil {
				return f, 0, err
			}
			pos = next
			if g.Type == protowire.EndGroupType {
				if g.Num != num {
					return f, 0, fmt.Errorf("%w: group %d closed by %d", ErrMalformed, num, g.Num)
				}
				return f, pos, nil
			}
		}
	case protowire.EndGroupType:
		if depth == 0 {
			return f, 0, fmt.Errorf("%w: unexpected end of group at offset %d", ErrMalformed, pos)
		}
		return f, pos, nil
	}
	return f, 0, fmt.Errorf("%w: wire type %d at offset %d", ErrMalformed, typ, pos)
}

// Sub walks the payload of a length-delimited field as a nested message.
func (p *Reader) Sub(ctx context.Context, f Field, fn func(Field) error) error {
	if !f.IsBytes() {
		return fmt.Errorf("%w: field %d is wire type %d, not a message", ErrMalformed, f.Num, f.Type)
	}
	return p.Walk(ctx, f.Off, f.Len, f.Depth+1, fn)
}

// Bytes reads the payload of a length-delimited field, or its first max
// bytes when it is longer (truncated is then true).
func (p *Reader) Bytes(f Field, max int) (b []byte, truncated bool, err error) {
	if !f.IsBytes() {
		return nil, false, fmt.Errorf("%w: field %d is wire type %d, not bytes", ErrMalformed, f.Num, f.Type)
	}
	n := f.Len
	if n > int64(max) {
		n, truncated = int64(max), true
	}
	out := make([]byte, n)
	if m, err := p.r.ReadAt(out, f.Off); int64(m) < n {
		return nil, false, fmt.Errorf("read field %d at offset %d: %w", f.Num, f.Off, err)
	}
	return out, truncated, nil
}

// String is Bytes as a string; longer payloads are cut at max bytes.
func (p *Reader) String(f Field, max int) (string, error) {
	b, _, err := p.Bytes(f, max)
	return string(b), err
}
