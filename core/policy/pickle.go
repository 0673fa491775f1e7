package policy

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/pickle"
	"github.com/modelgate/modelgate/core/rules"
)

// Nested is a constant payload that a nested loader in the pickle would
// deserialize; the caller scans it recursively.
type Nested struct {
	Loader string
	Offset int64
	Data   pickle.Value // KBytes or KStr
	// Routine is set when the nesting is how a library normally pickles
	// its objects (pickle.dumps of a torch tensor embeds torch.save bytes
	// loaded by torch.storage._load_from_bytes). The payload is still
	// scanned; only the nesting itself is not worth a finding.
	Routine bool
	// Latin1 is set when the payload is protocol 2's spelling of bytes,
	// _codecs.encode(text, "latin1"), and Data is truncated: Data.O.S holds
	// the decoded prefix, while the whole payload is the code points of the
	// UTF-8 text at stream offset Data.O.Off, Data.O.Len bytes long.
	Latin1 bool
}

// torchLegacyMagic is how every torch.save legacy-format stream starts:
// the pickled magic number 0x1950a86a20f9469cfc6c.
const torchLegacyMagic = "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."

func nested(loader string, off int64, data pickle.Value, latin1 bool) Nested {
	routine := loader == "torch.storage._load_from_bytes" && data.O != nil && strings.HasPrefix(data.O.S, torchLegacyMagic)
	return Nested{Loader: loader, Offset: off, Data: data, Routine: routine, Latin1: latin1 && data.O.Truncated()}
}

// nestedLoaders deserialize their first argument.
var nestedLoaders = set(
	"pickle.loads", "_pickle.loads", "pickle._loads", "dill.loads", "dill._dill.loads",
	"cloudpickle.loads", "torch.load", "torch.serialization.load", "torch.storage._load_from_bytes",
	"numpy.load", "joblib.load", "marshal.loads", "torch.utils._config_module.ConfigModule.load_config",
)

// PickleVerdict is the policy's judgement of one trace.
type PickleVerdict struct {
	Findings []finding.Finding
	Nested   []Nested
	// Unscanned says why the trace stopped early when a resource budget
	// (max_opcodes, max_memo, max_stack, max_pickles) stopped it: the rest
	// was not scanned, which is not a finding about the content.
	Unscanned []string
}

// resolved describes what a symbolic callable is.
type resolved struct {
	name  string // canonical dotted name, "" if unknown
	class Class
	why   string
	// attr is the attribute fetched when the callable came from getattr
	// or a dotted name (a method), so dispatchers and in-place writers are
	// recognised on objects the pickle built.
	attr string
}

// JudgePickle turns a VM trace into findings. context is the container
// kind ("" for a plain pickle, "pytorch" for checkpoints, ...), which only
// affects how stacked pickles are reported.
func (p *Policy) JudgePickle(tr *pickle.Trace, context string) PickleVerdict {
	j := &judge{p: p, tr: tr, invoked: map[string]bool{}, reported: map[string]bool{},
		uses: map[string]useInfo{}, globals: make(map[string]bool, len(tr.Globals))}
	names := make([]string, len(tr.Globals))
	for i, g := range tr.Globals {
		names[i] = Canonical(g.Module, g.Name)
		j.globals[names[i]] = true
	}
	for _, c := range tr.Calls {
		j.judgeCall(c)
	}
	for i, g := range tr.Globals {
		q := names[i]
		cls := p.ClassifyGlobal(g.Module, g.Name)
		switch cls {
		case Dangerous:
			if j.invoked[q] || j.reported["import:"+q] {
				continue
			}
			j.reported["import:"+q] = true
			j.add(finding.Finding{RuleID: rules.DangerousImport, Offset: g.Offset, Global: q,
				Message:  fmt.Sprintf("imports %s, which can run code or reach the OS", q),
				Evidence: fmt.Sprintf("%s %s %s", g.Op, g.Module, g.Name)})
		case Unknown:
			if j.reported["unknown:"+q] {
				continue
			}
			j.reported["unknown:"+q] = true
			u := j.uses[q]
			if u.use == Referenced && p.refSafe(q) {
				// A library function stored as data (FunctionTransformer(np.log1p),
				// a scorer's metric) and never called at load.
				continue
			}
			f := finding.Finding{RuleID: rules.UnknownGlobal, Severity: p.UnknownSeverity(u.use), Offset: g.Offset, Global: q,
				Evidence: fmt.Sprintf("%s %s %s", g.Op, g.Module, g.Name)}
			switch u.use {
			case Invoked:
				f.Message = fmt.Sprintf("calls %s when loaded, and it is not on the allowlist", q)
				f.Call, f.Offset = u.call, u.offset
				f.Evidence += "; " + u.how
			case Reconstructed:
				f.Message = fmt.Sprintf("instantiates %s, which is not on the allowlist, through a standard reconstructor with plain-data arguments", q)
				f.Call = u.call
			default:
				f.Message = fmt.Sprintf("imports %s, which is not on the allowlist (referenced, not called at load)", q)
			}
			j.add(f)
		}
	}
	for _, ev := range tr.Events {
		j.judgeEvent(ev, context)
	}
	return PickleVerdict{Findings: j.out, Nested: j.nested, Unscanned: j.unscanned}
}

