// Package numpy scans NumPy's .npy arrays (and, through the zip format,
// the .npy members of .npz archives). A numeric array is raw bytes that
// numpy.load copies into memory; an array whose dtype holds Python objects
// is stored as a pickle that numpy.load(allow_pickle=True) unpickles, so
// that pickle goes through the pickle VM like any other.
package numpy

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
	"unicode/utf8"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/picklefmt"
	"github.com/modelgate/modelgate/core/limits"
	"github.com/modelgate/modelgate/core/rules"
)

// magic starts every .npy file.
var magic = []byte("\x93NUMPY")

// maxHeaderLen bounds the header dict. numpy itself refuses headers over
// 10000 bytes unless the caller trusts the file (allow_pickle=True), so
// real files stay far below this.
const maxHeaderLen = 1 << 20

// Npy is the .npy format.
type Npy struct{}

// Name implements engine.Format.
func (Npy) Name() string { return "npy" }

// Version implements engine.Versioned.
func (Npy) Version() string { return FormatVersion }

// Match implements engine.Format: the magic alone decides, so that
// malformed files are reported by Scan rather than left unidentified.
func (Npy) Match(in *engine.Input) bool { return bytes.HasPrefix(in.Head, magic) }

// Header is a parsed .npy header.
type Header struct {
	Major, Minor int
	// DataOffset is where the array data starts.
	DataOffset int64
	Descr      DType
	Fortran    bool
	Shape      []int64
}

// DType is what modelgate needs to know about an array's dtype.
type DType struct {
	// Object is true when any field holds Python objects (numpy's
	// dtype.hasobject): the data is then a pickle.
	Object bool
	// ItemSize is the size of one element in bytes (meaningless when
	// Object is true).
	ItemSize int64
}

// Count is the number of elements the shape declares (capped at MaxInt64).
func (h *Header) Count() int64 {
	n := int64(1)
	for _, d := range h.Shape {
		n = mulCap(n, d)
	}
	return n
}

// ReadHeader parses the header at the start of r, validating it the way
// numpy.lib.format.read_array_header does.
func ReadHeader(r io.ReaderAt, size int64) (*Header, error) {
	var pre [12]byte
	n, _ := r.ReadAt(pre[:], 0)
	if n < 10 || !bytes.HasPrefix(pre[:], magic) {
		return nil, fmt.Errorf("npy: file too short for the magic and header length")
	}
	h := &Header{Major: int(pre[6]), Minor: int(pre[7])}
	var hlen, start int64
	switch {
	case h.Minor != 0:
		return nil, fmt.Errorf("npy: unsupported format version %d.%d", h.Major, h.Minor)
	case h.Major == 1:
		hlen, start = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case h.Major == 2 || h.Major == 3:
		if n < 12 {
			return nil, fmt.Errorf("npy: file too short for the header length")
		}
		hlen, start = int64(binary.LittleEndian.Uint32(pre[8:12])), 12
	default:
		return nil, fmt.Errorf("npy: unsupported format version %d.%d", h.Major, h.Minor)
	}
	if hlen > maxHeaderLen {
		return nil, fmt.Errorf("npy: header of %d bytes exceeds %d: %w", hlen, maxHeaderLen, errHeaderLimit)
	}
	if start+hlen > size {
		return nil, fmt.Errorf("npy: header of %d bytes runs past the end of the file", hlen)
	}
	raw := make([]byte, hlen)
	if n, err := r.ReadAt(raw, start); n < len(raw) {
		return nil, fmt.Errorf("npy: read header: %w", err)
	}
	h.DataOffset = start + hlen
	text := latin1(raw)
	if h.Major == 3 {
		if !utf8.Valid(raw) {
			return nil, fmt.Errorf("npy: version 3 header is not UTF-8")
		}
		text = string(raw)
	}
	if err := h.parseDict(text); err != nil {
		return nil, err
	}
	return h, nil
}

var errHeaderLimit = errors.New("header size limit")

