// Package gguf parses GGUF files (llama.cpp's model format, versions 1-3)
// by content: header, every metadata value and the tensor table. It never
// reads tensor data. Every string value that looks like a Jinja template
// (tokenizer.chat_template and friends) goes to the template checker,
// because llama-cpp-python rendered it unsandboxed (CVE-2024-34359).
package gguf

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// Value types of the GGUF spec.
const (
	typeUint8 = iota
	typeInt8
	typeUint16
	typeInt16
	typeUint32
	typeInt32
	typeFloat32
	typeBool
	typeString
	typeArray
	typeUint64
	typeInt64
	typeFloat64
	typeCount
)

var fixedSize = [typeCount]int64{1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8}

// Limits bound parsing. Real files: a few hundred keys, a vocabulary
// array of up to ~260k strings, a few thousand tensors.
type Limits struct {
	MaxKV          uint64
	MaxTensors     uint64
	MaxKeyBytes    uint64
	MaxStringBytes uint64 // longer string values are a format violation
	MaxTemplate    int    // bytes of a template string that are analysed
	MaxArrayDepth  int
}

// DefaultLimits are generous for real files.
func DefaultLimits() Limits {
	return Limits{MaxKV: 1 << 20, MaxTensors: 1 << 22, MaxKeyBytes: 1 << 16,
		MaxStringBytes: 256 << 20, MaxTemplate: 4 << 20, MaxArrayDepth: 8}
}

// String is a metadata string value that looks like a template.
type String struct {
	Key       string
	Offset    int64 // of the first byte of the value
	Text      string
	Truncated bool // only the first MaxTemplate bytes are in Text
}

// Problem is a violation of the format that llama.cpp's loader would
// reject or that no real writer produces.
type Problem struct {
	Offset int64
	Msg    string
}

// File is what Parse learned.
type File struct {
	// Info holds the few metadata values inventories show (architecture,
	// name, file type, context length), as text.
	Info map[string]string
	// Parameters is the element count over all tensors (0 when unknown).
	Parameters  uint64
	Version     uint32
	BigEndian   bool
	TensorCount uint64
	KVCount     uint64
	Alignment   uint64
	DataOffset  int64
	// DataEnd is where the last tensor's padded data ends; -1 when a
	// tensor of an unknown type makes the layout unknowable.
	DataEnd   int64
	Templates []String
	// SkippedTemplates counts the chat templates (tokenizer.chat_template
	// keys, which loaders render) past maxTemplates template-like
	// strings: not kept, so not checked.
	SkippedTemplates int
	Problems         []Problem
}

// maxTemplates bounds the template-like strings one file keeps.
const maxTemplates = 10000

// ParseError is a structural error that stops parsing.
type ParseError struct {
	Offset int64
	Err    error
}

func (e *ParseError) Error() string { return fmt.Sprintf("offset %d: %v", e.Offset, e.Err) }
func (e *ParseError) Unwrap() error { return e.Err }

// Version reads the version from a header, with the byte order it implies.
func Version(head []byte) (uint32, bool, bool) {
	if len(head) < 8 || string(head[:4]) != Magic {
		return 0, false, false
	}
	le := binary.LittleEndian.Uint32(head[4:8])
	if le >= 1 && le <= 3 {
		return le, false, true
	}
	be := binary.BigEndian.Uint32(head[4:8])
	if be >= 2 && be <= 3 {
		return be, true, true
	}
	return le, false, false
}

type parser struct {
	ctx context.Context
	rd  *reader
	lim Limits
	f   *File
	ver uint32
}

// Parse reads the header, metadata and tensor table. The returned File is
// valid (partially filled) even when err is non-nil.
func Parse(ctx context.Context, r io.ReaderAt, size int64, lim Limits) (*File, error) {
	f := &File{Alignment: 32, DataEnd: -1}
	head := make([]byte, 8)
	if n, _ := r.ReadAt(head, 0); n < 8 {
		return f, &ParseError{0, errTruncated}
	}
	ver, big, ok := Version(head)
	f.Version, f.BigEndian = ver, big
	if !ok {
		return f, &ParseError{4, fmt.Errorf("unsupported GGUF version %d", ver)}
	}
	p := &parser{ctx: ctx, rd: newReader(r, size), lim: lim, f: f, ver: ver}
	if big {
		p.rd.order = binary.BigEndian
	}
	p.rd.pos = 8
	if err := p.parse(); err != nil {
		return f, &ParseError{p.rd.pos, err}
	}
	return f, nil
}

// IsChatTemplateKey reports whether a metadata key names a chat template
// that loaders render (tokenizer.chat_template, tokenizer.chat_template.NAME).
func IsChatTemplateKey(key string) bool {
	return strings.HasPrefix(key, "tokenizer.chat_template")
}

