package jinja

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/modelgate/modelgate/core/finding"
)

// Rule ids reported by Check (documented in core/rules/gguf.go).
const (
	RuleSandboxEscape   = "MG601"
	RuleDangerousRef    = "MG602"
	RuleComputedAttr    = "MG603"
	RuleObfuscated      = "MG604"
	RuleTemplateLoad    = "MG605"
	RuleTemplateInvalid = "MG606"
)

// Issue is one finding inside a template. Offset is the byte offset in
// the template source.
type Issue struct {
	RuleID   string
	Severity finding.Severity // None means the rule's default
	Offset   int
	Message  string
	Evidence string
}

// Limits bound the analysis of one template.
type Limits struct {
	MaxBytes  int // longer templates are analysed up to this many bytes
	MaxTokens int
	MaxDepth  int // expression nesting
	MaxNodes  int
}

// DefaultLimits are far above any published chat template (the largest
// are tens of KiB).
func DefaultLimits() Limits {
	return Limits{MaxBytes: 4 << 20, MaxTokens: 1 << 20, MaxDepth: 200, MaxNodes: 1 << 20}
}

// Result is what Check found. Incomplete is set when a limit stopped the
// analysis before the end of the template.
type Result struct {
	Issues     []Issue
	Incomplete string
}

// LooksLikeTemplate reports whether a metadata string is worth checking:
// it contains a Jinja statement or expression delimiter.
func LooksLikeTemplate(s string) bool {
	return strings.Contains(s, "{%") || strings.Contains(s, "{{")
}

// Check analyses one template.
func Check(ctx context.Context, src string, lim Limits) Result {
	var res Result
	if lim.MaxBytes <= 0 {
		lim = DefaultLimits()
	}
	if len(src) > lim.MaxBytes {
		res.Incomplete = fmt.Sprintf("template is %d bytes; analysed the first %d", len(src), lim.MaxBytes)
		src = src[:lim.MaxBytes]
	}
	toks, err := lex(src, lim.MaxTokens)
	var tags []tag
	if err == nil {
		tags, _, err = parseTemplate(toks, lim.MaxDepth, lim.MaxNodes)
	}
	a := &analyzer{ctx: ctx, consts: map[string]value{}, budget: foldBudget}
	a.run(tags)
	res.Issues = a.issues
	if a.budget <= 0 && res.Incomplete == "" {
		res.Incomplete = "template exceeds the constant-folding budget"
	}
	if err != nil {
		if errors.Is(err, errLimit) {
			res.Incomplete = "template exceeds the analysis limits (tokens, nesting or size)"
		} else {
			var se *SyntaxError
			off := 0
			if errors.As(err, &se) {
				off = se.Off
			}
			res.Issues = append(res.Issues, Issue{RuleID: RuleTemplateInvalid, Offset: off,
				Message: "template is not valid Jinja2 (jinja2 refuses to load it): " + err.Error()})
			// A parser disagreement must not hide a payload: fall back to
			// the names no chat template spells.
			for _, d := range strongDunders {
				if i := strings.Index(src, d); i >= 0 {
					res.Issues = append(res.Issues, Issue{RuleID: RuleDangerousRef, Offset: i,
						Message:  "template that could not be parsed mentions " + d,
						Evidence: excerpt(src, i)})
					break
				}
			}
		}
	}
	if ctx.Err() != nil && res.Incomplete == "" {
		res.Incomplete = "analysis cancelled: " + ctx.Err().Error()
	}
	return res
}

func excerpt(s string, i int) string {
	lo, hi := i-40, i+60
	if lo < 0 {
		lo = 0
	}
	if hi > len(s) {
		hi = len(s)
	}
	return strings.ToValidUTF8(s[lo:hi], "?")
}

type valueKind int

const (
	vUnknown valueKind = iota
	vStr
	vInt
	vList
)

// value is a folded constant.
type value struct {
	kind  valueKind
	s     string
	n     int64
	list  []value
	built bool // computed rather than written as one plain literal
}

const (
	maxFold    = 1 << 16
	foldBudget = 8 << 20
)

type analyzer struct {
	ctx context.Context
	// budget bounds the bytes constant folding may produce over the whole
	// template; hostile templates can otherwise fold the same big string
	// over and over.
	budget int64
	consts map[string]value
	issues []Issue
	seen   map[string]bool
	// kinds holds the rule and severity pairs already among issues: past
	// maxIssues only a new pair is kept, so padding a template with
	// low-severity oddities cannot push its sandbox escape out.
	kinds map[issueKind]bool
	steps int
}