type judge struct {
	p         *Policy
	tr        *pickle.Trace
	out       []finding.Finding
	nested    []Nested
	invoked   map[string]bool
	reported  map[string]bool
	unscanned []string
	// states maps objects to the BUILD state applied to them: partial's
	// __setstate__ replaces the wrapped callable and its arguments. Built
	// on first use (see stateOf): only wrapper calls consult it, while a
	// model pickle BUILDs thousands of objects.
	states map[*pickle.Object]pickle.Value
	// uses records, per unknown global, the most exposed way the pickle
	// uses it (the decision table keys on it).
	uses map[string]useInfo
	// globals are the canonical names the trace imports.
	globals map[string]bool
	// depth bounds dispatcher recursion.
	depth int
}

// stateOf returns the BUILD state last applied to the call result o.
func (j *judge) stateOf(o *pickle.Object) (pickle.Value, bool) {
	if j.states == nil {
		j.states = map[*pickle.Object]pickle.Value{}
		for _, ev := range j.tr.Events {
			if ev.Kind == pickle.EvBuild && ev.Target.Kind == pickle.KCall && ev.Target.O != nil {
				j.states[ev.Target.O] = ev.Arg
			}
		}
	}
	st, ok := j.states[o]
	return st, ok
}

type useInfo struct {
	use    Use
	offset int64
	call   string
	how    string
}

// use records that global q is used as u at the call c.
func (j *judge) use(q string, u Use, c *pickle.Call, how string) {
	if old, ok := j.uses[q]; ok && old.use >= u {
		return
	}
	j.uses[q] = useInfo{use: u, offset: c.Offset, call: renderCall(c), how: how}
}

func (j *judge) add(f finding.Finding) { j.out = append(j.out, f) }

