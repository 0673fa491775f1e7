package torchscript

// ref is one use of a dotted name in the source: "torch.ops.aten.add",
// "open", "os.system". Names inside strings and comments are never refs.
type ref struct {
	name string
	call bool // followed by "("
	line int
	// fn is the innermost "def" the reference appears in ("" at class or
	// module level).
	fn string
	// stmt is the first name of the statement ("import", "from", ...).
	stmtStart bool
}

// maxRefs bounds the references kept per member; real serialized modules
// have a few thousand.
const maxRefs = 200_000

// lex extracts dotted-name references from Python source the way the
// TorchScript serializer writes it. It is a tokenizer, not a parser: it
// skips strings (all prefixes, single and triple quoted) and comments,
// tracks the enclosing def by indentation, and never fails.
func lex(src []byte) (refs []ref, truncated bool) {
	type frame struct {
		indent int
		name   string
	}
	var stack []frame
	line := 1
	lineStart := true
	indent := 0
	depth := 0 // bracket nesting: continuation lines do not change scope
	i := 0
	n := len(src)
	stmtStart := true
	for i < n {
		c := src[i]
		if lineStart {
			indent = 0
			for i < n && (src[i] == ' ' || src[i] == '\t') {
				indent++
				i++
			}
			lineStart = false
			if i < n && src[i] != '\n' && src[i] != '#' && src[i] != '\r' && depth == 0 {
				for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
					stack = stack[:len(stack)-1]
				}
			}
			continue
		}
		switch {
		case c == '\n':
			line++
			i++
			if depth == 0 {
				lineStart = true
				stmtStart = true
			}
		case c == '#':
			for i < n && src[i] != '\n' {
				i++
			}
		case c == '\\' && i+1 < n && src[i+1] == '\n':
			i += 2
			line++
		case c == '"' || c == '\'':
			i, line = skipString(src, i, line)
			stmtStart = false
		case isIdentStart(c):
			start := i
			for i < n && isIdent(src[i]) {
				i++
			}
			word := string(src[start:i])
			// A string prefix (r"...", b'...', f"...", rb"...").
			if i < n && (src[i] == '"' || src[i] == '\'') && isStringPrefix(word) {
				i, line = skipString(src, i, line)
				stmtStart = false
				continue
			}
			if word == "def" && stmtStart {
				j := skipSpace(src, i)
				k := j
				for k < n && isIdent(src[k]) {
					k++
				}
				stack = append(stack, frame{indent: indent, name: string(src[j:k])})
				i = k
				stmtStart = false
				continue
			}
			// Appending to a byte slice keeps a long dotted chain linear;
			// string concatenation per component was quadratic.
			dotted := []byte(word)
			for {
				j := skipSpace(src, i)
				if j < n && src[j] == '.' {
					k := skipSpace(src, j+1)
					if k < n && isIdentStart(src[k]) {
						e := k
						for e < n && isIdent(src[e]) {
							e++
						}
						dotted = append(append(dotted, '.'), src[k:e]...)
						i = e
						continue
					}
				}
				break
			}
			name := string(dotted)
			j := skipSpace(src, i)
			r := ref{name: name, call: j < n && src[j] == '(', line: line, stmtStart: stmtStart}
			if len(stack) > 0 {
				r.fn = stack[len(stack)-1].name
			}
			if len(refs) >= maxRefs {
				return refs, true
			}
			refs = append(refs, r)
			stmtStart = false
		case c == '(' || c == '[' || c == '{':
			depth++
			i++
			stmtStart = false
		case c == ')' || c == ']' || c == '}':
			if depth > 0 {
				depth--
			}
			i++
		case c == ';':
			stmtStart = true
			i++
		case c >= '0' && c <= '9':
			for i < n && (isIdent(src[i]) || src[i] == '.') {
				i++
			}
			stmtStart = false
		default:
			if c != ' ' && c != '\t' && c != '\r' {
				stmtStart = false
			}
			i++
		}
	}
	return refs, false
}

// skipString returns the offset after the string literal starting at i
// (a quote) and the updated line number. Unterminated strings run to EOF.
func skipString(src []byte, i, line int) (int, int) {
	n := len(src)
	q := src[i]
	triple := i+2 < n && src[i+1] == q && src[i+2] == q
	if triple {
		i += 3
		for i < n {
			switch {
			case src[i] == '\\':
				if i+1 < n && src[i+1] == '\n' {
					line++
				}
				i += 2
			case src[i] == q && i+2 < n && src[i+1] == q && src[i+2] == q:
				return i + 3, line
			default:
				if src[i] == '\n' {
					line++
				}
				i++
			}
		}
		return n, line
	}
	i++
	for i < n {
		switch src[i] {
		case '\\':
			i += 2
		case q:
			return i + 1, line
		case '\n':
			return i, line // unterminated single-line string
		default:
			i++
		}
	}
	return n, line
}

func skipSpace(src []byte, i int) int {
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	return i
}

func isIdentStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c >= 0x80
}

func isIdent(c byte) bool { return isIdentStart(c) || ('0' <= c && c <= '9') }

func isStringPrefix(w string) bool {
	switch len(w) {
	case 1:
		switch w[0] | 0x20 {
		case 'r', 'b', 'u', 'f':
			return true
		}
	case 2:
		a, b := w[0]|0x20, w[1]|0x20
		return (a == 'r' && (b == 'b' || b == 'f')) || ((a == 'b' || a == 'f') && b == 'r')
	}
	return false
}
