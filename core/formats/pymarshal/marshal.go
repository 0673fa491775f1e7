// Package pymarshal decodes CPython's marshal format far enough to say what
// a serialized code object references: the names it loads (co_names), its
// string constants and those of nested functions. It never executes or
// rebuilds anything. Keras stores Lambda layer functions this way
// (base64 of marshal.dumps(func.__code__)).
//
// The decoder is bounded: nesting depth, object count and every length are
// checked against the input, so hostile bytes give an error, never a panic
// or a large allocation.
package pymarshal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Limits bounds one decode.
type Limits struct {
	MaxDepth   int
	MaxObjects int
}

// DefaultLimits are generous for any real function.
func DefaultLimits() Limits { return Limits{MaxDepth: 200, MaxObjects: 200000} }

// Code summarises a decoded code object and everything nested in it.
type Code struct {
	// Layout names the code-object layout that matched: "3.11+" (3.11 to
	// 3.13), "3.8-3.10" or "3.7".
	Layout string
	// Names are the co_names of every code object (globals and attributes
	// the code loads), deduplicated, in first-seen order.
	Names []string
	// Strings are string and bytes constants, deduplicated, first-seen order.
	Strings []string
	// Functions are the co_name of every code object, outermost first.
	Functions []string
	// Filename is the outermost co_filename.
	Filename string
}

// ErrNotCode means the input decodes but its top object is not a code object.
var ErrNotCode = errors.New("marshal: top-level object is not a code object")

type kind int

const (
	kOther kind = iota
	kNone
	kInt
	kStr
	kBytes
	kTuple
	kCode
)

type value struct {
	kind  kind
	s     string
	items []*value
	i     int64
	code  *codeObj
}

type codeObj struct {
	layout   string
	names    []*value
	consts   []*value
	name     string
	filename string
}

type decoder struct {
	b       []byte
	p       int
	refs    []*value
	objects int
	lim     Limits
	layout  string
}

// Decode reads one marshalled code object from b.
func Decode(b []byte, lim Limits) (*Code, error) {
	d := &decoder{b: b, lim: lim}
	v, err := d.object(0)
	if err != nil {
		return nil, err
	}
	if v.kind != kCode {
		return nil, ErrNotCode
	}
	c := &Code{Layout: v.code.layout, Filename: v.code.filename}
	seenN, seenS := map[string]bool{}, map[string]bool{}
	visited := map[*value]bool{}
	var walk func(v *value, depth int)
	walk = func(v *value, depth int) {
		if v == nil || visited[v] || depth > lim.MaxDepth {
			return
		}
		visited[v] = true
		switch v.kind {
		case kCode:
			c.Functions = append(c.Functions, v.code.name)
			for _, n := range v.code.names {
				if n != nil && n.kind == kStr && !seenN[n.s] {
					seenN[n.s] = true
					c.Names = append(c.Names, n.s)
				}
			}
			for _, k := range v.code.consts {
				walk(k, depth+1)
			}
		case kStr, kBytes:
			if !seenS[v.s] {
				seenS[v.s] = true
				c.Strings = append(c.Strings, v.s)
			}
		case kTuple:
			for _, it := range v.items {
				walk(it, depth+1)
			}
		}
	}
	walk(v, 0)
	return c, nil
}

func (d *decoder) need(n int) ([]byte, error) {
	if n < 0 || n > len(d.b)-d.p {
		return nil, fmt.Errorf("marshal: truncated at offset %d (need %d bytes)", d.p, n)
	}
	b := d.b[d.p : d.p+n]
	d.p += n
	return b, nil
}