// resolve works out which callable a symbolic value is, following getattr,
// functools.partial and similar indirections.
func (j *judge) resolve(v pickle.Value, depth int) resolved {
	if depth > 8 {
		return resolved{class: Dangerous, why: "indirection too deep"}
	}
	switch v.Kind {
	case pickle.KGlobal:
		q := Canonical(v.O.Module, v.O.Name)
		return resolved{name: q, class: j.p.ClassifyGlobal(v.O.Module, v.O.Name)}
	case pickle.KCall:
		c := v.O.Call
		callee := j.resolve(c.Callee, depth+1)
		// The names below are resultLookedInto: keep the two in step.
		switch callee.name {
		case "builtins.getattr":
			if len(c.Args) >= 2 && c.Args[1].IsStr() {
				attr := c.Args[1].Str()
				base := j.resolve(c.Args[0], depth+1)
				if isDunder(attr) || strongComponents[attr] {
					return resolved{name: base.name + "." + attr, class: Dangerous, why: "getattr of " + attr, attr: attr}
				}
				if r, ok := j.enumLookup(c.Args[0], base, attr); ok {
					return r
				}
				if base.class == Safe && isSafeType(base.name) && !strings.HasPrefix(attr, "_") {
					// Methods of str, int, dict... only compute on values.
					return resolved{name: base.name + "." + attr, class: Safe}
				}
				if sinkAttrs[attr] {
					// A method that runs code or does I/O, fetched from
					// whatever object the pickle built or imported.
					return resolved{name: base.name + "." + attr, class: Dangerous, why: "getattr of " + attr, attr: attr}
				}
				if base.name != "" && (c.Args[0].Kind == pickle.KGlobal || base.class == Safe) {
					q := base.name + "." + attr
					if base.class == Safe && (isSafeType(base.name) || inertEnums[base.name]) && !strings.HasPrefix(attr, "_") {
						// Methods of str, int, dict... only compute on values;
						// enum members are values.
						return resolved{name: q, class: Safe}
					}
					return resolved{name: q, class: j.p.Classify(q), attr: attr}
				}
				return resolved{name: "getattr(" + clip(c.Args[0].String(), 120) + ", " + attr + ")", class: Unknown, attr: attr}
			}
			return resolved{name: "getattr(...)", class: Dangerous, why: "attribute name is not a constant"}
		case "numpy.core._ufunc_reconstruct", "numpy._core._ufunc_reconstruct",
			"scipy._lib._uarray._backend.unpickle_function", "torch._utils._import_dotted_name":
			// The result is the global these arguments name.
			return j.resolveNamed(callee.name, c)
		case "functools.partial", "numpy.vectorize", "builtins.staticmethod", "builtins.classmethod":
			// Calling the wrapper calls the wrapped callable, which a BUILD
			// state (partial.__setstate__'s (func, args, kwds, dict)) may
			// have replaced.
			if st, ok := j.stateOf(v.O); ok && st.Kind == pickle.KTuple && len(st.O.Items) > 0 {
				if inner := j.resolve(st.O.Items[0], depth+1); inner.class != Safe {
					return inner
				}
			}
			if len(c.Args) >= 1 {
				return j.resolve(c.Args[0], depth+1)
			}
		}
		if callee.class == NeedsCall {
			callee = j.callDependent(callee, c)
		}
		if productsCallable[callee.name] {
			// itemgetter(k)(obj) indexes whatever obj is; a pickle never
			// needs to call such a product while loading.
			return resolved{name: callee.name + "()", class: Unknown}
		}
		// A call result called again: the callee's product. Safe
		// constructors produce inert objects.
		if callee.class == Safe {
			return resolved{name: callee.name + "()", class: Safe}
		}
		return resolved{name: callee.name + "()", class: callee.class}
	case pickle.KPersistent:
		// torch's legacy persistent_load returns saved_id[1] for a
		// ('module', obj, ...) id and the tar format's returns saved_id[0] for
		// any tuple: the "persistent object" is then whatever the pickle put
		// there, which a later REDUCE can call.
		if pid := v.O.PID; pid != nil && pid.Kind == pickle.KTuple && len(pid.O.Items) > 0 {
			first := pid.O.Items[0]
			switch {
			case (first.IsStr() || first.Kind == pickle.KBytes) && first.Str() == "module" && len(pid.O.Items) > 1:
				return j.resolve(pid.O.Items[1], depth+1)
			case first.Kind == pickle.KGlobal || first.Kind == pickle.KCall:
				return j.resolve(first, depth+1)
			}
		}
		return resolved{name: "persistent_load(...)", class: Safe}
	}
	return resolved{name: v.String(), class: Unknown}
}

func isSafeType(q string) bool {
	if n, ok := strings.CutPrefix(q, "builtins."); ok {
		return safeBuiltins[n]
	}
	return false
}

