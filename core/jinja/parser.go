package jinja

import (
	"errors"
	"strconv"
	"strings"
)

var errLimit = errors.New("template exceeds analysis limits")

type nodeKind int

const (
	nName nodeKind = iota
	nConst
	nGetattr // X.name
	nGetitem // X[arg]
	nCall    // X(args)
	nFilter  // X|name(args)
	nTest    // X is name(args)
	nBinary  // X op Y
	nUnary
	nList // list, tuple
	nDict
	nCond  // a if b else c
	nSlice // start:stop:step inside a subscript
	nOther
)

// node is one expression. Only what the analysis needs is kept.
type node struct {
	kind nodeKind
	off  int
	name string // nName, nGetattr attribute, nFilter/nTest name, nBinary/nUnary op
	// constant literal (nConst): str is set for strings; isNum for numbers
	str     string
	isStr   bool
	num     int64
	isNum   bool
	escaped bool
	x       *node   // receiver / left operand / subscript base
	y       *node   // right operand / subscript
	args    []*node // call, filter, test arguments; list items; dict keys,values interleaved
	kwargs  []kwarg
}

type kwarg struct {
	name  string
	value *node
	off   int
}

// parser turns a token stream into the expressions of each tag. Statement
// keywords are consumed loosely: everything that can start an expression is
// parsed as one, so bindings, loop targets and macro signatures are all
// visible to the analysis.
type parser struct {
	toks     []token
	pos      int
	depth    int
	maxDepth int
	nodes    int
	maxNodes int
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) isOp(v string) bool {
	t := p.peek()
	return t.kind == tOp && t.val == v
}

func (p *parser) isName(v string) bool {
	t := p.peek()
	return t.kind == tName && t.val == v
}

func (p *parser) atTagEnd() bool {
	k := p.peek().kind
	return k == tBlockEnd || k == tVarEnd || k == tEOF
}

func (p *parser) newNode(k nodeKind, off int) (*node, error) {
	p.nodes++
	if p.nodes > p.maxNodes {
		return nil, errLimit
	}
	return &node{kind: k, off: off}, nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > p.maxDepth {
		return errLimit
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) syntax(msg string) error {
	return &SyntaxError{p.peek().off, msg}
}

// canStart reports whether the current token can begin an expression.
func (p *parser) canStart() bool {
	t := p.peek()
	switch t.kind {
	case tName, tString, tInt, tFloat:
		return true
	case tOp:
		switch t.val {
		case "(", "[", "{", "-", "+":
			return true
		}
	}
	return false
}

func (p *parser) parseExpr() (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	for p.isName("if") {
		off := p.next().off
		cond, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		c, err := p.newNode(nCond, off)
		if err != nil {
			return nil, err
		}
		c.x, c.y = n, cond
		if p.isName("else") {
			p.next()
			alt, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			c.args = []*node{alt}
		}
		n = c
	}
	return n, nil
}

func (p *parser) binary(op string, off int, l, r *node) (*node, error) {
	b, err := p.newNode(nBinary, off)
	if err != nil {
		return nil, err
	}
	b.name, b.x, b.y = op, l, r
	return b, nil
}

func (p *parser) parseOr() (*node, error) {
	l, err := p.parseAnd()
	for err == nil && p.isName("or") {
		off := p.next().off
		var r *node
		if r, err = p.parseAnd(); err == nil {
			l, err = p.binary("or", off, l, r)
		}
	}
	return l, err
}

func (p *parser) parseAnd() (*node, error) {
	l, err := p.parseNot()
	for err == nil && p.isName("and") {
		off := p.next().off
		var r *node
		if r, err = p.parseNot(); err == nil {
			l, err = p.binary("and", off, l, r)
		}
	}
	return l, err
}

func (p *parser) parseNot() (*node, error) {
	if p.isName("not") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		off := p.next().off
		x, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		u, err := p.newNode(nUnary, off)
		if err != nil {
			return nil, err
		}
		u.name, u.x = "not", x
		return u, nil
	}
	return p.parseCompare()
}

func (p *parser) parseCompare() (*node, error) {
	l, err := p.parseMath1()
	for err == nil {
		t := p.peek()
		op := ""
		switch {
		case t.kind == tOp && (t.val == "==" || t.val == "!=" || t.val == ">" || t.val == ">=" || t.val == "<" || t.val == "<="):
			op = t.val
			p.next()
		case p.isName("in"):
			op = "in"
			p.next()
		case p.isName("not") && p.pos+1 < len(p.toks) && p.toks[p.pos+1].kind == tName && p.toks[p.pos+1].val == "in":
			op = "not in"
			p.next()
			p.next()
		default:
			return l, nil
		}
		var r *node
		if r, err = p.parseMath1(); err == nil {
			l, err = p.binary(op, t.off, l, r)
		}
	}
	return l, err
}

