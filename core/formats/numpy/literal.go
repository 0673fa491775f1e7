package numpy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// value is a parsed Python literal: the subset numpy writes in .npy
// headers (dict, list, tuple, str, int, bool, None).
type value struct {
	kind  kind
	s     string  // kStr
	n     int64   // kInt
	items []value // kList, kTuple; kDict as key, value pairs
}

type kind int

const (
	kNone kind = iota
	kBool
	kInt
	kStr
	kList
	kTuple
	kDict
)

// Bounds for hostile headers; real ones are a few hundred bytes with
// shallow nesting.
const (
	maxLiteralDepth = 32
	maxLiteralItems = 100000
)

var errSyntax = errors.New("npy header: not a python literal")

// parseLiteral parses one Python literal occupying all of src (apart from
// surrounding whitespace), the way ast.literal_eval accepts numpy headers.
// It never evaluates anything.
func parseLiteral(src string) (value, error) {
	p := &parser{src: src}
	v, err := p.value(0)
	if err != nil {
		return value{}, err
	}
	p.space()
	if p.pos != len(p.src) {
		return value{}, fmt.Errorf("%w: trailing text at byte %d", errSyntax, p.pos)
	}
	return v, nil
}

type parser struct {
	src   string
	pos   int
	items int
}

func (p *parser) space() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (value, error) {
	if depth > maxLiteralDepth {
		return value{}, fmt.Errorf("%w: nested deeper than %d", errSyntax, maxLiteralDepth)
	}
	p.items++
	if p.items > maxLiteralItems {
		return value{}, fmt.Errorf("%w: more than %d items", errSyntax, maxLiteralItems)
	}
	p.space()
	if p.pos >= len(p.src) {
		return value{}, fmt.Errorf("%w: unexpected end", errSyntax)
	}
	c := p.src[p.pos]
	switch {
	case c == '{':
		return p.seq(depth, '}', kDict)
	case c == '[':
		return p.seq(depth, ']', kList)
	case c == '(':
		return p.seq(depth, ')', kTuple)
	case c == '\'' || c == '"':
		return p.str()
	case c == 'u' && p.pos+1 < len(p.src) && (p.src[p.pos+1] == '\'' || p.src[p.pos+1] == '"'):
		p.pos++ // Python 2 unicode literal
		return p.str()
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		return p.int()
	}
	for _, w := range []struct {
		word string
		v    value
	}{{"True", value{kind: kBool, n: 1}}, {"False", value{kind: kBool}}, {"None", value{kind: kNone}}} {
		if strings.HasPrefix(p.src[p.pos:], w.word) {
			p.pos += len(w.word)
			return w.v, nil
		}
	}
	return value{}, fmt.Errorf("%w: unexpected %q at byte %d", errSyntax, c, p.pos)
}

// seq parses the items of a dict, list or tuple after the opening bracket.
func (p *parser) seq(depth int, closer byte, k kind) (value, error) {
	p.pos++
	v := value{kind: k}
	commas, needComma := 0, false
	for {
		p.space()
		if p.pos >= len(p.src) {
			return value{}, fmt.Errorf("%w: unclosed bracket", errSyntax)
		}
		if p.src[p.pos] == closer {
			p.pos++
			if k == kTuple && len(v.items) == 1 && commas == 0 {
				return v.items[0], nil // (x) is just x
			}
			return v, nil
		}
		if needComma {
			return value{}, fmt.Errorf("%w: missing comma at byte %d", errSyntax, p.pos)
		}
		item, err := p.value(depth + 1)
		if err != nil {
			return value{}, err
		}
		v.items = append(v.items, item)
		if k == kDict {
			p.space()
			if p.pos >= len(p.src) || p.src[p.pos] != ':' {
				return value{}, fmt.Errorf("%w: expected ':' at byte %d", errSyntax, p.pos)
			}
			p.pos++
			val, err := p.value(depth + 1)
			if err != nil {
				return value{}, err
			}
			v.items = append(v.items, val)
		}
		p.space()
		needComma = true
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			commas++
			needComma = false
		}
	}
}

func (p *parser) str() (value, error) {
	quote := p.src[p.pos]
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == quote:
			p.pos++
			return value{kind: kStr, s: b.String()}, nil
		case c == '\n':
			return value{}, fmt.Errorf("%w: newline in string", errSyntax)
		case c == '\\':
			if p.pos+1 >= len(p.src) {
				return value{}, fmt.Errorf("%w: unterminated escape", errSyntax)
			}
			// Field names and type codes never need escapes beyond these;
			// anything else is kept verbatim, which can only make a
			// name differ, never change the structure.
			e := p.src[p.pos+1]
			p.pos += 2
			switch e {
			case '\\', '\'', '"':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'x':
				if p.pos+2 > len(p.src) {
					return value{}, fmt.Errorf("%w: short \\x escape", errSyntax)
				}
				n, err := strconv.ParseUint(p.src[p.pos:p.pos+2], 16, 8)
				if err != nil {
					return value{}, fmt.Errorf("%w: bad \\x escape", errSyntax)
				}
				b.WriteRune(rune(n))
				p.pos += 2
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return value{}, fmt.Errorf("%w: unterminated string", errSyntax)
}

func (p *parser) int() (value, error) {
	start := p.pos
	if p.src[p.pos] == '-' || p.src[p.pos] == '+' {
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == digits {
		return value{}, fmt.Errorf("%w: bad number at byte %d", errSyntax, start)
	}
	n, err := strconv.ParseInt(p.src[start:p.pos], 10, 64)
	if err != nil {
		return value{}, fmt.Errorf("%w: number out of range at byte %d", errSyntax, start)
	}
	// Headers written by Python 2 have long literals such as (3L, 4L);
	// numpy filters the suffix out before parsing.
	if p.pos < len(p.src) && (p.src[p.pos] == 'L' || p.src[p.pos] == 'l') {
		p.pos++
	}
	if p.pos < len(p.src) && (p.src[p.pos] == '.' || p.src[p.pos] == 'e' || p.src[p.pos] == 'E' || p.src[p.pos] == 'j') {
		return value{}, fmt.Errorf("%w: non-integer number at byte %d", errSyntax, start)
	}
	return value{kind: kInt, n: n}, nil
}
