// Package safetensors validates safetensors files by content: the 8-byte
// header length, the JSON header (UTF-8, no duplicate keys, known dtypes,
// a str->str __metadata__) and the data layout (every tensor's byte range
// matches its shape and dtype, ranges are in bounds, do not overlap and
// cover the data buffer exactly). The format holds no code, so anything
// else is a crafted file: a polyglot, a header that readers disagree on,
// or a payload appended after the tensors, which is scanned as well.
package safetensors

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/limits"
)

// Rule ids (documented in core/rules/safetensors.go).
const (
	RuleHeader   = "MG701"
	RuleLayout   = "MG702"
	RuleTrailing = "MG703"
)

// MaxHeader is the header size limit of the reference implementation.
const MaxHeader = 100_000_000

// dtypeBits is the size of one element of each dtype the reference
// implementation knows.
var dtypeBits = map[string]uint64{
	"BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
	"I16": 16, "U16": 16, "F16": 16, "BF16": 16,
	"I32": 32, "U32": 32, "F32": 32, "I64": 64, "U64": 64, "F64": 64, "C64": 64,
	"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}

// Tensor is one header entry.
type Tensor struct {
	Name       string
	DType      string
	Shape      []uint64
	Start, End uint64
}

// Problem is one violation. Rule is RuleHeader or RuleLayout.
type Problem struct {
	Rule string
	Msg  string
	// Severity is set (high) when the header declares sizes no file of
	// this size could hold (limits.Impossible): a header aimed at the
	// loader's size arithmetic. Otherwise it is zero, the rule's own.
	Severity finding.Severity
}

// Header is the parsed header.
type Header struct {
	Length   uint64 // JSON bytes after the 8-byte length
	Metadata map[string]string
	Tensors  []Tensor
	Problems []Problem
	// DataEnd is the file offset where the last tensor ends (8+Length when
	// there are none); -1 when the header or an entry could not be read,
	// which leaves the layout unknown.
	DataEnd int64
	// Gaps are unreferenced byte ranges of the data buffer, as file offsets.
	Gaps [][2]int64
	// NoHeader is set when no JSON header could be read at all: the
	// content may be something else that merely starts like safetensors.
	NoHeader bool

	unreadable bool
}

func (h *Header) problem(rule, format string, args ...any) {
	if len(h.Problems) < 100 {
		h.Problems = append(h.Problems, Problem{Rule: rule, Msg: fmt.Sprintf(format, args...)})
	}
}

// impossible records a declared size no file of this size could hold.
func (h *Header) impossible(rule, format string, args ...any) {
	if len(h.Problems) < 100 {
		h.Problems = append(h.Problems, Problem{Rule: rule, Severity: finding.SeverityHigh,
			Msg: fmt.Sprintf(format, args...) + ": impossible for the file size by orders of magnitude, a header aimed at readers' size arithmetic"})
	}
}

// Parse reads and validates the header of a size-byte file.
func Parse(r io.ReaderAt, size int64) *Header {
	h := &Header{DataEnd: -1, NoHeader: true}
	var lb [8]byte
	if size < 8 {
		h.problem(RuleHeader, "file is %d bytes, shorter than the 8-byte header length", size)
		return h
	}
	if _, err := r.ReadAt(lb[:], 0); err != nil && !errors.Is(err, io.EOF) {
		h.problem(RuleHeader, "read header length: %v", err)
		return h
	}
	h.Length = binary.LittleEndian.Uint64(lb[:])
	switch {
	case limits.Impossible(float64(h.Length), size-8):
		h.impossible(RuleHeader, "header length %d in a %d-byte file", h.Length, size)
		return h
	case h.Length > MaxHeader:
		h.problem(RuleHeader, "header length %d exceeds the %d-byte limit of the safetensors library", h.Length, MaxHeader)
		return h
	case int64(h.Length) > size-8:
		h.problem(RuleHeader, "header length %d runs past the end of the %d-byte file", h.Length, size)
		return h
	}
	raw := make([]byte, h.Length)
	if _, err := r.ReadAt(raw, 8); err != nil && !errors.Is(err, io.EOF) {
		h.problem(RuleHeader, "read header: %v", err)
		return h
	}
	h.parseJSON(raw)
	dataLen := uint64(size) - 8 - h.Length
	h.layout(dataLen)
	if h.unreadable {
		return h
	}
	end := uint64(0)
	for _, t := range h.Tensors {
		if t.End > end && t.End <= dataLen {
			end = t.End
		}
	}
	h.DataEnd = int64(8 + h.Length + end)
	return h
}

func (h *Header) parseJSON(raw []byte) {
	h.unreadable = true
	if !utf8.Valid(raw) {
		h.problem(RuleHeader, "header is not valid UTF-8")
		return
	}
	if len(raw) == 0 || raw[0] != '{' {
		h.problem(RuleHeader, "header does not start with '{'")
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	entries, err := object(dec, 0)
	if err != nil {
		h.problem(RuleHeader, "header is not a valid JSON object: %v", err)
		return
	}
	h.unreadable, h.NoHeader = false, false
	rest := raw[dec.InputOffset():]
	if len(bytes.TrimRight(rest, " \t\r\n")) > 0 {
		h.problem(RuleHeader, "%d bytes of non-whitespace follow the JSON header", len(bytes.TrimRight(rest, " \t\r\n")))
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if seen[e.key] {
			h.problem(RuleHeader, "duplicate header key %q: readers disagree on which entry wins", e.key)
		}
		seen[e.key] = true
		if e.key == "__metadata__" {
			h.metadata(e)
			continue
		}
		h.tensor(e)
	}
}

type entry struct {
	key string
	val json.RawMessage
}

// maxEntries bounds the entries of one header object. A tiny entry takes a
// few header bytes but costs kilobytes to decode and check, so the 100 MB
// header limit alone would allow gigabytes; the largest real files hold
// tens of thousands of tensors.
const maxEntries = 1 << 20

// object reads one JSON object, keeping duplicate keys.
func object(dec *json.Decoder, depth int) ([]entry, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("expected an object, found %v", tok)
	}
	var out []entry
	for dec.More() {
		if len(out) >= maxEntries {
			return nil, fmt.Errorf("more than %d entries", maxEntries)
		}
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := kt.(string)
		if !ok {
			return nil, fmt.Errorf("object key is %v", kt)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("value of %q: %w", key, err)
		}
		out = append(out, entry{key: key, val: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return out, nil
}

func subObject(raw json.RawMessage) ([]entry, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return object(dec, 1)
}

func (h *Header) metadata(e entry) {
	if string(bytes.TrimSpace(e.val)) == "null" {
		return
	}
	entries, err := subObject(e.val)
	if err != nil {
		h.problem(RuleHeader, "__metadata__ is not an object of strings: %v", err)
		return
	}
	h.Metadata = map[string]string{}
	for _, m := range entries {
		var s string
		if err := json.Unmarshal(m.val, &s); err != nil {
			h.problem(RuleHeader, "__metadata__[%q] is %s, not a string", m.key, clip(string(m.val)))
			continue
		}
		if _, dup := h.Metadata[m.key]; dup {
			h.problem(RuleHeader, "duplicate __metadata__ key %q", m.key)
		}
		h.Metadata[m.key] = s
	}
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

func (h *Header) tensor(e entry) {
	fields, err := subObject(e.val)
	if err != nil {
		h.problem(RuleHeader, "tensor %q: entry is not an object: %v", e.key, err)
		return
	}
	t := Tensor{Name: e.key}
	got := map[string]bool{}
	ok := true
	for _, f := range fields {
		if got[f.key] {
			h.problem(RuleHeader, "tensor %q: duplicate field %q", e.key, f.key)
		}
		got[f.key] = true
		switch f.key {
		case "dtype":
			if err := json.Unmarshal(f.val, &t.DType); err != nil {
				h.problem(RuleHeader, "tensor %q: dtype is not a string", e.key)
				ok = false
			} else if _, known := dtypeBits[t.DType]; !known {
				h.problem(RuleHeader, "tensor %q: unknown dtype %q", e.key, t.DType)
				ok = false
			}
		case "shape":
			if t.Shape, err = uints(f.val, -1); err != nil {
				h.problem(RuleHeader, "tensor %q: shape %v", e.key, err)
				ok = false
			}
		case "data_offsets":
			offs, err := uints(f.val, 2)
			if err != nil {
				h.problem(RuleHeader, "tensor %q: data_offsets %v", e.key, err)
				ok = false
			} else {
				t.Start, t.End = offs[0], offs[1]
			}
		default:
			h.problem(RuleHeader, "tensor %q: unexpected field %q", e.key, f.key)
		}
	}
	for _, need := range []string{"dtype", "shape", "data_offsets"} {
		if !got[need] {
			h.problem(RuleHeader, "tensor %q: missing %s", e.key, need)
			ok = false
		}
	}
	if ok {
		h.Tensors = append(h.Tensors, t)
	} else {
		h.unreadable = true
	}
}

// uints decodes an array of non-negative integers (of length n if n >= 0).
// The array is streamed so that a huge one costs no memory, and numbers
// are length-checked before big.Int parses them, which is quadratic in the
// digit count.
func uints(raw json.RawMessage, n int) ([]uint64, error) {
	const maxElems, maxDigits = 64, 20 // math.MaxInt64 has 19 digits
	// raw is valid JSON (it was decoded as a RawMessage), so a long array
	// of plain numbers can be counted by its commas without tokenizing it.
	if count := bytes.Count(raw, []byte(",")) + 1; count > maxElems && onlyNumbers(raw) {
		if n >= 0 && count != n {
			return nil, fmt.Errorf("has %d elements, want %d", count, n)
		}
		return nil, fmt.Errorf("has %d elements", count)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, fmt.Errorf("is not an array of integers")
	}
	out := []uint64{}
	count := 0
	var bad string
	for dec.More() {
		tok, err := dec.Token()
		v, ok := tok.(json.Number)
		if err != nil || !ok {
			return nil, fmt.Errorf("is not an array of integers")
		}
		count++
		if count > maxElems || bad != "" {
			continue
		}
		if len(v) > maxDigits {
			bad = string(v[:maxDigits]) + "..."
			continue
		}
		b, ok := new(big.Int).SetString(v.String(), 10)
		if !ok || b.Sign() < 0 || !b.IsUint64() || b.Uint64() > math.MaxInt64 {
			bad = v.String()
			continue
		}
		out = append(out, b.Uint64())
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("is not an array of integers")
	}
	if n >= 0 && count != n {
		return nil, fmt.Errorf("has %d elements, want %d", count, n)
	}
	if count > maxElems {
		return nil, fmt.Errorf("has %d elements", count)
	}
	if bad != "" {
		return nil, fmt.Errorf("element %s is not a non-negative integer", bad)
	}
	return out, nil
}

// onlyNumbers reports whether raw is one flat array of JSON numbers.
func onlyNumbers(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '[' || raw[len(raw)-1] != ']' {
		return false
	}
	for _, c := range raw[1 : len(raw)-1] {
		switch {
		case c >= '0' && c <= '9', c == ',', c == '-', c == '+', c == '.', c == 'e', c == 'E',
			c == ' ', c == '\t', c == '\r', c == '\n':
		default:
			return false
		}
	}
	return true
}

// layout checks the tensors against the data buffer of dataLen bytes.
func (h *Header) layout(dataLen uint64) {
	ts := append([]Tensor(nil), h.Tensors...)
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].Start != ts[j].Start {
			return ts[i].Start < ts[j].Start
		}
		return ts[i].End < ts[j].End
	})
	prev := uint64(0)
	prevName := ""
	for _, t := range ts {
		if t.End < t.Start {
			h.problem(RuleLayout, "tensor %q: data_offsets [%d, %d) end before they start", t.Name, t.Start, t.End)
			continue
		}
		if want, ok := byteSize(t); !ok {
			// Over 2^64 bytes: no file holds that.
			h.impossible(RuleLayout, "tensor %q: shape %v of %s overflows 64 bits of bytes", t.Name, t.Shape, t.DType)
		} else if want != t.End-t.Start {
			if limits.Impossible(float64(want), int64(dataLen)) {
				h.impossible(RuleLayout, "tensor %q: shape %v of %s needs %d bytes in a %d-byte data buffer", t.Name, t.Shape, t.DType, want, dataLen)
			} else {
				h.problem(RuleLayout, "tensor %q: shape %v of %s needs %d bytes but data_offsets [%d, %d) hold %d", t.Name, t.Shape, t.DType, want, t.Start, t.End, t.End-t.Start)
			}
		}
		if t.End > dataLen {
			if limits.Impossible(float64(t.End), int64(dataLen)) {
				h.impossible(RuleLayout, "tensor %q: data_offsets [%d, %d) in a %d-byte data buffer", t.Name, t.Start, t.End, dataLen)
			} else {
				h.problem(RuleLayout, "tensor %q: data_offsets [%d, %d) run past the %d-byte data buffer", t.Name, t.Start, t.End, dataLen)
			}
		}
		switch {
		case t.Start < prev:
			h.problem(RuleLayout, "tensor %q at [%d, %d) overlaps tensor %q, which ends at %d", t.Name, t.Start, t.End, prevName, prev)
		case t.Start > prev:
			h.problem(RuleLayout, "%d unreferenced bytes before tensor %q at offset %d of the data buffer", t.Start-prev, t.Name, t.Start)
			if t.Start <= dataLen && len(h.Gaps) < 16 {
				base := int64(8 + h.Length)
				h.Gaps = append(h.Gaps, [2]int64{base + int64(prev), base + int64(t.Start)})
			}
		}
		if t.End > prev {
			prev, prevName = t.End, t.Name
		}
	}
}

func byteSize(t Tensor) (uint64, bool) {
	n := new(big.Int).SetUint64(1)
	for _, d := range t.Shape {
		n.Mul(n, new(big.Int).SetUint64(d))
	}
	n.Mul(n, new(big.Int).SetUint64(dtypeBits[t.DType]))
	n.Add(n, big.NewInt(7))
	n.Rsh(n, 3)
	if !n.IsUint64() {
		return 0, false
	}
	return n.Uint64(), true
}

// Format is the engine format for safetensors files.
type Format struct{}

// Name implements engine.Format.
func (Format) Name() string { return "safetensors" }

// Version implements engine.Versioned.
func (Format) Version() string { return FormatVersion }

// Match implements engine.Format. Safetensors has no magic number, so the
// format claims content only when it really is one: a header length that
// fits the file and the reference implementation's limit, and a header
// that, as far as the head shows, is a JSON object of tensor entries (each
// an object whose fields are dtype, shape or data_offsets) or __metadata__.
// Source code and JSON documents that merely have a '{' at offset 8 have an
// ASCII "length" of quintillions of bytes and are left to other formats.
// Header lengths with a 0x80 low byte look like a pickle PROTO opcode, so
// this format must come before pickle.
func (Format) Match(in *engine.Input) bool {
	if in.Context == contextRejected {
		return false
	}
	h := in.Head
	if len(h) < 10 || h[8] != '{' {
		return false
	}
	n := binary.LittleEndian.Uint64(h[:8])
	if n < 2 {
		return false
	}
	if n > MaxHeader || n > uint64(in.Size-8) {
		// An impossible length is worth a finding only in a file that is
		// otherwise safetensors: a binary length (text has printable bytes
		// there) followed by tensor entries.
		return !printable(h[:8]) && headerPrefixOK(h[8:], false)
	}
	return headerPrefixOK(h[8:min(uint64(len(h)), 8+n)], n <= uint64(len(h)-8))
}

func printable(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}

// headerPrefixOK walks the JSON tokens of a header prefix (the whole header
// when complete) and reports whether they are the start of an object of
// tensor entries. A prefix cut short by the head is accepted once at least
// one entry field looked right.
func headerPrefixOK(prefix []byte, complete bool) bool {
	dec := json.NewDecoder(bytes.NewReader(prefix))
	dec.UseNumber()
	fields := 0
	cut := func(err error) bool { return !complete && fields > 0 && truncated(err) }
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return cut(err)
		}
		if tok == json.Delim('}') {
			return true // the end of the header object; {} is a valid header
		}
		key, ok := tok.(string)
		if !ok {
			return false
		}
		if tok, err = dec.Token(); err != nil {
			return cut(err)
		}
		if key == "__metadata__" && tok == nil {
			fields++
			continue
		}
		if tok != json.Delim('{') {
			return false
		}
		for {
			if tok, err = dec.Token(); err != nil {
				return cut(err)
			}
			if tok == json.Delim('}') {
				break
			}
			field, ok := tok.(string)
			if !ok || (key != "__metadata__" && !tensorFields[field]) {
				return false
			}
			fields++
			if err := skipValue(dec); err != nil {
				return cut(err)
			}
		}
	}
}