func (p *parser) parseMath1() (*node, error) {
	l, err := p.parseConcat()
	for err == nil && (p.isOp("+") || p.isOp("-")) {
		t := p.next()
		var r *node
		if r, err = p.parseConcat(); err == nil {
			l, err = p.binary(t.val, t.off, l, r)
		}
	}
	return l, err
}

func (p *parser) parseConcat() (*node, error) {
	l, err := p.parseMath2()
	for err == nil && p.isOp("~") {
		t := p.next()
		var r *node
		if r, err = p.parseMath2(); err == nil {
			l, err = p.binary("~", t.off, l, r)
		}
	}
	return l, err
}

func (p *parser) parseMath2() (*node, error) {
	l, err := p.parsePow()
	for err == nil && (p.isOp("*") || p.isOp("/") || p.isOp("//") || p.isOp("%")) {
		t := p.next()
		var r *node
		if r, err = p.parsePow(); err == nil {
			l, err = p.binary(t.val, t.off, l, r)
		}
	}
	return l, err
}

func (p *parser) parsePow() (*node, error) {
	l, err := p.parseUnary(true)
	for err == nil && p.isOp("**") {
		t := p.next()
		var r *node
		if r, err = p.parseUnary(true); err == nil {
			l, err = p.binary("**", t.off, l, r)
		}
	}
	return l, err
}

func (p *parser) parseUnary(withFilter bool) (*node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	var n *node
	var err error
	if p.isOp("-") || p.isOp("+") {
		t := p.next()
		x, err := p.parseUnary(false)
		if err != nil {
			return nil, err
		}
		if n, err = p.newNode(nUnary, t.off); err != nil {
			return nil, err
		}
		n.name, n.x = t.val, x
	} else if n, err = p.parsePrimary(); err != nil {
		return nil, err
	}
	if n, err = p.parsePostfix(n); err != nil {
		return nil, err
	}
	if withFilter {
		return p.parseFilterExpr(n)
	}
	return n, nil
}

func (p *parser) parsePrimary() (*node, error) {
	t := p.peek()
	switch t.kind {
	case tName:
		p.next()
		switch t.val {
		case "true", "false", "True", "False", "none", "None":
			n, err := p.newNode(nConst, t.off)
			if err == nil {
				n.name = t.val
			}
			return n, err
		}
		n, err := p.newNode(nName, t.off)
		if err == nil {
			n.name = t.val
		}
		return n, err
	case tString:
		p.next()
		n, err := p.newNode(nConst, t.off)
		if err != nil {
			return nil, err
		}
		n.isStr, n.str, n.escaped = true, t.val, t.escaped
		// Adjacent literals are concatenated, as in Python.
		var b strings.Builder
		b.WriteString(t.val)
		for p.peek().kind == tString {
			s := p.next()
			b.WriteString(s.val)
			n.escaped = n.escaped || s.escaped
		}
		n.str = b.String()
		return n, nil
	case tInt, tFloat:
		p.next()
		n, err := p.newNode(nConst, t.off)
		if err != nil {
			return nil, err
		}
		if t.kind == tInt {
			if v, err := strconv.ParseInt(strings.ReplaceAll(t.val, "_", ""), 0, 64); err == nil {
				n.num, n.isNum = v, true
			}
		}
		return n, nil
	case tOp:
		switch t.val {
		case "(":
			p.next()
			return p.parseSeq(")", t.off)
		case "[":
			p.next()
			return p.parseSeq("]", t.off)
		case "{":
			p.next()
			return p.parseDict(t.off)
		}
	}
	return nil, p.syntax("expected an expression")
}

// parseSeq parses a parenthesised expression, tuple or list up to close.
func (p *parser) parseSeq(close string, off int) (*node, error) {
	var items []*node
	comma := false
	for !p.isOp(close) {
		if len(items) > 0 {
			if !p.isOp(",") {
				return nil, p.syntax("expected ',' or " + close)
			}
			p.next()
			comma = true
			if p.isOp(close) {
				break
			}
		}
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		items = append(items, e)
	}
	p.next()
	if close == ")" && len(items) == 1 && !comma {
		return items[0], nil
	}
	n, err := p.newNode(nList, off)
	if err == nil {
		n.args = items
	}
	return n, err
}