type issueKind struct {
	rule string
	sev  finding.Severity
}

// maxIssues bounds the issues kept per template beyond the first of each
// rule and severity.
const maxIssues = 200

func (a *analyzer) report(is Issue) {
	if a.seen == nil {
		a.seen = map[string]bool{}
		a.kinds = map[issueKind]bool{}
	}
	key := fmt.Sprintf("%s@%d", is.RuleID, is.Offset)
	kind := issueKind{is.RuleID, is.Severity}
	if a.seen[key] || (len(a.issues) > maxIssues && a.kinds[kind]) {
		return
	}
	a.seen[key] = true
	a.kinds[kind] = true
	a.issues = append(a.issues, is)
}

func (a *analyzer) run(tags []tag) {
	blockSet := ""
	var blockText strings.Builder
	blockKnown := true
	for i, tg := range tags {
		if i%256 == 0 && a.ctx.Err() != nil {
			return
		}
		switch tg.keyword {
		case "#text":
			if blockSet != "" {
				blockText.WriteString(tg.target)
			}
			if strongLiteral(tg.target) && blockSet != "" {
				i := 0
				for _, d := range strongDunders {
					if j := strings.Index(tg.target, d); j >= 0 {
						i = j
						break
					}
				}
				a.report(Issue{RuleID: RuleObfuscated, Offset: tg.off + i,
					Message:  "a {% set %} block captures text that names a sandbox-escape attribute",
					Evidence: excerpt(tg.target, i)})
			}
			continue
		case "set-block":
			blockSet, blockKnown = tg.target, true
			blockText.Reset()
			continue
		case "endset":
			if blockSet != "" {
				if blockKnown {
					a.consts[blockSet] = value{kind: vStr, s: blockText.String(), built: true}
				} else {
					delete(a.consts, blockSet)
				}
				blockSet = ""
			}
			continue
		case "include", "import", "extends", "from":
			a.report(Issue{RuleID: RuleTemplateLoad, Offset: tg.off,
				Message: fmt.Sprintf("template uses {%% %s %%} to load another template", tg.keyword)})
		}
		if blockSet != "" {
			blockKnown = false
		}
		for _, e := range tg.exprs {
			a.visit(e, false, false)
		}
		if tg.target != "" && tg.value != nil {
			v := a.fold(tg.value, 0)
			if v.kind != vUnknown {
				a.consts[tg.target] = v
			} else {
				delete(a.consts, tg.target)
			}
		}
	}
}

func isAccess(n *node) bool {
	switch n.kind {
	case nGetattr, nGetitem, nCall, nFilter, nTest:
		return true
	}
	return false
}

func isBuilder(n *node) bool {
	switch n.kind {
	case nBinary:
		switch n.name {
		case "~", "+", "*", "%":
			return true
		}
	case nFilter:
		switch n.name {
		case "join", "format", "reverse", "replace", "lower", "upper", "string", "first", "last", "list", "trim", "capitalize", "title":
			return true
		}
	case nCall:
		return n.x != nil && n.x.kind == nGetattr
	case nGetitem:
		return true
	}
	return false
}

// visit checks n and its children. inChain is set while descending the
// receiver side of an access chain already judged as a whole.
func (a *analyzer) visit(n *node, inChain, inBuilder bool) {
	if n == nil {
		return
	}
	a.steps++
	if a.steps%4096 == 0 && a.ctx.Err() != nil {
		return
	}
	if isAccess(n) && !inChain {
		a.chain(n)
	}
	builder := isBuilder(n)
	if builder && !inBuilder {
		if v := a.fold(n, 0); v.built {
			a.checkBuilt(n, v)
		}
	}
	if n.kind == nConst && n.isStr && !inBuilder {
		a.checkLiteral(n)
	}
	if n.kind == nCall {
		a.checkCall(n)
	}
	for _, kw := range n.kwargs {
		if isDunder(kw.name) || escapeDunders[kw.name] {
			a.report(Issue{RuleID: RuleObfuscated, Offset: kw.off,
				Message:  fmt.Sprintf("keyword argument named %s: dict(%s=...) is a known way to spell a dunder name without writing a string", kw.name, kw.name),
				Evidence: kw.name + "="})
		}
		a.visit(kw.value, false, false)
	}
	if n.x != nil {
		a.visit(n.x, isAccess(n) && isAccess(n.x), builder || inBuilder && n.kind == nBinary)
	}
	if n.y != nil {
		a.visit(n.y, false, builder && n.kind == nBinary)
	}
	for _, c := range n.args {
		a.visit(c, false, false)
	}
}

