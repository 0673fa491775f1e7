// Package pickle is a static emulator of CPython's C unpickler (_pickle). It
// traces which globals a pickle resolves and which callables it invokes with
// which arguments, using symbolic values. It never imports or executes
// anything, and it never judges: package policy does.
package pickle

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Kind tags a symbolic value.
type Kind uint8

// Value kinds.
const (
	KUnknown Kind = iota
	KNone
	KBool
	KInt
	KFloat
	KStr
	KBytes
	KTuple
	KList
	KDict
	KSet
	KFrozenSet
	KGlobal     // result of GLOBAL/STACK_GLOBAL/INST/EXT
	KCall       // result of REDUCE/OBJ/INST/NEWOBJ
	KPersistent // result of PERSID/BINPERSID
	KBuffer     // out-of-band buffer
)

// maxItems is how many items of a container are kept; the rest are counted.
// Call arguments are small tuples, so this bounds memory without hiding
// evidence.
const maxItems = 64

// maxInline bounds bytes kept for a string or bytes value; longer values
// keep their length and a prefix, plus their offset for re-reading.
const maxInline = 1 << 20

// Value is a symbolic pickle value. Numbers are stored inline so numeric
// pickles allocate nothing per opcode.
type Value struct {
	Kind Kind
	// lx holds a short string or bytes value kept in the value itself
	// while it is private to the VM (O nil): its low byte is 1 + the
	// length, the other three its bytes 8 to 10, N its first eight.
	// Records are full of such strings (names, decimal digits, datetime
	// state). Values the trace exposes never have one (see pools.expose).
	// (Four fields of at most a word each keep Value in registers.)
	lx uint32
	// N is the number of a KInt or KBool, and the IEEE 754 bits of a
	// KFloat (see Float): one word for both keeps the stack, the memo and
	// container items at three words a value.
	N int64
	O *Object // everything else
}

// maxInlineStr is the longest string a Value holds itself.
const maxInlineStr = 11

// inlineStr returns a string or bytes value holding b (at most
// maxInlineStr bytes) itself.
func inlineStr(k Kind, b []byte) Value {
	var buf [16]byte
	copy(buf[:], b)
	return Value{Kind: k, N: int64(binary.LittleEndian.Uint64(buf[:])),
		lx: uint32(len(b)+1) | binary.LittleEndian.Uint32(buf[7:])&^0xff}
}

// inlineText returns the text of a value made by inlineStr.
func (v Value) inlineText() string {
	var buf [16]byte
	binary.LittleEndian.PutUint64(buf[:], uint64(v.N))
	binary.LittleEndian.PutUint32(buf[8:], v.lx>>8)
	return string(buf[:v.lx&0xff-1])
}

// text returns a string or bytes value's kept text and full length.
func (v Value) text() (string, int64) {
	if v.O != nil {
		return v.O.S, v.O.Len
	}
	if v.lx != 0 {
		s := v.inlineText()
		return s, int64(len(s))
	}
	return "", 0
}

// Float returns a KFloat's number.
func (v Value) Float() float64 { return math.Float64frombits(uint64(v.N)) }

func floatValue(f float64) Value { return Value{Kind: KFloat, N: int64(math.Float64bits(f))} }

// Object carries the payload of non-scalar values.
type Object struct {
	S string // KStr, KBytes (possibly a prefix, see Len)
	// Len is the full length of a string or bytes value, or a
	// container's number of items including dropped ones (one field for
	// both keeps an Object in the 80-byte size class); Off is the stream
	// offset of a string's first byte (for re-reading values longer than
	// maxInline).
	Len int64
	Off int64
	// Items are tuple/list/set items, or alternating keys and values of a dict.
	Items []Value
	// Names holds a KGlobal's Module and Name (nil for other kinds). A
	// pointer, because most objects are strings and containers: it keeps
	// Object in a smaller size class.
	*Names
	// Call is set for KCall.
	Call *Call
	// PID is the persistent id, for KPersistent.
	PID *Value
	// pool is the class of an object the VM may recycle, shared whether
	// anything but its one owner references it, exposed whether the
	// trace does (see pool.go).
	pool            uint8
	shared, exposed bool
	// lossy marks a container that dropped an item (past maxItems) that
	// was not plain data (see dataOnly): judging it by the items kept
	// would miss that item.
	lossy bool
	// routine caches Options.Routine for a KGlobal (0: not asked yet,
	// 1: no, 2: yes): a memoized global is one object for all its calls.
	routine uint8
	// inert caches Options.Inert for a KGlobal, likewise.
	inert uint8
}

// Names are a global's module and name as the stream gives them.
type Names struct{ Module, Name string }

