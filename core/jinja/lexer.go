// Package jinja finds server-side template injection in Jinja2 templates
// that model files carry (GGUF tokenizer.chat_template, chat_template in
// tokenizer_config.json). Loaders such as llama-cpp-python before 0.2.72
// rendered these with a non-sandboxed jinja2.Environment (CVE-2024-34359),
// so a template that walks from any object to __globals__ or
// __subclasses__ runs Python code.
//
// The package never renders anything. It tokenizes the template the way
// jinja2's lexer does (same delimiters, string and number rules, brace
// balancing, raw blocks, comments), parses expressions with jinja2's
// precedence, folds constant strings (concatenation, join, format, escapes,
// slicing, filters) and then reasons about what each attribute or item
// access reaches. Real chat templates (loops, namespace() holders,
// raise_exception, strftime_now, tojson) stay quiet because they never
// touch dunder or private attributes or compute attribute names.
package jinja

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind int

const (
	tText tokKind = iota
	tVarBegin
	tVarEnd
	tBlockBegin
	tBlockEnd
	tName
	tString
	tInt
	tFloat
	tOp
	tEOF
)

type token struct {
	kind tokKind
	val  string // decoded value for strings, raw text otherwise
	off  int    // byte offset in the template
	// escaped is set on string literals in which a backslash escape
	// produced a character that could be part of an identifier.
	escaped bool
}

// SyntaxError is what jinja2 itself would reject at load time: such a
// template never renders.
type SyntaxError struct {
	Off int
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("offset %d: %s", e.Off, e.Msg) }

// operators in the order jinja2's regex tries them (longest first).
var operators = []string{"//", "**", "==", "!=", ">=", "<=",
	"+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"}

type lexer struct {
	src  string
	toks []token
	max  int
}

// lex splits src into tokens. maxTokens bounds the work on hostile input.
func lex(src string, maxTokens int) ([]token, error) {
	lx := &lexer{src: src, max: maxTokens}
	if err := lx.run(); err != nil {
		return lx.toks, err
	}
	lx.toks = append(lx.toks, token{kind: tEOF, off: len(src)})
	return lx.toks, nil
}

func (lx *lexer) emit(t token) error {
	if len(lx.toks) >= lx.max {
		return errLimit
	}
	lx.toks = append(lx.toks, t)
	return nil
}

// nextTag finds the earliest "{{", "{%" or "{#" at or after pos.
func (lx *lexer) nextTag(pos int) (int, byte) {
	for {
		i := strings.IndexByte(lx.src[pos:], '{')
		if i < 0 || pos+i+1 >= len(lx.src) {
			return -1, 0
		}
		c := lx.src[pos+i+1]
		if c == '{' || c == '%' || c == '#' {
			return pos + i, c
		}
		pos += i + 1
	}
}

func (lx *lexer) run() error {
	pos := 0
	for pos < len(lx.src) {
		start, kind := lx.nextTag(pos)
		if start < 0 {
			return lx.emit(token{kind: tText, val: lx.src[pos:], off: pos})
		}
		if start > pos {
			if err := lx.emit(token{kind: tText, val: lx.src[pos:start], off: pos}); err != nil {
				return err
			}
		}
		p := start + 2
		if p < len(lx.src) && (lx.src[p] == '-' || lx.src[p] == '+') {
			p++
		}
		switch kind {
		case '#':
			end := strings.Index(lx.src[p:], "#}")
			if end < 0 {
				return &SyntaxError{start, "missing end of comment tag"}
			}
			pos = p + end + 2
		case '%':
			if n, ok := lx.rawBegin(p); ok {
				e, body, ok := lx.rawEnd(n)
				if !ok {
					return &SyntaxError{start, "missing end of raw directive"}
				}
				if err := lx.emit(token{kind: tText, val: body, off: n}); err != nil {
					return err
				}
				pos = e
				continue
			}
			if err := lx.emit(token{kind: tBlockBegin, off: start}); err != nil {
				return err
			}
			np, err := lx.inside(p, "%}", tBlockEnd)
			if err != nil {
				return err
			}
			pos = np
		case '{':
			if err := lx.emit(token{kind: tVarBegin, off: start}); err != nil {
				return err
			}
			np, err := lx.inside(p, "}}", tVarEnd)
			if err != nil {
				return err
			}
			pos = np
		}
	}
	return nil
}

// rawBegin matches `\s*raw\s*[-+]?%}` at p (after "{%" and its modifier).
func (lx *lexer) rawBegin(p int) (int, bool) {
	q := skipSpace(lx.src, p)
	if !strings.HasPrefix(lx.src[q:], "raw") {
		return 0, false
	}
	q = skipSpace(lx.src, q+3)
	if q < len(lx.src) && (lx.src[q] == '-' || lx.src[q] == '+') {
		q++
	}
	if !strings.HasPrefix(lx.src[q:], "%}") {
		return 0, false
	}
	return q + 2, true
}