func (j *judge) judgeCall(c *pickle.Call) {
	if j.judgeCode(c) {
		return
	}
	r := j.resolve(c.Callee, 0)
	switch r.class {
	case NeedsCall:
		r = j.callDependent(r, c)
	case Safe:
		r = j.callThrough(r, c)
	}
	if nestedLoaders[r.name] && len(c.Args) >= 1 && (c.Args[0].Kind == pickle.KBytes || c.Args[0].Kind == pickle.KStr) {
		j.nested = append(j.nested, nested(r.name, c.Offset, c.Args[0], false))
	} else if b, ok := latin1Bytes(c.Args); nestedLoaders[r.name] && ok {
		j.nested = append(j.nested, nested(r.name, c.Offset, b, true))
	}
	if r.name != "" && r.class != Unknown {
		j.invoked[r.name] = true
		if c.Callee.Kind == pickle.KGlobal {
			j.invoked[Canonical(c.Callee.O.Module, c.Callee.O.Name)] = true
		}
	}
	if r.class != Dangerous && r.class != Safe {
		if what := tampers(r); what != "" {
			// Reported as tampering, not again as an unknown call.
			j.reported["unknown:"+r.name] = true
			call := renderCall(c)
			j.add(finding.Finding{RuleID: rules.WeightTampering, Offset: c.Offset, Global: r.name, Call: call,
				Message:  fmt.Sprintf("writes into model data while loading: %s (%s)", r.name, what),
				Evidence: c.Op + " " + call})
			return
		}
	}
	j.dispatch(r, c)
	switch r.class {
	case Dangerous:
		msg := fmt.Sprintf("calls %s when loaded", r.name)
		if r.why != "" {
			msg += " (" + r.why + ")"
		}
		if !c.Used {
			msg += "; the result is discarded, a sign the call exists only for its side effect"
		}
		// Rendered only for findings: most calls of a benign pickle
		// report nothing.
		call := renderCall(c)
		j.add(finding.Finding{RuleID: rules.DangerousCall, Offset: c.Offset, Global: r.name, Call: call,
			Message: msg, Evidence: c.Op + " " + call})
	case Unknown:
		if c.Callee.Kind == pickle.KGlobal {
			q := Canonical(c.Callee.O.Module, c.Callee.O.Name)
			if r.name == q {
				// Reported once per global by the import pass, at the
				// severity of its most exposed use.
				u := Invoked
				if (c.Op == "NEWOBJ" || c.Op == "NEWOBJ_EX") && j.plainArgs(c) {
					u = Reconstructed
				}
				j.use(q, u, c, c.Op)
				return
			}
			// An argument-judged helper resolved to something unknown (a
			// partial of an unknown function, an import helper naming an
			// unknown global): the helper's product is referenced.
			j.reportUnknown(r.name, Referenced, c)
			return
		}
		j.markInvoked(r, c)
	}
}

// markInvoked records that the callable r is called at c: an unknown global
// is reported by the import pass as invoked, a computed callee here.
func (j *judge) markInvoked(r resolved, c *pickle.Call) {
	if j.globals[r.name] {
		j.use(r.name, Invoked, c, c.Op)
		return
	}
	if r.class == Unknown {
		j.reportUnknown(r.name, Invoked, c)
	}
}

func (j *judge) reportUnknown(name string, u Use, c *pickle.Call) {
	if j.reported["unknown:"+name] {
		return
	}
	j.reported["unknown:"+name] = true
	call := renderCall(c)
	msg := fmt.Sprintf("calls %s when loaded, and it is not on the allowlist", name)
	if u == Referenced {
		msg = fmt.Sprintf("resolves %s, which is not on the allowlist", name)
	}
	j.add(finding.Finding{RuleID: rules.UnknownGlobal, Severity: j.p.UnknownSeverity(u), Offset: c.Offset, Global: name, Call: call,
		Message: msg, Evidence: c.Op + " " + call})
}

// plainArgs reports whether every argument of c is plain data: constants,
// containers of plain data, and objects built by allowlisted calls.
func (j *judge) plainArgs(c *pickle.Call) bool {
	if !c.ArgsKnown {
		return false
	}
	for _, a := range c.Args {
		if !j.plainData(a, 0) {
			return false
		}
	}
	return c.Kwargs == nil || j.plainData(*c.Kwargs, 0)
}

func (j *judge) plainData(v pickle.Value, depth int) bool {
	if depth > 16 {
		return false
	}
	switch v.Kind {
	case pickle.KNone, pickle.KBool, pickle.KInt, pickle.KFloat, pickle.KStr, pickle.KBytes, pickle.KBuffer, pickle.KPersistent:
		return true
	case pickle.KTuple, pickle.KList, pickle.KDict, pickle.KSet, pickle.KFrozenSet:
		if v.O.Len > int64(len(v.O.Items)) && !v.O.DroppedOnlyData() {
			return false // an item past those kept was not plain data
		}
		for _, it := range v.O.Items {
			if !j.plainData(it, depth+1) {
				return false
			}
		}
		return true
	case pickle.KCall:
		return j.resolve(v, 1).class == Safe
	}
	return false
}