var tensorFields = map[string]bool{"dtype": true, "shape": true, "data_offsets": true}

// skipValue consumes one JSON value of an entry field. Nesting is bounded
// by the prefix, which is at most engine.HeadSize bytes.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

func truncated(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// contextRejected marks content handed back to the engine because its
// safetensors-like start led nowhere.
const contextRejected = "safetensors-rejected"

// Scan implements engine.Format.
func (Format) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	h := Parse(in.R, in.Size)
	for _, p := range h.Problems {
		off := int64(-1)
		if p.Rule == RuleHeader {
			off = 8
		}
		env.Report(finding.Finding{RuleID: p.Rule, Severity: p.Severity, Offset: off, Message: "safetensors " + p.Msg})
	}
	if !h.NoHeader {
		properties(env, h)
	}
	if h.NoHeader {
		// Sixteen bytes are all this format claimed on; let the other
		// formats look at the content too, so a pickle or archive that
		// happens to start like this is still analysed.
		return env.Recurse(ctx, "as-other-format", in.R, in.Size, contextRejected)
	}
	// Unreferenced bytes are no tensor's data: scan them like any content.
	for _, g := range h.Gaps {
		member := fmt.Sprintf("gap@%d", g[0])
		if err := env.Recurse(ctx, member, io.NewSectionReader(in.R, g[0], g[1]-g[0]), g[1]-g[0], ""); err != nil {
			return err
		}
	}
	if h.DataEnd < 0 || h.DataEnd >= in.Size {
		return nil
	}
	extra := in.Size - h.DataEnd
	member := fmt.Sprintf("trailing@%d", h.DataEnd)
	env.Report(finding.Finding{RuleID: RuleTrailing, Offset: h.DataEnd,
		Message: fmt.Sprintf("%d bytes follow the last tensor's data; the safetensors library refuses such files, other loaders may read them. Scanned them as member %s", extra, member)})
	return env.Recurse(ctx, member, io.NewSectionReader(in.R, h.DataEnd, extra), extra, "")
}

// properties records what the header says, for inventories: the tensor
// count, the dtypes and the parameter count (elements over all tensors).
func properties(env *engine.Env, h *Header) {
	env.SetProperty("safetensors:tensors", strconv.Itoa(len(h.Tensors)))
	dtypes := map[string]bool{}
	var params uint64
	overflow := false
	for _, t := range h.Tensors {
		dtypes[t.DType] = true
		n := uint64(1)
		for _, d := range t.Shape {
			if d != 0 && n > math.MaxUint64/d {
				overflow = true
			}
			n *= d
		}
		if params > math.MaxUint64-n {
			overflow = true
		}
		params += n
	}
	names := make([]string, 0, len(dtypes))
	for d := range dtypes {
		names = append(names, d)
	}
	sort.Strings(names)
	env.SetProperty("safetensors:dtypes", strings.Join(names, ","))
	if !overflow {
		env.SetProperty("safetensors:parameters", strconv.FormatUint(params, 10))
	}
	if v, ok := h.Metadata["format"]; ok {
		env.SetProperty("safetensors:metadata_format", v)
	}
}

// FormatVersion changes whenever this package reports differently for the
// same bytes; reports record it next to the format name.
const FormatVersion = "1.2.0"