func (p *parser) parseDict(off int) (*node, error) {
	n, err := p.newNode(nDict, off)
	if err != nil {
		return nil, err
	}
	for !p.isOp("}") {
		if len(n.args) > 0 {
			if !p.isOp(",") {
				return nil, p.syntax("expected ',' or '}'")
			}
			p.next()
			if p.isOp("}") {
				break
			}
		}
		k, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if !p.isOp(":") {
			return nil, p.syntax("expected ':'")
		}
		p.next()
		v, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		n.args = append(n.args, k, v)
	}
	p.next()
	return n, nil
}

func (p *parser) parsePostfix(n *node) (*node, error) {
	for {
		t := p.peek()
		if t.kind != tOp {
			return n, nil
		}
		var err error
		switch t.val {
		case ".":
			p.next()
			a := p.next()
			switch a.kind {
			case tName:
				g, e := p.newNode(nGetattr, a.off)
				if e != nil {
					return nil, e
				}
				g.name, g.x = a.val, n
				n = g
			case tInt:
				g, e := p.newNode(nGetitem, a.off)
				if e != nil {
					return nil, e
				}
				k, e := p.newNode(nConst, a.off)
				if e != nil {
					return nil, e
				}
				k.num, k.isNum = atoi(a.val), true
				g.x, g.y = n, k
				n = g
			default:
				return nil, &SyntaxError{a.off, "expected a name after '.'"}
			}
		case "[":
			p.next()
			n, err = p.parseSubscript(n, t.off)
		case "(":
			p.next()
			n, err = p.parseCall(n, t.off)
		default:
			return n, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func atoi(s string) int64 {
	v, _ := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64)
	return v
}

func (p *parser) parseSubscript(base *node, off int) (*node, error) {
	var items []*node
	for !p.isOp("]") {
		if len(items) > 0 {
			if !p.isOp(",") {
				return nil, p.syntax("expected ',' or ']'")
			}
			p.next()
		}
		it, err := p.parseSubscribed()
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	p.next()
	g, err := p.newNode(nGetitem, off)
	if err != nil {
		return nil, err
	}
	g.x = base
	switch len(items) {
	case 0:
		return nil, &SyntaxError{off, "empty subscript"}
	case 1:
		g.y = items[0]
	default:
		l, err := p.newNode(nList, off)
		if err != nil {
			return nil, err
		}
		l.args = items
		g.y = l
	}
	return g, nil
}

func (p *parser) parseSubscribed() (*node, error) {
	off := p.peek().off
	var parts [3]*node
	idx := 0
	if !p.isOp(":") {
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if !p.isOp(":") {
			return e, nil
		}
		parts[0] = e
	}
	for p.isOp(":") && idx < 2 {
		p.next()
		idx++
		if !p.isOp(":") && !p.isOp("]") && !p.isOp(",") {
			e, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			parts[idx] = e
		}
	}
	s, err := p.newNode(nSlice, off)
	if err != nil {
		return nil, err
	}
	s.args = parts[:]
	return s, nil
}

// parseCall parses arguments after "(": positional, name=value, *a, **kw.
func (p *parser) parseCall(callee *node, off int) (*node, error) {
	c, err := p.newNode(nCall, off)
	if err != nil {
		return nil, err
	}
	c.x = callee
	if err := p.parseArgs(c); err != nil {
		return nil, err
	}
	return c, nil
}

func (p *parser) parseArgs(c *node) error {
	for !p.isOp(")") {
		if len(c.args)+len(c.kwargs) > 0 {
			if !p.isOp(",") {
				return p.syntax("expected ',' or ')'")
			}
			p.next()
			if p.isOp(")") {
				break
			}
		}
		if p.isOp("*") || p.isOp("**") {
			p.next()
		}
		t := p.peek()
		if t.kind == tName && p.pos+1 < len(p.toks) && p.toks[p.pos+1].kind == tOp && p.toks[p.pos+1].val == "=" {
			p.next()
			p.next()
			v, err := p.parseExpr()
			if err != nil {
				return err
			}
			c.kwargs = append(c.kwargs, kwarg{name: t.val, value: v, off: t.off})
			continue
		}
		e, err := p.parseExpr()
		if err != nil {
			return err
		}
		c.args = append(c.args, e)
	}
	p.next()
	return nil
}

// parseFilterExpr handles "|filter(args)", "is [not] test args" and calls
// on their results.
func (p *parser) parseFilterExpr(n *node) (*node, error) {
	for {
		switch {
		case p.isOp("|"):
			p.next()
			f, err := p.parseFilterName(nFilter, n)
			if err != nil {
				return nil, err
			}
			n = f
		case p.isName("is"):
			p.next()
			if p.isName("not") {
				p.next()
			}
			t, err := p.parseFilterName(nTest, n)
			if err != nil {
				return nil, err
			}
			if len(t.args) == 0 && len(t.kwargs) == 0 && p.testArgFollows() {
				arg, err := p.parseUnary(false)
				if err != nil {
					return nil, err
				}
				arg, err = p.parsePostfix(arg)
				if err != nil {
					return nil, err
				}
				t.args = []*node{arg}
			}
			n = t
		case p.isOp("("):
			off := p.next().off
			c, err := p.parseCall(n, off)
			if err != nil {
				return nil, err
			}
			n = c
		default:
			return n, nil
		}
	}
}

func (p *parser) testArgFollows() bool {
	t := p.peek()
	switch t.kind {
	case tString, tInt, tFloat:
		return true
	case tName:
		switch t.val {
		case "else", "or", "and", "if", "in", "is", "not":
			return false
		}
		return true
	case tOp:
		return t.val == "[" || t.val == "{" || t.val == "-"
	}
	return false
}

func (p *parser) parseFilterName(kind nodeKind, recv *node) (*node, error) {
	t := p.next()
	if t.kind != tName {
		return nil, &SyntaxError{t.off, "expected a filter or test name"}
	}
	// A builder keeps a long dotted name linear; concatenating per
	// component was quadratic in the chain length.
	var b strings.Builder
	b.WriteString(t.val)
	for p.isOp(".") && p.pos+1 < len(p.toks) && p.toks[p.pos+1].kind == tName {
		p.next()
		b.WriteString(".")
		b.WriteString(p.next().val)
	}
	name := b.String()
	f, err := p.newNode(kind, t.off)
	if err != nil {
		return nil, err
	}
	f.name, f.x = name, recv
	if p.isOp("(") {
		p.next()
		if err := p.parseArgs(f); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// tag is one {{ }} or {% %} with the expressions found in it.
type tag struct {
	off     int
	keyword string // "" for {{ }}, else the statement name
	exprs   []*node
	// assign is set for "set x = expr" / "set ns.x = expr": the target
	// path and the value expression.
	target string
	value  *node
}

// parseTemplate returns every tag and text run in order.
func parseTemplate(toks []token, maxDepth, maxNodes int) ([]tag, []token, error) {
	p := &parser{toks: toks, maxDepth: maxDepth, maxNodes: maxNodes}
	var tags []tag
	var texts []token
	for p.peek().kind != tEOF {
		t := p.next()
		switch t.kind {
		case tText:
			texts = append(texts, t)
			tags = append(tags, tag{off: t.off, keyword: "#text", exprs: nil, target: t.val})
		case tVarBegin:
			tg := tag{off: t.off}
			e, err := p.parseExpr()
			if err != nil {
				return tags, texts, err
			}
			tg.exprs = append(tg.exprs, e)
			if p.peek().kind != tVarEnd {
				return tags, texts, p.syntax("expected end of print statement")
			}
			p.next()
			tags = append(tags, tg)
		case tBlockBegin:
			tg, err := p.parseStatement(t.off)
			if err != nil {
				return tags, texts, err
			}
			tags = append(tags, tg)
		default:
			return tags, texts, &SyntaxError{t.off, "unexpected token"}
		}
	}
	return tags, texts, nil
}

func (p *parser) parseStatement(off int) (tag, error) {
	tg := tag{off: off}
	kw := p.peek()
	if kw.kind != tName {
		return tg, p.syntax("expected a statement name")
	}
	p.next()
	tg.keyword = kw.val
	if kw.val == "set" {
		// set a = expr | set ns.a = expr | set a, b = expr | set a (block)
		start := p.pos
		path := ""
		if p.peek().kind == tName {
			path = p.next().val
			if p.isOp(".") && p.pos+1 < len(p.toks) && p.toks[p.pos+1].kind == tName {
				p.next()
				path += "." + p.next().val
			}
		}
		if path != "" && p.isOp("=") {
			p.next()
			v, err := p.parseExpr()
			if err != nil {
				return tg, err
			}
			tg.target, tg.value = path, v
			tg.exprs = append(tg.exprs, v)
		} else if path != "" && p.atTagEnd() {
			tg.keyword, tg.target = "set-block", path
		} else {
			p.pos = start
		}
	}
	for !p.atTagEnd() {
		if p.canStart() {
			e, err := p.parseExpr()
			if err != nil {
				return tg, err
			}
			tg.exprs = append(tg.exprs, e)
			continue
		}
		p.next()
	}
	if p.peek().kind != tBlockEnd {
		return tg, p.syntax("expected end of block")
	}
	p.next()
	return tg, nil
}