func latin1(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

func (h *Header) parseDict(text string) error {
	v, err := parseLiteral(text)
	if err != nil {
		return err
	}
	if v.kind != kDict {
		return fmt.Errorf("npy: header is not a dict")
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(v.items); i += 2 {
		k, val := v.items[i], v.items[i+1]
		if k.kind != kStr {
			return fmt.Errorf("npy: header key is not a string")
		}
		// A repeated key keeps the last value, as in Python.
		seen[k.s] = true
		switch k.s {
		case "descr":
			dt, err := parseDType(val, 0)
			if err != nil {
				return err
			}
			h.Descr = dt
		case "fortran_order":
			if val.kind != kBool {
				return fmt.Errorf("npy: fortran_order is not a bool")
			}
			h.Fortran = val.n != 0
		case "shape":
			if val.kind != kTuple {
				return fmt.Errorf("npy: shape is not a tuple")
			}
			h.Shape = h.Shape[:0]
			for _, d := range val.items {
				if d.kind != kInt || d.n < 0 {
					return fmt.Errorf("npy: shape holds a non-integer or negative dimension")
				}
				h.Shape = append(h.Shape, d.n)
			}
		default:
			return fmt.Errorf("npy: unexpected header key %q", k.s)
		}
	}
	if len(seen) != 3 {
		return fmt.Errorf("npy: header lacks descr, fortran_order or shape")
	}
	return nil
}

// parseDType follows numpy.lib.format.descr_to_dtype: a type string, a
// (subdtype, shape) tuple, or a list of (name, descr[, shape]) fields.
func parseDType(v value, depth int) (DType, error) {
	if depth > maxLiteralDepth {
		return DType{}, fmt.Errorf("npy: dtype nested too deep")
	}
	switch v.kind {
	case kStr:
		return parseTypeString(v.s)
	case kTuple:
		if len(v.items) != 2 {
			return DType{}, fmt.Errorf("npy: dtype tuple needs 2 items")
		}
		sub, err := parseDType(v.items[0], depth+1)
		if err != nil {
			return DType{}, err
		}
		return sub.times(v.items[1])
	case kList:
		var out DType
		for _, f := range v.items {
			if f.kind != kTuple || len(f.items) < 2 || len(f.items) > 3 {
				return DType{}, fmt.Errorf("npy: structured dtype field is not a (name, dtype[, shape]) tuple")
			}
			if name := f.items[0]; name.kind != kStr && !(name.kind == kTuple && len(name.items) == 2) {
				return DType{}, fmt.Errorf("npy: structured dtype field name is not a string")
			}
			dt, err := parseDType(f.items[1], depth+1)
			if err != nil {
				return DType{}, err
			}
			if len(f.items) == 3 {
				if dt, err = dt.times(f.items[2]); err != nil {
					return DType{}, err
				}
			}
			out.Object = out.Object || dt.Object
			out.ItemSize = addCap(out.ItemSize, dt.ItemSize)
		}
		return out, nil
	}
	return DType{}, fmt.Errorf("npy: descr is neither a type string nor a field list")
}

// times applies a subarray shape (an int or a tuple of ints).
func (d DType) times(shape value) (DType, error) {
	switch shape.kind {
	case kInt:
		if shape.n < 0 {
			return DType{}, fmt.Errorf("npy: negative subarray shape")
		}
		d.ItemSize = mulCap(d.ItemSize, shape.n)
		return d, nil
	case kTuple:
		for _, s := range shape.items {
			if s.kind != kInt || s.n < 0 {
				return DType{}, fmt.Errorf("npy: bad subarray shape")
			}
			d.ItemSize = mulCap(d.ItemSize, s.n)
		}
		return d, nil
	}
	return DType{}, fmt.Errorf("npy: bad subarray shape")
}

// singleChar are numpy's one-letter type codes with their sizes on a
// 64-bit little-endian platform.
var singleChar = map[byte]int64{
	'?': 1, 'b': 1, 'B': 1, 'h': 2, 'H': 2, 'i': 4, 'I': 4, 'l': 8, 'L': 8,
	'q': 8, 'Q': 8, 'p': 8, 'P': 8, 'e': 2, 'f': 4, 'd': 8, 'g': 16,
	'F': 8, 'D': 16, 'G': 32, 'S': 0, 'a': 0, 'U': 0, 'V': 0, 'M': 8, 'm': 8,
}

// sized are the type kinds followed by a byte count (U by a character
// count).
var sized = map[byte]bool{'b': true, 'i': true, 'u': true, 'f': true, 'c': true, 'S': true, 'a': true, 'U': true, 'V': true, 'M': true, 'm': true}

// parseTypeString understands the type strings numpy writes ("<f4",
// "|S2", "<U10", "<M8[ns]", "|O") and comma-separated lists of them
// ("i4,O"). Any "O" (object) anywhere, or a name numpy maps to object,
// makes the dtype an object dtype.
func parseTypeString(s string) (DType, error) {
	if strings.Contains(s, "O") || strings.Contains(strings.ToLower(s), "object") {
		return DType{Object: true}, nil
	}
	var out DType
	for _, part := range splitTop(s) {
		part = strings.TrimSpace(part)
		mult := int64(1)
		if strings.HasPrefix(part, "(") {
			end := strings.IndexByte(part, ')')
			if end < 0 {
				return DType{}, fmt.Errorf("npy: bad type string %q", s)
			}
			for _, d := range strings.Split(part[1:end], ",") {
				d = strings.TrimSpace(d)
				if d == "" {
					continue
				}
				n, err := strconv.ParseInt(d, 10, 64)
				if err != nil || n < 0 {
					return DType{}, fmt.Errorf("npy: bad type string %q", s)
				}
				mult = mulCap(mult, n)
			}
			part = part[end+1:]
		}
		size, err := typeCodeSize(part)
		if err != nil {
			return DType{}, err
		}
		out.ItemSize = addCap(out.ItemSize, mulCap(size, mult))
	}
	return out, nil
}

// splitTop splits a comma-separated type string outside parentheses.
func splitTop(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

func typeCodeSize(code string) (int64, error) {
	c := strings.TrimLeft(code, "<>|=!")
	if len(code)-len(c) > 1 || c == "" {
		return 0, fmt.Errorf("npy: unknown type code %q", code)
	}
	if i := strings.IndexByte(c, '['); i >= 0 {
		if !strings.HasSuffix(c, "]") || (c[0] != 'M' && c[0] != 'm') {
			return 0, fmt.Errorf("npy: unknown type code %q", code)
		}
		c = c[:i] // datetime unit: M8[ns]
	}
	if len(c) == 1 {
		if n, ok := singleChar[c[0]]; ok {
			return n, nil
		}
		return 0, fmt.Errorf("npy: unknown type code %q", code)
	}
	if !sized[c[0]] {
		return 0, fmt.Errorf("npy: unknown type code %q", code)
	}
	n, err := strconv.ParseInt(c[1:], 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("npy: unknown type code %q", code)
	}
	if c[0] == 'U' {
		return mulCap(n, 4), nil
	}
	return n, nil
}

func mulCap(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

func addCap(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Scan implements engine.Format.
func (Npy) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	h, err := ReadHeader(in.R, in.Size)
	if err != nil {
		return scanUnparsed(env, err)
	}
	if h.Descr.Object {
		return scanObjects(ctx, in, env, h)
	}
	data := in.Size - h.DataOffset
	want := mulCap(h.Count(), h.Descr.ItemSize)
	switch {
	case data < want:
		f := finding.Finding{RuleID: rules.NumpyDataSize, Offset: h.DataOffset,
			Message:  fmt.Sprintf("array data is %d bytes but shape %v of %d-byte items needs %d; numpy.load fails on this file", data, h.Shape, h.Descr.ItemSize, want),
			Evidence: fmt.Sprintf("format %d.%d, data at offset %d", h.Major, h.Minor, h.DataOffset)}
		if limits.Impossible(float64(want), data) {
			// Orders of magnitude beyond the file: a header aimed at a
			// reader's size arithmetic rather than a cut-off download.
			f.Severity = finding.SeverityHigh
			f.Message = fmt.Sprintf("header declares shape %v of %d-byte items (%d bytes) in a file with %d bytes of data: impossible for its size, a header aimed at readers' size arithmetic", h.Shape, h.Descr.ItemSize, want, data)
		}
		env.Report(f)
	case data > want:
		return trailing(ctx, in, env, h.DataOffset+want, fmt.Sprintf("%d bytes follow the %d bytes of array data that shape %v declares; numpy.load ignores them", data-want, want, h.Shape))
	}
	return nil
}

// scanObjects scans an object array: numpy.load makes exactly one
// pickle.load call on the bytes after the header.
func scanObjects(ctx context.Context, in *engine.Input, env *engine.Env, h *Header) error {
	tr, err := picklefmt.ScanRegion(ctx, env, in.R, "", h.DataOffset, in.Size, 1, "numpy")
	if err != nil {
		return err
	}
	if len(tr.Results) == 1 && tr.End < in.Size {
		return trailing(ctx, in, env, tr.End, fmt.Sprintf("%d bytes follow the object array's pickle; numpy.load ignores them", in.Size-tr.End))
	}
	return nil
}

// trailing reports bytes that numpy.load never reads and scans them as
// their own member, so that a pickle or archive hidden there still gets
// its own verdict.
func trailing(ctx context.Context, in *engine.Input, env *engine.Env, off int64, msg string) error {
	env.Report(finding.Finding{RuleID: rules.NumpyDataSize, Offset: off, Message: msg + "; they are scanned as member <trailing>",
		Evidence: fmt.Sprintf("trailing data at offset %d", off)})
	n := in.Size - off
	return env.Recurse(ctx, "<trailing>", io.NewSectionReader(in.R, off, n), n, "")
}

// scanUnparsed handles a file with the magic but a header numpy would
// reject. numpy.load fails before reading any data, so nothing in it runs,
// but the file is reported as not scanned rather than silently passed.
func scanUnparsed(env *engine.Env, herr error) error {
	rule := rules.NotScannedError
	if errors.Is(herr, errHeaderLimit) {
		rule = rules.NotScannedLimit
	}
	env.NotScanned(rule, "", fmt.Sprintf("%v (numpy.load rejects the header too)", herr))
	return nil
}

// FormatVersion changes whenever this package reports differently for the
// same bytes; reports record it next to the format name.
const FormatVersion = "1.0.0"