func (a *analyzer) checkLiteral(n *node) {
	s := n.str
	switch {
	case strongLiteral(s):
		a.report(Issue{RuleID: RuleObfuscated, Offset: n.off,
			Message:  "string literal names a sandbox-escape attribute",
			Evidence: quote(s)})
	case n.escaped && (strings.Contains(s, "__") || suspiciousString(s)):
		a.report(Issue{RuleID: RuleObfuscated, Offset: n.off,
			Message:  "string literal hides identifier characters behind escape sequences and decodes to " + quote(s),
			Evidence: quote(s)})
	case n.escaped:
		a.report(Issue{RuleID: RuleObfuscated, Severity: finding.SeverityLow, Offset: n.off,
			Message:  "string literal writes letters, digits or underscores as escape sequences",
			Evidence: quote(s)})
	}
}

func (a *analyzer) checkBuilt(n *node, v value) {
	var hits []string
	var walk func(v value)
	walk = func(v value) {
		switch v.kind {
		case vStr:
			if suspiciousString(v.s) {
				hits = append(hits, v.s)
			}
		case vList:
			for _, e := range v.list {
				walk(e)
			}
		}
	}
	walk(v)
	if len(hits) == 0 {
		return
	}
	a.report(Issue{RuleID: RuleObfuscated, Offset: n.off,
		Message:  "expression builds the name " + quote(hits[0]) + " from pieces",
		Evidence: render(n, 0)})
}

// checkCall looks inside str.format templates: "{0.__class__}" walks
// attributes of the argument.
func (a *analyzer) checkCall(n *node) {
	if n.x == nil || n.x.kind != nGetattr || (n.x.name != "format" && n.x.name != "format_map") {
		return
	}
	recv := a.fold(n.x.x, 0)
	if recv.kind != vStr {
		return
	}
	for _, field := range formatFields(recv.s) {
		for _, part := range fieldParts(field) {
			if escapeDunders[part] || isDunder(part) || reachNames[part] && !weakReachNames[part] {
				rule, sev := RuleDangerousRef, finding.SeverityNone
				if escapeDunders[part] {
					rule = RuleSandboxEscape
				}
				a.report(Issue{RuleID: rule, Severity: sev, Offset: n.off,
					Message:  fmt.Sprintf("str.format field {%s} walks to attribute %s of its argument", field, part),
					Evidence: render(n, 0)})
				break
			}
		}
	}
}

// step is one hop of an access chain.
type step struct {
	kind  string // "attr", "item", "call", "filter", "test"
	name  string
	known bool
	off   int
}