func (p *parser) problem(off int64, format string, args ...any) {
	if len(p.f.Problems) < 100 {
		p.f.Problems = append(p.f.Problems, Problem{off, fmt.Sprintf(format, args...)})
	}
}

// count reads a count or length: uint32 in version 1, uint64 after.
func (p *parser) count() (uint64, error) {
	if p.ver == 1 {
		v, err := p.rd.u32()
		return uint64(v), err
	}
	return p.rd.u64()
}

func (p *parser) parse() error {
	var err error
	if p.f.TensorCount, err = p.count(); err != nil {
		return fmt.Errorf("tensor count: %w", err)
	}
	if p.f.KVCount, err = p.count(); err != nil {
		return fmt.Errorf("metadata count: %w", err)
	}
	remaining := p.rd.size - p.rd.pos
	if need := float64(p.f.KVCount)*13 + float64(p.f.TensorCount)*24; impossible(need, remaining) {
		return fmt.Errorf("%d metadata entries and %d tensors cannot fit in %d bytes: %w", p.f.KVCount, p.f.TensorCount, remaining, errImpossible)
	}
	if p.f.TensorCount > p.lim.MaxTensors {
		return fmt.Errorf("tensor count %d exceeds the limit %d", p.f.TensorCount, p.lim.MaxTensors)
	}
	if p.f.KVCount > p.lim.MaxKV {
		return fmt.Errorf("metadata count %d exceeds the limit %d", p.f.KVCount, p.lim.MaxKV)
	}
	// Each entry needs a few bytes at least; counts the file cannot hold
	// are rejected before anything is sized by them.
	kvMin, tiMin := uint64(13), uint64(24)
	if p.ver == 1 {
		kvMin, tiMin = 9, 20
	}
	if p.f.KVCount*kvMin+p.f.TensorCount*tiMin > uint64(remaining) {
		return fmt.Errorf("%d metadata entries and %d tensors cannot fit in %d bytes: %w", p.f.KVCount, p.f.TensorCount, remaining, errTruncated)
	}
	seen := map[string]bool{}
	for i := uint64(0); i < p.f.KVCount; i++ {
		if err := p.ctx.Err(); err != nil {
			return err
		}
		keyOff := p.rd.pos
		key, err := p.key()
		if err != nil {
			return fmt.Errorf("metadata key %d: %w", i, err)
		}
		if seen[key] {
			p.problem(keyOff, "duplicate metadata key %q (llama.cpp rejects the file; other readers keep either value)", key)
		}
		seen[key] = true
		t, err := p.rd.u32()
		if err != nil {
			return fmt.Errorf("metadata %q type: %w", key, err)
		}
		if key == "general.alignment" {
			if err := p.alignment(t, keyOff); err != nil {
				return err
			}
			continue
		}
		if infoKey(key) && (t == typeString || t == typeUint32 || t == typeUint64) {
			if err := p.info(key, t); err != nil {
				return fmt.Errorf("metadata %q: %w", key, err)
			}
			continue
		}
		if err := p.value(key, t, 0); err != nil {
			return fmt.Errorf("metadata %q: %w", key, err)
		}
	}
	return p.tensors()
}

// infoKey names the metadata an inventory shows.
func infoKey(key string) bool {
	switch key {
	case "general.architecture", "general.name", "general.file_type", "general.quantization_version", "general.size_label":
		return true
	}
	return strings.HasSuffix(key, ".context_length") && strings.Count(key, ".") == 1
}

// info reads a short string or an unsigned integer into File.Info.
func (p *parser) info(key string, t uint32) error {
	var v string
	switch t {
	case typeUint32:
		n, err := p.rd.u32()
		if err != nil {
			return err
		}
		v = strconv.FormatUint(uint64(n), 10)
	case typeUint64:
		n, err := p.rd.u64()
		if err != nil {
			return err
		}
		v = strconv.FormatUint(n, 10)
	default:
		n, err := p.count()
		if err != nil {
			return err
		}
		if n > 256 {
			// Too long for an inventory value: read it as any string
			// (templates are checked there).
			return p.strBody(key, n)
		}
		b, err := p.rd.bytes(int(n))
		if err != nil {
			return err
		}
		v = string(b)
	}
	if p.f.Info == nil {
		p.f.Info = map[string]string{}
	}
	if strings.HasSuffix(key, ".context_length") {
		key = "context_length"
	} else {
		key = strings.TrimPrefix(key, "general.")
	}
	p.f.Info[key] = v
	return nil
}