// rawEnd finds `{%[-+]?\s*endraw\s*[-+]?%}` from p.
func (lx *lexer) rawEnd(p int) (end int, body string, ok bool) {
	for q := p; ; {
		i := strings.Index(lx.src[q:], "{%")
		if i < 0 {
			return 0, "", false
		}
		s := q + i
		r := s + 2
		if r < len(lx.src) && (lx.src[r] == '-' || lx.src[r] == '+') {
			r++
		}
		r = skipSpace(lx.src, r)
		if strings.HasPrefix(lx.src[r:], "endraw") {
			r = skipSpace(lx.src, r+6)
			if r < len(lx.src) && (lx.src[r] == '-' || lx.src[r] == '+') {
				r++
			}
			if strings.HasPrefix(lx.src[r:], "%}") {
				return r + 2, lx.src[p:s], true
			}
		}
		q = s + 2
	}
}

func skipSpace(s string, p int) int {
	for p < len(s) {
		r, n := utf8.DecodeRuneInString(s[p:])
		if !unicode.IsSpace(r) {
			break
		}
		p += n
	}
	return p
}

// inside lexes a {{ }} or {% %} tag body from p and returns the position
// after its end delimiter.
func (lx *lexer) inside(p int, end string, endKind tokKind) (int, error) {
	var balance []byte
	for {
		if p >= len(lx.src) {
			return p, &SyntaxError{p, "unexpected end of template, expected " + end}
		}
		// The end delimiter wins over operators only while brackets are
		// balanced, as in jinja2.
		if len(balance) == 0 {
			q := p
			if lx.src[q] == '-' || lx.src[q] == '+' {
				q++
			}
			if strings.HasPrefix(lx.src[q:], end) {
				if err := lx.emit(token{kind: endKind, off: p}); err != nil {
					return p, err
				}
				return q + len(end), nil
			}
		}
		c := lx.src[p]
		r, size := utf8.DecodeRuneInString(lx.src[p:])
		switch {
		case unicode.IsSpace(r):
			p += size
		case c >= '0' && c <= '9':
			n, kind := lexNumber(lx.src, p)
			if err := lx.emit(token{kind: kind, val: lx.src[p:n], off: p}); err != nil {
				return p, err
			}
			p = n
		case isNameRune(r):
			n := p
			for n < len(lx.src) {
				r2, s2 := utf8.DecodeRuneInString(lx.src[n:])
				if !isNameRune(r2) && !unicode.IsDigit(r2) && !unicode.Is(unicode.Mn, r2) && !unicode.Is(unicode.Mc, r2) {
					break
				}
				n += s2
			}
			if err := lx.emit(token{kind: tName, val: lx.src[p:n], off: p}); err != nil {
				return p, err
			}
			p = n
		case c == '\'' || c == '"':
			n, val, esc, err := lexString(lx.src, p)
			if err != nil {
				return p, err
			}
			if err := lx.emit(token{kind: tString, val: val, off: p, escaped: esc}); err != nil {
				return p, err
			}
			p = n
		default:
			op := ""
			for _, o := range operators {
				if strings.HasPrefix(lx.src[p:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return p, &SyntaxError{p, fmt.Sprintf("unexpected char %q", r)}
			}
			switch op {
			case "(", "[", "{":
				if len(balance) > 1000 {
					return p, errLimit
				}
				balance = append(balance, op[0])
			case ")", "]", "}":
				want := map[string]byte{")": '(', "]": '[', "}": '{'}[op]
				if len(balance) == 0 || balance[len(balance)-1] != want {
					return p, &SyntaxError{p, fmt.Sprintf("unexpected %q", op)}
				}
				balance = balance[:len(balance)-1]
			}
			if err := lx.emit(token{kind: tOp, val: op, off: p}); err != nil {
				return p, err
			}
			p += len(op)
		}
	}
}

func isNameRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Pc, r)
}