// chain judges a whole access chain such as
// cycler.__init__.__globals__.os.popen('id').read().
func (a *analyzer) chain(top *node) {
	var steps []step
	n := top
	for n != nil && isAccess(n) && len(steps) < 1000 {
		switch n.kind {
		case nGetattr:
			steps = append(steps, step{kind: "attr", name: n.name, known: true, off: n.off})
		case nGetitem:
			k := a.fold(n.y, 0)
			switch k.kind {
			case vStr:
				steps = append(steps, step{kind: "item", name: k.s, known: true, off: n.off})
			case vInt:
				steps = append(steps, step{kind: "index", known: true, off: n.off})
			default:
				if n.y != nil && n.y.kind == nSlice {
					steps = append(steps, step{kind: "index", known: true, off: n.off})
				} else {
					steps = append(steps, step{kind: "item", off: n.off})
				}
			}
		case nCall:
			steps = append(steps, step{kind: "call", known: true, off: n.off})
		case nFilter:
			steps = append(steps, a.filterSteps(n)...)
		case nTest:
			steps = append(steps, step{kind: "test", name: n.name, known: true, off: n.off})
		}
		n = n.x
	}
	// steps were collected outermost first; reverse to read left to right.
	for i, j := 0, len(steps)-1; i < j; i, j = i+1, j-1 {
		steps[i], steps[j] = steps[j], steps[i]
	}
	root := n
	rootName := ""
	if root != nil && root.kind == nName {
		rootName = root.name
	}
	var escape, dunder, reach, weak, computed, private string
	sawEscape := rootDangerNames[rootName]
	for i, s := range steps {
		isName := s.kind == "attr" || s.kind == "item"
		switch {
		case isName && !s.known:
			prevEscaped := sawEscape || (i == 0 && gadgetGlobals[rootName])
			if prevEscaped && computed == "" {
				computed = "an item whose key is computed at render time"
			}
		case s.kind == "attr-computed":
			if computed == "" {
				computed = "attr() with a name computed at render time"
			}
		case !isName:
		case escapeDunders[s.name]:
			// Name the most telling hop: __globals__ says more than __init__.
			if escape == "" || (!strongLiteral(escape) && strongLiteral(s.name)) {
				escape = s.name
			}
			sawEscape = true
		case isDunder(s.name):
			if dunder == "" {
				dunder = s.name
			}
			sawEscape = true
		case reachNames[s.name] && !weakReachNames[s.name]:
			if reach == "" {
				reach = s.name
			}
		case weakReachNames[s.name] && sawEscape:
			if weak == "" {
				weak = s.name
			}
		case isPrivate(s.name):
			if private == "" {
				private = s.name
			}
			if gadgetGlobals[rootName] {
				sawEscape = true
			}
		}
	}
	ev := render(top, 0)
	switch {
	case escape != "" || (dunder != "" && (reach != "" || weak != "")):
		name := escape
		if name == "" {
			name = dunder
		}
		msg := fmt.Sprintf("expression walks to %s", name)
		if r := firstNonEmpty(reach, weak); r != "" {
			msg += " and reaches " + r
		}
		if rootName != "" {
			msg += " starting from " + rootName
		}
		a.report(Issue{RuleID: RuleSandboxEscape, Offset: top.off, Message: msg + " (CVE-2024-34359 class server-side template injection)", Evidence: ev})
	case dunder != "":
		a.report(Issue{RuleID: RuleDangerousRef, Offset: top.off, Message: "expression reads the dunder attribute " + dunder, Evidence: ev})
	case reach != "" || rootDangerNames[rootName]:
		a.report(Issue{RuleID: RuleDangerousRef, Offset: top.off, Message: "expression references " + firstNonEmpty(reach, rootName) + ", which only code execution needs", Evidence: ev})
	case private != "" && gadgetGlobals[rootName]:
		a.report(Issue{RuleID: RuleDangerousRef, Offset: top.off, Message: fmt.Sprintf("expression reads private attribute %s of the template global %s", private, rootName), Evidence: ev})
	case computed == "" && private != "":
		a.report(Issue{RuleID: RuleDangerousRef, Severity: finding.SeverityLow, Offset: top.off, Message: "expression reads the private attribute " + private + " (a sandboxed environment forbids this)", Evidence: ev})
	}
	if computed != "" {
		a.report(Issue{RuleID: RuleComputedAttr, Offset: top.off, Message: "expression accesses " + computed, Evidence: ev})
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// filterSteps turns attribute-reading filters into steps: attr(name),
// map(attribute=...), selectattr('a.b'), map('attr', name) ...
func (a *analyzer) filterSteps(n *node) []step {
	name := func(e *node) step {
		v := a.fold(e, 0)
		if v.kind == vStr {
			return step{kind: "attr", name: v.s, known: true, off: n.off}
		}
		return step{kind: "attr-computed", off: n.off}
	}
	dotted := func(e *node) []step {
		v := a.fold(e, 0)
		if v.kind != vStr {
			return nil // a computed attribute path in map/selectattr is unusual but not a getattr escape by itself
		}
		var out []step
		for _, p := range strings.Split(v.s, ".") {
			out = append(out, step{kind: "attr", name: p, known: true, off: n.off})
		}
		// Reverse: chain() reverses the whole list afterwards.
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		return out
	}
	var out []step
	switch n.name {
	case "attr":
		if len(n.args) > 0 {
			out = append(out, name(n.args[0]))
		}
	case "map":
		if len(n.args) >= 2 {
			if v := a.fold(n.args[0], 0); v.kind == vStr && v.s == "attr" {
				out = append(out, name(n.args[1]))
			}
		}
	case "selectattr", "rejectattr":
		if len(n.args) > 0 {
			out = append(out, dotted(n.args[0])...)
		}
	}
	for _, kw := range n.kwargs {
		if kw.name == "attribute" {
			out = append(out, dotted(kw.value)...)
		}
	}
	out = append(out, step{kind: "filter", name: n.name, known: true, off: n.off})
	return out
}

// fold evaluates n when it is a constant built from literals.
func (a *analyzer) fold(n *node, depth int) value {
	if n == nil || depth > 100 || a.budget <= 0 {
		return value{}
	}
	v := a.fold1(n, depth)
	switch v.kind {
	case vStr:
		a.budget -= int64(len(v.s)) + 1
	case vList:
		a.budget -= int64(len(v.list)) * 16
	}
	return v
}

func (a *analyzer) fold1(n *node, depth int) value {
	switch n.kind {
	case nConst:
		if n.isStr {
			return value{kind: vStr, s: n.str, built: n.escaped}
		}
		if n.isNum {
			return value{kind: vInt, n: n.num}
		}
	case nName:
		return a.consts[n.name]
	case nGetattr:
		if n.x != nil && n.x.kind == nName {
			return a.consts[n.x.name+"."+n.name]
		}
	case nList:
		out := value{kind: vList}
		for _, e := range n.args {
			v := a.fold(e, depth+1)
			out.built = out.built || v.built
			out.list = append(out.list, v)
		}
		return out
	case nUnary:
		if v := a.fold(n.x, depth+1); v.kind == vInt {
			switch n.name {
			case "-":
				return value{kind: vInt, n: -v.n}
			case "+":
				return v
			}
		}
	case nBinary:
		return a.foldBinary(n, depth)
	case nGetitem:
		return a.foldIndex(a.fold(n.x, depth+1), n.y, depth)
	case nFilter:
		return a.foldFilter(n, depth)
	case nCall:
		return a.foldCall(n, depth)
	}
	return value{}
}

func toStr(v value) (string, bool) {
	switch v.kind {
	case vStr:
		return v.s, true
	case vInt:
		return strconv.FormatInt(v.n, 10), true
	}
	return "", false
}

func str(s string) value {
	if len(s) > maxFold {
		return value{}
	}
	return value{kind: vStr, s: s, built: true}
}

func (a *analyzer) foldBinary(n *node, depth int) value {
	l, r := a.fold(n.x, depth+1), a.fold(n.y, depth+1)
	switch n.name {
	case "~":
		ls, ok1 := toStr(l)
		rs, ok2 := toStr(r)
		if ok1 && ok2 {
			return str(ls + rs)
		}
	case "+":
		switch {
		case l.kind == vStr && r.kind == vStr:
			return str(l.s + r.s)
		case l.kind == vInt && r.kind == vInt:
			return value{kind: vInt, n: l.n + r.n}
		case l.kind == vList && r.kind == vList && len(l.list)+len(r.list) < 4096:
			return value{kind: vList, list: append(append([]value{}, l.list...), r.list...), built: true}
		}
	case "*":
		// r.n is bounded first so that the product cannot overflow.
		if l.kind == vStr && r.kind == vInt && r.n >= 0 && r.n <= maxFold && int64(len(l.s))*r.n <= maxFold {
			return str(strings.Repeat(l.s, int(r.n)))
		}
	case "%":
		if l.kind == vStr {
			args := []value{r}
			if r.kind == vList {
				args = r.list
			}
			if s, ok := percentFormat(l.s, args); ok {
				return str(s)
			}
		}
	}
	return value{}
}

func (a *analyzer) foldIndex(base value, key *node, depth int) value {
	if key != nil && key.kind == nSlice {
		var idx [3]*int64
		for i, p := range key.args {
			if p == nil {
				continue
			}
			v := a.fold(p, depth+1)
			if v.kind != vInt {
				return value{}
			}
			n := v.n
			idx[i] = &n
		}
		return sliceValue(base, idx)
	}
	k := a.fold(key, depth+1)
	if k.kind != vInt {
		return value{}
	}
	switch base.kind {
	case vStr:
		rs := []rune(base.s)
		i := k.n
		if i < 0 {
			i += int64(len(rs))
		}
		if i >= 0 && i < int64(len(rs)) {
			return str(string(rs[i]))
		}
	case vList:
		i := k.n
		if i < 0 {
			i += int64(len(base.list))
		}
		if i >= 0 && i < int64(len(base.list)) {
			v := base.list[i]
			v.built = true
			return v
		}
	}
	return value{}
}

// sliceValue implements Python slicing for strings and lists.
func sliceValue(base value, idx [3]*int64) value {
	var n int64
	var rs []rune
	switch base.kind {
	case vStr:
		rs = []rune(base.s)
		n = int64(len(rs))
	case vList:
		n = int64(len(base.list))
	default:
		return value{}
	}
	step := int64(1)
	if idx[2] != nil {
		step = *idx[2]
	}
	if step == 0 {
		return value{}
	}
	// A step longer than the sequence takes one element at most; clamping
	// it keeps i += step from overflowing into a negative index.
	if step > n {
		step = n + 1
	} else if step < -n {
		step = -n - 1
	}
	norm := func(p *int64, def int64) int64 {
		if p == nil {
			return def
		}
		v := *p
		if v < 0 {
			v += n
		}
		lo, hi := int64(0), n
		if step < 0 {
			lo, hi = -1, n-1
		}
		if v < lo {
			v = lo
		}
		if v > hi {
			v = hi
		}
		return v
	}
	var start, stop int64
	if step > 0 {
		start, stop = norm(idx[0], 0), norm(idx[1], n)
	} else {
		start, stop = norm(idx[0], n-1), norm(idx[1], -1)
	}
	in := func(i int64) bool { return (step > 0 && i < stop) || (step < 0 && i > stop) }
	if base.kind == vStr {
		out := make([]rune, 0, min(n, maxFold))
		for i := start; in(i); i += step {
			out = append(out, rs[i])
		}
		return str(string(out))
	}
	out := value{kind: vList, built: true}
	for i := start; in(i); i += step {
		out.list = append(out.list, base.list[i])
	}
	return out
}

func (a *analyzer) foldArgs(args []*node, depth int) []value {
	out := make([]value, len(args))
	for i, e := range args {
		out[i] = a.fold(e, depth+1)
	}
	return out
}

func (a *analyzer) foldFilter(n *node, depth int) value {
	x := a.fold(n.x, depth+1)
	args := a.foldArgs(n.args, depth)
	switch n.name {
	case "join":
		sep := ""
		if len(args) > 0 {
			if s, ok := toStr(args[0]); ok {
				sep = s
			} else {
				return value{}
			}
		}
		return joinValue(x, sep)
	case "format":
		if x.kind == vStr {
			if s, ok := percentFormat(x.s, args); ok {
				return str(s)
			}
		}
	case "reverse":
		if x.kind == vStr {
			rs := []rune(x.s)
			for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
				rs[i], rs[j] = rs[j], rs[i]
			}
			return str(string(rs))
		}
		if x.kind == vList {
			return sliceValue(x, [3]*int64{nil, nil, ptr(-1)})
		}
	case "replace":
		if x.kind == vStr && len(args) >= 2 && args[0].kind == vStr && args[1].kind == vStr {
			return replaceValue(x.s, args[0].s, args[1].s)
		}
	case "lower":
		if x.kind == vStr {
			return str(strings.ToLower(x.s))
		}
	case "upper":
		if x.kind == vStr {
			return str(strings.ToUpper(x.s))
		}
	case "trim":
		if x.kind == vStr {
			return str(strings.TrimSpace(x.s))
		}
	case "string":
		if s, ok := toStr(x); ok {
			return str(s)
		}
	case "list":
		if x.kind == vStr {
			out := value{kind: vList, built: true}
			for _, r := range x.s {
				out.list = append(out.list, str(string(r)))
			}
			return out
		}
		if x.kind == vList {
			x.built = true
			return x
		}
	case "first", "last":
		i := int64(0)
		if n.name == "last" {
			i = -1
		}
		k := &node{kind: nConst, isNum: true, num: i}
		return a.foldIndex(x, k, depth)
	}
	return value{}
}

func ptr(v int64) *int64 { return &v }

// replaceValue folds s.replace(old, new), giving up before building a
// result longer than maxFold: with an empty or short old and a long new
// the output is quadratic in the input.
func replaceValue(s, old, new string) value {
	n := int64(strings.Count(s, old))
	if int64(len(s))+n*(int64(len(new))-int64(len(old))) > maxFold {
		return value{}
	}
	return str(strings.ReplaceAll(s, old, new))
}

// joinValue folds sep.join(x), giving up before building a result longer
// than maxFold (a long separator between many parts is quadratic).
func joinValue(x value, sep string) value {
	var parts []string
	switch x.kind {
	case vStr:
		parts = strings.Split(x.s, "")
	case vList:
		parts = make([]string, 0, len(x.list))
		for _, e := range x.list {
			s, ok := toStr(e)
			if !ok {
				return value{}
			}
			parts = append(parts, s)
		}
	default:
		return value{}
	}
	total := int64(0)
	if len(parts) > 1 {
		total = int64(len(sep)) * int64(len(parts)-1)
	}
	for _, p := range parts {
		total += int64(len(p))
	}
	if total > maxFold {
		return value{}
	}
	return str(strings.Join(parts, sep))
}

func (a *analyzer) foldCall(n *node, depth int) value {
	if n.x == nil {
		return value{}
	}
	// dict(a=1, b=2) iterates as its keys: dict(__class__=1)|first.
	if n.x.kind == nName && n.x.name == "dict" && len(n.args) == 0 {
		out := value{kind: vList, built: true}
		for _, kw := range n.kwargs {
			out.list = append(out.list, str(kw.name))
		}
		return out
	}
	if n.x.kind != nGetattr {
		return value{}
	}
	recv := a.fold(n.x.x, depth+1)
	args := a.foldArgs(n.args, depth)
	switch n.x.name {
	case "join":
		if recv.kind == vStr && len(args) == 1 {
			return joinValue(args[0], recv.s)
		}
	case "format":
		if recv.kind == vStr {
			kw := map[string]value{}
			for _, k := range n.kwargs {
				kw[k.name] = a.fold(k.value, depth+1)
			}
			if s, ok := braceFormat(recv.s, args, kw); ok {
				return str(s)
			}
		}
	case "replace":
		if recv.kind == vStr && len(args) >= 2 && args[0].kind == vStr && args[1].kind == vStr {
			return replaceValue(recv.s, args[0].s, args[1].s)
		}
	case "lower", "casefold":
		if recv.kind == vStr {
			return str(strings.ToLower(recv.s))
		}
	case "upper":
		if recv.kind == vStr {
			return str(strings.ToUpper(recv.s))
		}
	case "strip", "lstrip", "rstrip":
		if recv.kind == vStr && len(args) == 0 {
			switch n.x.name {
			case "strip":
				return str(strings.TrimSpace(recv.s))
			case "lstrip":
				return str(strings.TrimLeft(recv.s, " \t\r\n\f\v"))
			default:
				return str(strings.TrimRight(recv.s, " \t\r\n\f\v"))
			}
		}
	}
	return value{}
}

// percentFormat implements the %s %d %i %c %% conversions of Python's
// printf-style formatting.
func percentFormat(f string, args []value) (string, bool) {
	var b strings.Builder
	ai := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		i++
		if i >= len(f) {
			return "", false
		}
		c := f[i]
		if c == '%' {
			b.WriteByte('%')
			continue
		}
		if ai >= len(args) {
			return "", false
		}
		v := args[ai]
		ai++
		switch c {
		case 's':
			s, ok := toStr(v)
			if !ok {
				return "", false
			}
			b.WriteString(s)
		case 'd', 'i':
			if v.kind != vInt {
				return "", false
			}
			b.WriteString(strconv.FormatInt(v.n, 10))
		case 'c':
			switch {
			case v.kind == vInt && v.n >= 0 && v.n <= 0x10ffff:
				b.WriteRune(rune(v.n))
			case v.kind == vStr && len([]rune(v.s)) == 1:
				b.WriteString(v.s)
			default:
				return "", false
			}
		default:
			return "", false
		}
		if b.Len() > maxFold {
			return "", false
		}
	}
	return b.String(), ai == len(args)
}