func (d *decoder) byte1() (byte, error) {
	b, err := d.need(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (d *decoder) int32() (int32, error) {
	b, err := d.need(4)
	if err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(b)), nil
}

// count reads a length and checks it against what is left: every element
// or byte takes at least one input byte.
func (d *decoder) count() (int, error) {
	n, err := d.int32()
	if err != nil {
		return 0, err
	}
	if n < 0 || int(n) > len(d.b)-d.p {
		return 0, fmt.Errorf("marshal: length %d at offset %d exceeds the input", n, d.p)
	}
	return int(n), nil
}

const flagRef = 0x80

func (d *decoder) object(depth int) (*value, error) {
	if depth > d.lim.MaxDepth {
		return nil, fmt.Errorf("marshal: nested deeper than %d", d.lim.MaxDepth)
	}
	d.objects++
	if d.objects > d.lim.MaxObjects {
		return nil, fmt.Errorf("marshal: more than %d objects", d.lim.MaxObjects)
	}
	at := d.p
	code, err := d.byte1()
	if err != nil {
		return nil, err
	}
	ref := code&flagRef != 0
	typ := code &^ flagRef
	// Containers and code objects take their reference slot before their
	// children, as CPython's r_ref_reserve does, so back-references inside
	// them number the same way.
	slot := -1
	if ref {
		slot = len(d.refs)
		d.refs = append(d.refs, nil)
	}
	v, err := d.body(typ, depth, at)
	if err != nil {
		return nil, err
	}
	if slot >= 0 {
		d.refs[slot] = v
	}
	return v, nil
}

func (d *decoder) body(typ byte, depth, at int) (*value, error) {
	switch typ {
	case '0':
		return nil, fmt.Errorf("marshal: NULL object at offset %d", at)
	case 'N':
		return &value{kind: kNone}, nil
	case 'F', 'T', 'S', '.':
		return &value{kind: kOther}, nil
	case 'i':
		n, err := d.int32()
		return &value{kind: kInt, i: int64(n)}, err
	case 'I':
		b, err := d.need(8)
		if err != nil {
			return nil, err
		}
		return &value{kind: kInt, i: int64(binary.LittleEndian.Uint64(b))}, nil
	case 'l':
		n, err := d.int32()
		if err != nil {
			return nil, err
		}
		if n == math.MinInt32 {
			return nil, errors.New("marshal: bad long size")
		}
		if n < 0 {
			n = -n
		}
		_, err = d.need(int(n) * 2)
		return &value{kind: kInt}, err
	case 'g':
		_, err := d.need(8)
		return &value{kind: kOther}, err
	case 'y':
		_, err := d.need(16)
		return &value{kind: kOther}, err
	case 'f':
		return d.shortText(1)
	case 'x':
		return d.shortText(2)
	case 's':
		n, err := d.count()
		if err != nil {
			return nil, err
		}
		b, err := d.need(n)
		return &value{kind: kBytes, s: string(b)}, err
	case 't', 'u', 'a', 'A':
		n, err := d.count()
		if err != nil {
			return nil, err
		}
		b, err := d.need(n)
		if err != nil {
			return nil, err
		}
		// Invalid UTF-8 (CPython allows surrogates) is kept as bytes.
		return &value{kind: kStr, s: string(b)}, nil
	case 'z', 'Z':
		n, err := d.byte1()
		if err != nil {
			return nil, err
		}
		b, err := d.need(int(n))
		return &value{kind: kStr, s: string(b)}, err
	case ')': // small tuple
		n, err := d.byte1()
		if err != nil {
			return nil, err
		}
		return d.sequence(kTuple, int(n), depth)
	case '(', '[', '<', '>':
		n, err := d.count()
		if err != nil {
			return nil, err
		}
		k := kOther
		if typ == '(' {
			k = kTuple
		}
		return d.sequence(k, n, depth)
	case '{':
		v := &value{kind: kOther}
		for {
			if d.p < len(d.b) && d.b[d.p] == '0' {
				d.p++
				return v, nil
			}
			k, err := d.object(depth + 1)
			if err != nil {
				return nil, err
			}
			val, err := d.object(depth + 1)
			if err != nil {
				return nil, err
			}
			v.items = append(v.items, k, val)
		}
	case ':': // slice (Python 3.14)
		return d.sequence(kOther, 3, depth)
	case 'r':
		n, err := d.int32()
		if err != nil {
			return nil, err
		}
		if n < 0 || int(n) >= len(d.refs) || d.refs[n] == nil {
			return nil, fmt.Errorf("marshal: bad reference %d at offset %d", n, at)
		}
		return d.refs[n], nil
	case 'c':
		return d.codeObject(depth)
	}
	return nil, fmt.Errorf("marshal: unknown type code %q at offset %d", typ, at)
}

func (d *decoder) shortText(parts int) (*value, error) {
	for i := 0; i < parts; i++ {
		n, err := d.byte1()
		if err != nil {
			return nil, err
		}
		if _, err := d.need(int(n)); err != nil {
			return nil, err
		}
	}
	return &value{kind: kOther}, nil
}

func (d *decoder) sequence(k kind, n, depth int) (*value, error) {
	v := &value{kind: k}
	for i := 0; i < n; i++ {
		it, err := d.object(depth + 1)
		if err != nil {
			return nil, err
		}
		v.items = append(v.items, it)
	}
	return v, nil
}

// peekKind returns the kind of the next object without consuming it,
// resolving back-references.
func (d *decoder) peekKind() kind {
	if d.p >= len(d.b) {
		return kOther
	}
	switch d.b[d.p] &^ flagRef {
	case 's':
		return kBytes
	case '(', ')':
		return kTuple
	case 'r':
		if d.p+5 <= len(d.b) {
			n := int(int32(binary.LittleEndian.Uint32(d.b[d.p+1:])))
			if n >= 0 && n < len(d.refs) && d.refs[n] != nil {
				return d.refs[n].kind
			}
		}
	}
	return kOther
}

// codeObject reads a code object. Its layout depends on the Python version
// that wrote it, which marshal data does not record: 3.8-3.10 have six
// leading integers, 3.7 and 3.11+ five; 3.11+ then has a bytes object
// (co_localspluskinds) where 3.7 has a tuple (co_freevars).
func (d *decoder) codeObject(depth int) (*value, error) {
	for i := 0; i < 5; i++ {
		if _, err := d.int32(); err != nil {
			return nil, err
		}
	}
	layout := "5"
	if d.peekKind() != kBytes {
		if _, err := d.int32(); err != nil {
			return nil, err
		}
		layout = "3.8-3.10"
	}
	c := &codeObj{}
	obj := func() (*value, error) { return d.object(depth + 1) }
	codeBytes, err := obj()
	if err != nil {
		return nil, err
	}
	if codeBytes == nil || codeBytes.kind != kBytes {
		return nil, errors.New("marshal: code object without bytecode")
	}
	consts, err := obj()
	if err != nil {
		return nil, err
	}
	names, err := obj()
	if err != nil {
		return nil, err
	}
	if consts.kind != kTuple || names.kind != kTuple {
		return nil, errors.New("marshal: code object constants or names are not tuples")
	}
	c.consts, c.names = consts.items, names.items
	if _, err := obj(); err != nil { // varnames / localsplusnames
		return nil, err
	}
	if layout == "5" {
		if d.peekKind() == kBytes {
			layout = "3.11+"
		} else {
			layout = "3.7"
		}
	}
	var rest []string
	switch layout {
	case "3.11+":
		// localspluskinds, filename, name, qualname, firstlineno, linetable,
		// exceptiontable
		rest = []string{"o", "filename", "name", "o", "i", "o", "o"}
	default:
		// freevars, cellvars, filename, name, firstlineno, lnotab
		rest = []string{"o", "o", "filename", "name", "i", "o"}
	}
	for _, r := range rest {
		if r == "i" {
			if _, err := d.int32(); err != nil {
				return nil, err
			}
			continue
		}
		v, err := obj()
		if err != nil {
			return nil, err
		}
		if v != nil && v.kind == kStr {
			switch r {
			case "filename":
				c.filename = v.s
			case "name":
				c.name = v.s
			}
		}
	}
	c.layout = layout
	if d.layout == "" {
		d.layout = layout
	}
	return &value{kind: kCode, code: c}, nil
}

// SortedNames returns Names sorted, for stable messages.
func (c *Code) SortedNames() []string {
	out := append([]string(nil), c.Names...)
	sort.Strings(out)
	return out
}