// resolveNamed resolves a call to an import helper that returns
// getattr(import(module), name): the module and (dotted) name are its first
// two arguments.
func (j *judge) resolveNamed(helper string, c *pickle.Call) resolved {
	var mod, name string
	switch {
	case helper == "torch._utils._import_dotted_name" && len(c.Args) >= 1 && c.Args[0].IsStr():
		// One dotted string: __import__ of the first part, getattr of the rest.
		var ok bool
		if mod, name, ok = strings.Cut(c.Args[0].Str(), "."); !ok {
			return resolved{name: mod, class: j.p.Classify(mod), why: "imported by " + helper}
		}
	case helper != "torch._utils._import_dotted_name" && len(c.Args) >= 2 && c.Args[0].IsStr() && c.Args[1].IsStr():
		mod, name = c.Args[0].Str(), c.Args[1].Str()
	default:
		return resolved{name: helper + "(...)", class: Dangerous, why: "imports a computed name"}
	}
	if mod == "numpy" && numpyUfuncs[name] && strings.HasSuffix(helper, "_ufunc_reconstruct") {
		// numpy pickles every ufunc this way; calling a ufunc only computes.
		return resolved{name: Canonical(mod, name), class: Safe}
	}
	cls := j.p.ClassifyGlobal(mod, name)
	if cls == NeedsCall {
		cls = Unknown
	}
	return resolved{name: Canonical(mod, name), class: cls, why: "imported by " + helper}
}

// latin1Bytes recognises a first argument _codecs.encode(text, "latin1"),
// protocol 2's spelling of a bytes constant, and returns the bytes.
//
// Text longer than the VM keeps (a torch storage over 1 MiB) is still a
// constant: the result then holds the decoded prefix, with Off and Len
// naming the whole UTF-8 text in the stream, for the caller to decode.
func latin1Bytes(args []pickle.Value) (pickle.Value, bool) {
	if len(args) < 1 || args[0].Kind != pickle.KCall {
		return pickle.Value{}, false
	}
	c := args[0].O.Call
	if c.Callee.Kind != pickle.KGlobal || Canonical(c.Callee.O.Module, c.Callee.O.Name) != "_codecs.encode" ||
		len(c.Args) != 2 || !c.Args[0].IsStr() || !c.Args[1].IsStr() {
		return pickle.Value{}, false
	}
	switch strings.ToLower(strings.ReplaceAll(c.Args[1].Str(), "_", "-")) {
	case "latin1", "latin-1", "iso-8859-1":
	default:
		return pickle.Value{}, false
	}
	src := c.Args[0].O
	truncated := src.Truncated()
	if truncated && src.Off < 0 {
		return pickle.Value{}, false
	}
	text := src.S
	b := make([]byte, 0, len(text))
	for len(text) > 0 {
		r, n := utf8.DecodeRuneInString(text)
		if r == utf8.RuneError && n <= 1 {
			if truncated && len(text) < utf8.UTFMax && !utf8.FullRuneInString(text) {
				break // the kept prefix ends inside a character
			}
			return pickle.Value{}, false
		}
		if r > 0xff {
			// latin-1 cannot encode it: loading fails here.
			return pickle.Value{}, false
		}
		b = append(b, byte(r))
		text = text[n:]
	}
	if truncated {
		return pickle.Value{Kind: pickle.KBytes, O: &pickle.Object{S: string(b), Len: src.Len, Off: src.Off}}, true
	}
	return pickle.Value{Kind: pickle.KBytes, O: &pickle.Object{S: string(b), Len: int64(len(b)), Off: -1}}, true
}