// lexNumber follows jinja2's float_re then integer_re at p (a digit).
func lexNumber(s string, p int) (int, tokKind) {
	digits := func(q int) int { // (\d+_)*\d+
		start := q
		for q < len(s) {
			if s[q] >= '0' && s[q] <= '9' {
				q++
				continue
			}
			if s[q] == '_' && q > start && q+1 < len(s) && s[q+1] >= '0' && s[q+1] <= '9' {
				q++
				continue
			}
			break
		}
		return q
	}
	floatOK := p == 0 || s[p-1] != '.'
	if floatOK {
		q := digits(p)
		f := q
		if f < len(s) && s[f] == '.' && f+1 < len(s) && s[f+1] >= '0' && s[f+1] <= '9' {
			f = digits(f + 1)
		}
		if e := expPart(s, f, digits); e > f {
			return e, tFloat
		}
		if f > q {
			return f, tFloat
		}
	}
	if p+1 < len(s) && s[p] == '0' {
		base := s[p+1] | 0x20
		valid := map[byte]func(byte) bool{
			'b': func(c byte) bool { return c == '0' || c == '1' },
			'o': func(c byte) bool { return c >= '0' && c <= '7' },
			'x': func(c byte) bool { return c >= '0' && c <= '9' || (c|0x20) >= 'a' && (c|0x20) <= 'f' },
		}[base]
		if valid != nil {
			q := p + 2
			n := q
			for n < len(s) {
				if s[n] == '_' && n+1 < len(s) && valid(s[n+1]) {
					n += 2
					continue
				}
				if valid(s[n]) {
					n++
					continue
				}
				break
			}
			if n > q {
				return n, tInt
			}
		}
	}
	if s[p] == '0' { // 0(_?0)*
		q := p + 1
		for q < len(s) {
			if s[q] == '0' {
				q++
			} else if s[q] == '_' && q+1 < len(s) && s[q+1] == '0' {
				q += 2
			} else {
				break
			}
		}
		return q, tInt
	}
	q := p + 1 // [1-9](_?\d)*
	for q < len(s) {
		if s[q] >= '0' && s[q] <= '9' {
			q++
		} else if s[q] == '_' && q+1 < len(s) && s[q+1] >= '0' && s[q+1] <= '9' {
			q += 2
		} else {
			break
		}
	}
	return q, tInt
}

func expPart(s string, f int, digits func(int) int) int {
	if f >= len(s) || s[f]|0x20 != 'e' {
		return f
	}
	q := f + 1
	if q < len(s) && (s[q] == '+' || s[q] == '-') {
		q++
	}
	if q < len(s) && s[q] >= '0' && s[q] <= '9' {
		return digits(q)
	}
	return f
}

// lexString reads a quoted string at p with jinja2's rule (a backslash
// escapes any character, newlines allowed) and decodes it the way jinja2
// does: Python's unicode-escape codec.
func lexString(s string, p int) (end int, val string, escaped bool, err error) {
	q := s[p]
	i := p + 1
	for i < len(s) {
		switch s[i] {
		case '\\':
			i += 2
			continue
		case q:
			val, escaped := unescape(s[p+1 : i])
			return i + 1, val, escaped, nil
		}
		i++
	}
	return p, "", false, &SyntaxError{p, "unterminated string"}
}

// unescape applies Python's unicode-escape decoding. escaped reports
// whether an escape sequence produced a letter, digit, underscore or dot:
// real templates only escape quotes, backslashes and control characters.
func unescape(s string) (string, bool) {
	if strings.IndexByte(s, '\\') < 0 {
		return s, false
	}
	var b strings.Builder
	escaped := false
	put := func(r rune) {
		if r < 128 && (r == '_' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			escaped = true
		}
		b.WriteRune(r)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		e := s[i+1]
		i += 2
		switch e {
		case '\n':
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte(8)
		case 'f':
			b.WriteByte(12)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte(11)
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if r, ok := hexRune(s, i, n); ok {
				put(r)
				i += n
			} else {
				// Python rejects the template; keep the text.
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(e - '0')
			for k := 0; k < 2 && i < len(s) && s[i] >= '0' && s[i] <= '7'; k++ {
				v = v*8 + int(s[i]-'0')
				i++
			}
			put(rune(v))
		case 'N':
			if i < len(s) && s[i] == '{' {
				if j := strings.IndexByte(s[i:], '}'); j > 0 {
					name := s[i+1 : i+j]
					i += j + 1
					if r, ok := unicodeName(name); ok {
						put(r)
					} else {
						// An unknown named character: count it as hidden
						// content, since it exists only to be decoded.
						escaped = true
						b.WriteRune(utf8.RuneError)
					}
					continue
				}
			}
			b.WriteString(`\N`)
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String(), escaped
}

func hexRune(s string, i, n int) (rune, bool) {
	if i+n > len(s) {
		return 0, false
	}
	var v rune
	for _, c := range []byte(s[i : i+n]) {
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + rune(c-'0')
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			v = v*16 + rune(c|0x20-'a'+10)
		default:
			return 0, false
		}
	}
	return v, v <= unicode.MaxRune
}

// unicodeName resolves the \N{...} names of ASCII identifier characters,
// the only ones an obfuscated attribute name needs.
func unicodeName(name string) (rune, bool) {
	name = strings.ToUpper(strings.TrimSpace(name))
	switch name {
	case "LOW LINE":
		return '_', true
	case "FULL STOP":
		return '.', true
	case "SPACE":
		return ' ', true
	}
	digits := []string{"ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE"}
	for i, d := range digits {
		if name == "DIGIT "+d {
			return rune('0' + i), true
		}
	}
	for _, p := range []struct {
		prefix string
		base   rune
	}{{"LATIN SMALL LETTER ", 'a'}, {"LATIN CAPITAL LETTER ", 'A'}} {
		if rest, ok := strings.CutPrefix(name, p.prefix); ok && len(rest) == 1 && rest[0] >= 'A' && rest[0] <= 'Z' {
			return p.base + rune(rest[0]-'A'), true
		}
	}
	return 0, false
}