func globalValue(module, name string) Value {
	p := &struct {
		o Object
		n Names
	}{n: Names{Module: module, Name: name}}
	p.o.Names = &p.n
	return Value{Kind: KGlobal, O: &p.o}
}

// Truncated reports whether a string/bytes value is longer than kept.
func (o *Object) Truncated() bool { return int64(len(o.S)) < o.Len }

var (
	noneValue    = Value{Kind: KNone}
	unknownValue = Value{Kind: KUnknown}
)

func strValue(s string, off int64, n int64) Value {
	return Value{Kind: KStr, O: &Object{S: s, Len: n, Off: off}}
}

// IsStr reports whether v is a constant string.
func (v Value) IsStr() bool { return v.Kind == KStr && (v.O != nil || v.lx != 0) }

// Str returns a constant string's (or bytes value's) text.
func (v Value) Str() string {
	s, _ := v.text()
	return s
}

// String renders v compactly, as Python source where possible, for evidence.
func (v Value) String() string {
	var b strings.Builder
	v.render(&b, 0)
	return b.String()
}

func (v Value) render(b *strings.Builder, depth int) {
	if depth > 4 || b.Len() > 400 {
		b.WriteString("...")
		return
	}
	switch v.Kind {
	case KNone:
		b.WriteString("None")
	case KBool:
		if v.N != 0 {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case KInt:
		b.WriteString(strconv.FormatInt(v.N, 10))
	case KFloat:
		b.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case KStr:
		s, n := v.text()
		kept := len(s)
		if len(s) > 200 {
			s = s[:200]
		}
		b.WriteString(strconv.Quote(s))
		if int64(kept) < n || kept > 200 {
			fmt.Fprintf(b, "...(%d chars)", n)
		}
	case KBytes:
		s, n := v.text()
		if len(s) > 48 {
			s = s[:48]
		}
		b.WriteString("b")
		b.WriteString(strconv.Quote(s))
		if n > int64(len(s)) {
			fmt.Fprintf(b, "...(%d bytes)", n)
		}
	case KTuple, KList, KSet, KFrozenSet:
		open, close := "(", ")"
		switch v.Kind {
		case KList:
			open, close = "[", "]"
		case KSet:
			open, close = "{", "}"
		case KFrozenSet:
			open, close = "frozenset({", "})"
		}
		b.WriteString(open)
		for i, it := range v.O.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			it.render(b, depth+1)
		}
		if v.O.Len > int64(len(v.O.Items)) {
			fmt.Fprintf(b, ", ...%d more", v.O.Len-int64(len(v.O.Items)))
		}
		if v.Kind == KTuple && len(v.O.Items) == 1 {
			b.WriteString(",")
		}
		b.WriteString(close)
	case KDict:
		b.WriteString("{")
		for i := 0; i+1 < len(v.O.Items); i += 2 {
			if i > 0 {
				b.WriteString(", ")
			}
			v.O.Items[i].render(b, depth+1)
			b.WriteString(": ")
			v.O.Items[i+1].render(b, depth+1)
		}
		b.WriteString("}")
	case KGlobal:
		b.WriteString(v.O.Module + "." + v.O.Name)
	case KCall:
		c := v.O.Call
		c.Callee.render(b, depth+1)
		b.WriteString("(")
		for i, a := range c.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			a.render(b, depth+1)
		}
		b.WriteString(")")
	case KPersistent:
		b.WriteString("persistent_load(")
		if v.O.PID != nil {
			v.O.PID.render(b, depth+1)
		}
		b.WriteString(")")
	case KBuffer:
		b.WriteString("<buffer>")
	default:
		b.WriteString("<?>")
	}
}

// DroppedOnlyData reports whether every item a container dropped (past
// the maxItems it keeps) was plain data: numbers, strings, bytes, None,
// booleans, buffers, persistent ids or unshared containers of those. A
// container judged by its kept items is then judged soundly.
func (o *Object) DroppedOnlyData() bool { return !o.lossy }

// dataOnly reports whether a value about to be dropped from a container is
// plain data. A shared container may still change through its other
// references, and a nested one is not looked into, so neither is.
func dataOnly(v Value) bool {
	if scalarData(v.Kind) {
		return true
	}
	switch v.Kind {
	case KTuple, KList, KDict, KSet, KFrozenSet:
		o := v.O
		if o == nil || o.shared || o.lossy {
			return false
		}
		for _, it := range o.Items {
			if !scalarData(it.Kind) {
				return false
			}
		}
		return true
	}
	return false
}

func scalarData(k Kind) bool {
	switch k {
	case KNone, KBool, KInt, KFloat, KStr, KBytes, KBuffer, KPersistent:
		return true
	}
	return false
}