// callThroughArgs are allowlisted globals that call (or instantiate) some of
// their arguments while loading: the call is as dangerous as those are.
var callThroughArgs = map[string][]int{
	"torch._tensor._rebuild_from_type_v2":       {0}, // func(*args)
	"numpy.random._pickle.__randomstate_ctor":   {1}, // bit_generator_ctor(name)
	"numpy.random._pickle.__generator_ctor":     {1},
	"numpy.random._pickle.__bit_generator_ctor": {0}, // numpy 2 instantiates a type argument
	"numpy.ma.core._mareconstruct":              {0, 1},
	"sklearn.metrics._dist_metrics.newObj":      {0}, // obj.__new__(obj)
	"sklearn.neighbors._kd_tree.newObj":         {0},
	"sklearn.neighbors._ball_tree.newObj":       {0},
	"sklearn.neighbors._binary_tree.newObj":     {0},
}

func (j *judge) callThrough(r resolved, c *pickle.Call) resolved {
	for _, i := range callThroughArgs[r.name] {
		if i >= len(c.Args) {
			continue
		}
		if inner := j.resolve(c.Args[i], 1); inner.class == Dangerous {
			return resolved{name: inner.name, class: Dangerous, why: "called through " + r.name}
		}
		if c.Args[i].Kind == pickle.KGlobal {
			if q := Canonical(c.Args[i].O.Module, c.Args[i].O.Name); j.p.Classify(q) == Unknown {
				j.use(q, Invoked, c, "called through "+r.name)
			}
		}
	}
	if c.Op == "REDUCE" || c.Op == "INST" || c.Op == "OBJ" {
		// An allowlisted constructor handed an unknown function may call it
		// (LambdaLR calls lr_lambda in __init__, ODE solvers call fun):
		// a lower-case name is a function, judged as invoked; a class
		// handed over (a subtype for __new__) is reconstructed.
		for _, a := range c.Args {
			if a.Kind != pickle.KGlobal {
				continue
			}
			q := Canonical(a.O.Module, a.O.Name)
			if j.p.Classify(q) != Unknown {
				continue
			}
			last := q[strings.LastIndexByte(q, '.')+1:]
			if last != "" && last[0] >= 'a' && last[0] <= 'z' {
				j.use(q, Invoked, c, "handed to "+r.name)
			} else {
				j.use(q, Reconstructed, c, "handed to "+r.name)
			}
		}
	}
	return r
}