// formatFields lists the field names of a str.format template.
func formatFields(f string) []string {
	var out []string
	for i := 0; i < len(f) && len(out) < 1000; i++ {
		if f[i] != '{' {
			continue
		}
		if i+1 < len(f) && f[i+1] == '{' {
			i++
			continue
		}
		j := strings.IndexByte(f[i:], '}')
		if j < 0 {
			break
		}
		field := f[i+1 : i+j]
		if k := strings.IndexAny(field, "!:"); k >= 0 {
			field = field[:k]
		}
		out = append(out, field)
		i += j
	}
	return out
}

// fieldParts splits "0.__class__[x]" into its attribute and item names.
func fieldParts(field string) []string {
	out := strings.FieldsFunc(field, func(r rune) bool { return r == '.' || r == '[' || r == ']' })
	if len(out) > 0 {
		out = out[1:] // the argument itself
	}
	return out
}

// braceFormat implements str.format for plain and :c fields.
func braceFormat(f string, args []value, kw map[string]value) (string, bool) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c == '}' {
			if i+1 < len(f) && f[i+1] == '}' {
				i++
			}
			b.WriteByte('}')
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(f) && f[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		j := strings.IndexByte(f[i:], '}')
		if j < 0 {
			return "", false
		}
		field := f[i+1 : i+j]
		i += j
		spec := ""
		if k := strings.IndexByte(field, ':'); k >= 0 {
			field, spec = field[:k], field[k+1:]
		}
		if strings.ContainsAny(field, ".[!") {
			return "", false
		}
		var v value
		switch {
		case field == "":
			if auto >= len(args) {
				return "", false
			}
			v = args[auto]
			auto++
		case field[0] >= '0' && field[0] <= '9':
			k, err := strconv.Atoi(field)
			if err != nil || k >= len(args) {
				return "", false
			}
			v = args[k]
		default:
			var ok bool
			if v, ok = kw[field]; !ok {
				return "", false
			}
		}
		switch spec {
		case "":
			s, ok := toStr(v)
			if !ok {
				return "", false
			}
			b.WriteString(s)
		case "c":
			if v.kind != vInt || v.n < 0 || v.n > 0x10ffff {
				return "", false
			}
			b.WriteRune(rune(v.n))
		default:
			return "", false
		}
		if b.Len() > maxFold {
			return "", false
		}
	}
	return b.String(), true
}