func (p *parser) key() (string, error) {
	n, err := p.count()
	if err != nil {
		return "", err
	}
	if n > p.lim.MaxKeyBytes {
		return "", fmt.Errorf("key length %d exceeds the limit %d", n, p.lim.MaxKeyBytes)
	}
	b, err := p.rd.bytes(int(n))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (p *parser) alignment(t uint32, off int64) error {
	if t != typeUint32 {
		p.problem(off, "general.alignment has type %d, the spec requires uint32", t)
		return p.value("general.alignment", t, 0)
	}
	a, err := p.rd.u32()
	if err != nil {
		return err
	}
	if a == 0 || a&(a-1) != 0 {
		p.problem(off, "general.alignment %d is not a power of two", a)
		return nil
	}
	p.f.Alignment = uint64(a)
	return nil
}

// value reads (and mostly skips) one value of type t.
func (p *parser) value(key string, t uint32, depth int) error {
	switch {
	case t >= typeCount:
		return fmt.Errorf("unknown value type %d", t)
	case t == typeString:
		return p.str(key)
	case t == typeArray:
		return p.array(key, depth)
	}
	if t == typeBool {
		b, err := p.rd.bytes(1)
		if err != nil {
			return err
		}
		if b[0] > 1 {
			p.problem(p.rd.pos-1, "metadata %q: bool value %d is neither 0 nor 1", key, b[0])
		}
		return nil
	}
	return p.rd.skip(fixedSize[t])
}

func (p *parser) str(key string) error {
	n, err := p.count()
	if err != nil {
		return err
	}
	return p.strBody(key, n)
}

// strBody reads a string of n bytes whose length was just read.
func (p *parser) strBody(key string, n uint64) error {
	off := p.rd.pos
	if impossible(float64(n), p.rd.size-off) {
		return fmt.Errorf("string of %d bytes at %d: %w", n, off, errImpossible)
	}
	if n > p.lim.MaxStringBytes {
		return fmt.Errorf("string of %d bytes exceeds the limit %d", n, p.lim.MaxStringBytes)
	}
	if off+int64(n) > p.rd.size {
		return fmt.Errorf("string of %d bytes at %d: %w", n, off, errTruncated)
	}
	// Cheap pre-check on the buffered bytes: most strings (vocabulary
	// tokens) are short and never templates.
	keep := int(n)
	truncated := false
	if keep > p.lim.MaxTemplate {
		keep, truncated = p.lim.MaxTemplate, true
	}
	b, err := p.rd.bytes(keep)
	if err != nil {
		return err
	}
	if bytes.Contains(b, []byte("{%")) || bytes.Contains(b, []byte("{{")) {
		switch {
		case len(p.f.Templates) < maxTemplates:
			p.f.Templates = append(p.f.Templates, String{Key: key, Offset: off, Text: string(b), Truncated: truncated})
		case IsChatTemplateKey(key):
			p.f.SkippedTemplates++
		}
	}
	return p.rd.skip(int64(n) - int64(keep))
}

func (p *parser) array(key string, depth int) error {
	if depth >= p.lim.MaxArrayDepth {
		return fmt.Errorf("arrays nested deeper than %d", p.lim.MaxArrayDepth)
	}
	et, err := p.rd.u32()
	if err != nil {
		return err
	}
	if et >= typeCount {
		return fmt.Errorf("array of unknown type %d", et)
	}
	n, err := p.count()
	if err != nil {
		return err
	}
	remaining := uint64(p.rd.size - p.rd.pos)
	if et != typeString && et != typeArray {
		sz := uint64(fixedSize[et])
		if n > remaining/sz {
			return fmt.Errorf("array of %d elements of %d bytes: %w", n, sz, beyond(float64(n)*float64(sz), int64(remaining)))
		}
		if et == typeBool {
			for i := uint64(0); i < n; i++ {
				if err := p.value(key, et, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		return p.rd.skip(int64(n * sz))
	}
	// Every string or nested array takes at least 4 (v1) or 8 bytes.
	minSize := uint64(8)
	if p.ver == 1 {
		minSize = 4
	}
	if n > remaining/minSize {
		return fmt.Errorf("array of %d elements: %w", n, beyond(float64(n)*float64(minSize), int64(remaining)))
	}
	for i := uint64(0); i < n; i++ {
		if i%4096 == 0 {
			if err := p.ctx.Err(); err != nil {
				return err
			}
		}
		if err := p.value(key, et, depth+1); err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
	}
	return nil
}

// ggmlTypes maps ggml_type to (elements per block, bytes per block).
var ggmlTypes = map[uint32][2]uint64{
	0: {1, 4}, 1: {1, 2}, 2: {32, 18}, 3: {32, 20}, 6: {32, 22}, 7: {32, 24}, 8: {32, 34}, 9: {32, 36},
	10: {256, 84}, 11: {256, 110}, 12: {256, 144}, 13: {256, 176}, 14: {256, 210}, 15: {256, 292},
	16: {256, 66}, 17: {256, 74}, 18: {256, 98}, 19: {256, 50}, 20: {32, 18}, 21: {256, 110},
	22: {256, 82}, 23: {256, 136}, 24: {1, 1}, 25: {1, 2}, 26: {1, 4}, 27: {1, 8}, 28: {1, 8},
	29: {256, 56}, 30: {1, 2}, 34: {256, 54}, 35: {256, 66}, 39: {32, 17},
}

const maxDims = 4

func (p *parser) tensors() error {
	type info struct {
		name   string
		off    int64
		offset uint64
		size   uint64 // 0 when unknown
		known  bool
	}
	infos := make([]info, 0, min(p.f.TensorCount, 1<<16))
	names := map[string]bool{}
	for i := uint64(0); i < p.f.TensorCount; i++ {
		if i%4096 == 0 {
			if err := p.ctx.Err(); err != nil {
				return err
			}
		}
		at := p.rd.pos
		name, err := p.key()
		if err != nil {
			return fmt.Errorf("tensor %d name: %w", i, err)
		}
		if names[name] {
			p.problem(at, "duplicate tensor name %q", name)
		}
		names[name] = true
		nd, err := p.rd.u32()
		if err != nil {
			return fmt.Errorf("tensor %q dims: %w", name, err)
		}
		if nd > maxDims {
			return fmt.Errorf("tensor %q has %d dimensions, more than ggml's %d", name, nd, maxDims)
		}
		elems := uint64(1)
		overflow := false
		var ne0 uint64
		for d := uint32(0); d < nd; d++ {
			v, err := p.count()
			if err != nil {
				return fmt.Errorf("tensor %q dim %d: %w", name, d, err)
			}
			if d == 0 {
				ne0 = v
			}
			if v > math.MaxInt64 || (v != 0 && elems > math.MaxInt64/v) {
				overflow = true
			} else {
				elems *= v
			}
		}
		if !overflow && p.f.Parameters <= math.MaxInt64-elems {
			p.f.Parameters += elems
		}
		typ, err := p.rd.u32()
		if err != nil {
			return fmt.Errorf("tensor %q type: %w", name, err)
		}
		offset, err := p.rd.u64()
		if err != nil {
			return fmt.Errorf("tensor %q offset: %w", name, err)
		}
		ti := info{name: name, off: at, offset: offset}
		if overflow {
			p.problem(at, "tensor %q: element count overflows int64", name)
		} else if bt, ok := ggmlTypes[typ]; ok {
			if nd > 0 && ne0%bt[0] != 0 {
				p.problem(at, "tensor %q: first dimension %d is not a multiple of the block size %d of type %d", name, ne0, bt[0], typ)
			} else {
				ti.size, ti.known = elems/bt[0]*bt[1], true
			}
		}
		if offset%p.f.Alignment != 0 {
			p.problem(at, "tensor %q: data offset %d is not a multiple of the alignment %d", name, offset, p.f.Alignment)
		}
		infos = append(infos, ti)
	}
	align := int64(p.f.Alignment)
	p.f.DataOffset = (p.rd.pos + align - 1) / align * align
	dataSize := p.rd.size - p.f.DataOffset
	// llama.cpp requires tensors to be laid out back to back in table
	// order, each padded to the alignment.
	expected := uint64(0)
	layoutKnown := true
	for _, ti := range infos {
		if !ti.known {
			layoutKnown = false
			continue
		}
		if layoutKnown && ti.offset != expected {
			if ti.offset < expected {
				p.problem(ti.off, "tensor %q at data offset %d overlaps the previous tensor, which ends at %d", ti.name, ti.offset, expected)
			} else {
				p.problem(ti.off, "tensor %q at data offset %d leaves a gap after the previous tensor, which ends at %d", ti.name, ti.offset, expected)
			}
		}
		end := ti.offset + ti.size
		if end < ti.offset || dataSize < 0 || end > uint64(dataSize) {
			p.problem(ti.off, "tensor %q: data [%d, %d) lies outside the %d-byte data section", ti.name, ti.offset, end, max(dataSize, 0))
		}
		padded := (end + uint64(align) - 1) / uint64(align) * uint64(align)
		if layoutKnown {
			expected = padded
		} else if padded > expected {
			expected = padded
		}
	}
	if layoutKnown {
		if len(infos) == 0 {
			p.f.DataEnd = p.rd.pos
		} else if expected <= uint64(p.rd.size) && p.f.DataOffset+int64(expected) >= p.f.DataOffset {
			p.f.DataEnd = p.f.DataOffset + int64(expected)
		}
		// Otherwise the tensors claim more than the file holds (already a
		// finding); DataEnd stays unknown rather than wrapping around.
	}
	return nil
}

// IsTruncation reports whether err means the file ended early.
func IsTruncation(err error) bool { return errors.Is(err, errTruncated) }

// IsImpossible reports whether err is a declared count or size that no file
// of this size could hold by orders of magnitude.
func IsImpossible(err error) bool { return errors.Is(err, errImpossible) }