// callDependent judges globals whose safety depends on their arguments.
func (j *judge) callDependent(r resolved, c *pickle.Call) resolved {
	args := c.Args
	switch r.name {
	case "numpy.core._ufunc_reconstruct", "numpy._core._ufunc_reconstruct",
		"scipy._lib._uarray._backend.unpickle_function", "torch._utils._import_dotted_name":
		res := j.resolveNamed(r.name, c)
		if res.class == Dangerous {
			return res
		}
		return resolved{name: r.name, class: res.class}
	case "functools.partial", "numpy.vectorize":
		if len(args) == 0 {
			return resolved{name: r.name, class: Safe}
		}
		inner := j.resolve(args[0], 1)
		if inner.class == NeedsCall {
			inner.class = Unknown
		}
		return resolved{name: r.name + "(" + inner.name + ")", class: inner.class, why: inner.why}
	case "builtins.getattr":
		res := j.resolve(pickle.Value{Kind: pickle.KCall, O: &pickle.Object{Call: c}}, 0)
		if res.class == Dangerous {
			return resolved{name: res.name, class: Dangerous, why: "attribute fetched with getattr"}
		}
		return resolved{name: r.name, class: res.class}
	case "copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__":
		// cls.__new__(cls, ...) (and base.__init__(obj, state) for
		// _reconstructor with a non-object base): the class must be a type.
		if len(args) == 0 {
			return resolved{name: r.name, class: Safe}
		}
		cls := j.resolve(args[0], 1)
		if cls.class == Dangerous {
			return resolved{name: cls.name, class: Dangerous, why: "constructed through " + r.name}
		}
		plain := true
		for i, a := range args[1:] {
			if r.name == "copyreg._reconstructor" && i == 0 {
				// The base type: object, or a builtin such as dict/list.
				if b := j.resolve(a, 1); b.class == Dangerous {
					return resolved{name: b.name, class: Dangerous, why: "base type of " + r.name}
				} else if b.class != Safe {
					plain = false
				}
				continue
			}
			if !j.plainData(a, 0) {
				plain = false
			}
		}
		if cls.class != Safe {
			if args[0].Kind != pickle.KGlobal {
				return resolved{name: r.name + "(" + cls.name + ")", class: Unknown}
			}
			u := Reconstructed
			if !plain {
				u = Invoked
			}
			j.use(cls.name, u, c, r.name)
		}
		return resolved{name: r.name, class: Safe}
	case "_codecs.encode":
		if len(args) < 2 {
			return resolved{name: r.name, class: Safe}
		}
		if args[1].IsStr() {
			switch strings.ToLower(strings.ReplaceAll(args[1].Str(), "_", "-")) {
			case "latin1", "latin-1", "iso-8859-1", "utf-8", "utf8", "ascii":
				return resolved{name: r.name, class: Safe}
			}
		}
		return resolved{name: r.name, class: Unknown, why: "unusual encoding"}
	case "builtins.type":
		if len(args) == 1 {
			return resolved{name: r.name, class: Safe}
		}
		return resolved{name: r.name, class: Dangerous, why: "creates a class at load time"}
	case "torch.storage._load_from_bytes":
		if _, ok := latin1Bytes(args); ok {
			// Protocol 2 writes bytes as _codecs.encode(text, "latin1").
			return resolved{name: r.name, class: Safe}
		}
		if len(args) >= 1 && args[0].Kind == pickle.KBytes {
			return resolved{name: r.name, class: Safe}
		}
		return resolved{name: r.name, class: Dangerous, why: "loads a computed payload"}
	case "pytz._p":
		// _p(zone, ...) returns pytz.timezone(zone): a lookup in pytz's own
		// zone database. pytz rejects path separators itself; a zone name
		// that is not a plain tz identifier is still not trusted here.
		if len(args) >= 1 && args[0].IsStr() && tzName.MatchString(args[0].Str()) {
			return resolved{name: r.name, class: Safe}
		}
		return resolved{name: r.name, class: Dangerous, why: "opens a zone file named by something other than a plain tz identifier"}
	case "sklearn.neighbors._ball_tree.newObj", "sklearn.neighbors._kd_tree.newObj":
		// newObj(cls) is cls.__new__(cls): as inert as the class it gets.
		if len(args) == 1 && args[0].Kind == pickle.KGlobal {
			cls := j.resolve(args[0], 1)
			if cls.class == Unknown {
				// The import pass reports the unknown class itself.
				return resolved{name: r.name + "(" + cls.name + ")", class: Unknown}
			}
			return resolved{name: r.name + "(" + cls.name + ")", class: cls.class, why: cls.why}
		}
		return resolved{name: r.name, class: Dangerous, why: "constructs a computed class"}
	case "numpy.memmap", "numpy.core.memmap.memmap", "numpy._core.memmap.memmap":
		return resolved{name: r.name, class: Dangerous, why: "maps a file (and creates it with mode w+)"}
	case "_operator.or_", "operator.or_":
		// a | b runs a.__or__(b); on plain values (ints, allowlisted enum
		// members) that computes a value.
		if len(args) == 2 && j.inertValue(args[0]) && j.inertValue(args[1]) {
			return resolved{name: r.name, class: Safe}
		}
		return resolved{name: r.name, class: Dangerous, why: "applies | to non-values"}
	case "dill._dill._eval_repr":
		if len(args) == 1 && args[0].IsStr() && literalRepr.MatchString(args[0].Str()) {
			return resolved{name: r.name, class: Safe}
		}
		return resolved{name: r.name, class: Dangerous, why: "evaluates a string"}
	case "dill._dill._load_type", "dill._dill._create_type", "dill._dill._get_attr":
		if r.name == "dill._dill._load_type" && len(args) == 1 && args[0].IsStr() {
			t := args[0].Str()
			if t == "CodeType" || t == "FunctionType" || t == "CellType" {
				// The code object is judged as a pickled function (MG113).
				return resolved{name: r.name, class: Safe}
			}
			for _, bad := range []string{"Code", "Function", "Lambda", "Method", "Module", "Frame", "Cell", "Generator"} {
				if strings.Contains(t, bad) {
					return resolved{name: "dill type " + t, class: Dangerous, why: "builds executable objects"}
				}
			}
			return resolved{name: r.name, class: Safe}
		}
		return resolved{name: r.name, class: Dangerous}
	}
	return j.moreCallDependent(r, c)
}