func quote(s string) string {
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return strconv.Quote(strings.ToValidUTF8(s, "?"))
}

// render prints an expression compactly for evidence.
func render(n *node, depth int) string {
	s := renderNode(n, depth)
	if len(s) > 240 {
		s = s[:240] + "..."
	}
	return s
}

func renderNode(n *node, depth int) string {
	if n == nil {
		return ""
	}
	if depth > 30 {
		return "..."
	}
	r := func(m *node) string { return renderNode(m, depth+1) }
	// Evidence is clipped to 240 bytes, so long constants and argument
	// lists are cut here rather than rendered in full for every finding.
	const maxParts, maxStr = 8, 240
	args := func(m *node) string {
		var parts []string
		for _, x := range m.args {
			if len(parts) == maxParts {
				parts = append(parts, "...")
				break
			}
			parts = append(parts, r(x))
		}
		for _, kw := range m.kwargs {
			if len(parts) >= maxParts {
				if parts[len(parts)-1] != "..." {
					parts = append(parts, "...")
				}
				break
			}
			parts = append(parts, kw.name+"="+r(kw.value))
		}
		return strings.Join(parts, ", ")
	}
	switch n.kind {
	case nName:
		return n.name
	case nConst:
		if n.isStr {
			if len(n.str) > maxStr {
				return quote(n.str[:maxStr]) + "..."
			}
			return quote(n.str)
		}
		if n.isNum {
			return strconv.FormatInt(n.num, 10)
		}
		if n.name != "" {
			return n.name
		}
		return "<number>"
	case nGetattr:
		return r(n.x) + "." + n.name
	case nGetitem:
		return r(n.x) + "[" + r(n.y) + "]"
	case nCall:
		return r(n.x) + "(" + args(n) + ")"
	case nFilter:
		s := r(n.x) + "|" + n.name
		if len(n.args)+len(n.kwargs) > 0 {
			s += "(" + args(n) + ")"
		}
		return s
	case nTest:
		return r(n.x) + " is " + n.name
	case nBinary:
		return "(" + r(n.x) + " " + n.name + " " + r(n.y) + ")"
	case nUnary:
		return n.name + " " + r(n.x)
	case nList:
		return "[" + args(n) + "]"
	case nDict:
		return "{...}"
	case nSlice:
		var parts []string
		for _, p := range n.args {
			parts = append(parts, r(p))
		}
		return strings.Join(parts, ":")
	case nCond:
		return r(n.x) + " if " + r(n.y) + " else ..."
	}
	return "?"
}