// tzName matches IANA zone identifiers such as "Europe/Berlin", "UTC" or "Etc/GMT+5".
var tzName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$`)

// inertValue reports whether v is a plain constant or the product of a call
// judged safe.
func (j *judge) inertValue(v pickle.Value) bool {
	switch v.Kind {
	case pickle.KNone, pickle.KBool, pickle.KInt, pickle.KFloat, pickle.KStr, pickle.KBytes:
		return true
	case pickle.KCall:
		return j.resolve(v, 1).class == Safe
	}
	return false
}

// literalRepr matches the reprs dill evaluates for plain values.
var literalRepr = regexp.MustCompile(`^(range|slice|complex)\([-+0-9., ej]*\)$`)

func renderCall(c *pickle.Call) string {
	var b strings.Builder
	b.WriteString(c.Callee.String())
	b.WriteString("(")
	for i, a := range c.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.String())
	}
	if !c.ArgsKnown && len(c.Args) == 1 {
		b.WriteString(" as *args")
	}
	if c.Kwargs != nil {
		b.WriteString(", **" + c.Kwargs.String())
	}
	b.WriteString(")")
	s := b.String()
	if len(s) > 500 {
		s = s[:500] + "..."
	}
	return s
}

func (j *judge) judgeEvent(ev pickle.Event, context string) {
	switch ev.Kind {
	case pickle.EvDynamicGlobal:
		j.add(finding.Finding{RuleID: rules.DynamicGlobal, Offset: ev.Offset, Message: "computes the name of a global at load time", Evidence: ev.Detail})
	case pickle.EvExtension:
		j.add(finding.Finding{RuleID: rules.ExtensionRegistry, Offset: ev.Offset, Message: "references a callable by copyreg extension code", Evidence: ev.Detail})
	case pickle.EvNonContainer:
		t := j.resolve(ev.Target, 0)
		if ev.Target.Kind == pickle.KCall && t.class == Safe {
			return
		}
		if ev.Target.Kind == pickle.KCall && t.class == Unknown && ev.Target.O.Call.Callee.Kind == pickle.KGlobal {
			// An instance of a class the allowlist does not know (a dict
			// subclass such as a result object): the class itself is
			// reported as MG103 at the severity of how it was built.
			return
		}
		if ev.Target.Kind == pickle.KPersistent {
			return
		}
		j.add(finding.Finding{RuleID: rules.NonContainerMutation, Offset: ev.Offset, Global: t.name,
			Message: "applies container opcodes to a non-container, invoking its methods", Evidence: ev.Detail})
	case pickle.EvBuildGlobal:
		q := Canonical(ev.Target.O.Module, ev.Target.O.Name)
		j.add(finding.Finding{RuleID: rules.ObjectStatePatch, Offset: ev.Offset, Global: q,
			Message: "sets attributes on " + q + " itself", Evidence: ev.Detail})
	case pickle.EvFrameStraddle:
		if j.reported["straddle"] {
			return
		}
		j.reported["straddle"] = true
		j.add(finding.Finding{RuleID: rules.MalformedPickle, Severity: finding.SeverityHigh, Offset: ev.Offset,
			Message:  "a read crosses the end of a FRAME, so loaders that read from bytes and from in-memory files (torch.load's data.pkl) run different opcodes; both views were analysed",
			Evidence: ev.Detail})
	case pickle.EvMalformed:
		j.add(finding.Finding{RuleID: rules.MalformedPickle, Offset: ev.Offset, Message: "pickle stream is malformed: " + ev.Detail, Evidence: ev.Detail})
	case pickle.EvBudget:
		j.unscanned = append(j.unscanned, fmt.Sprintf("pickle analysis stopped at offset %d: %s", ev.Offset, ev.Detail))
	case pickle.EvLimit:
		j.add(finding.Finding{RuleID: rules.PickleLimit, Offset: ev.Offset, Message: "analysis stopped at a safety limit: " + ev.Detail, Evidence: ev.Detail})
	case pickle.EvStacked:
		if context == "" {
			j.add(finding.Finding{RuleID: rules.StackedPickle, Offset: ev.Offset, Message: ev.Detail, Evidence: ev.Detail})
		}
	}
}
