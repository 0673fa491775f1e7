package policy

// RoutineCallee reports whether every call of module.name is judged by the
// callee alone: an allowlisted global that neither calls nor deserializes
// its arguments, so that JudgePickle reports nothing for such a call
// whatever its arguments, unless one of them is a global (what an
// allowlisted constructor is handed is judged, see callThrough: the VM
// keeps such calls). The pickle VM counts these calls instead of
// keeping them (pickle.Options.Routine), which is what keeps a pickle of
// millions of datetime or Decimal records in bounded memory; the verdict
// on the trace is the same (TestRoutineCallsDoNotChangeVerdicts).
func (p *Policy) RoutineCallee(module, name string) bool { return p.callee(module, name).routine }

// callee answers RoutineCallee and InertResult, cached together.
func (p *Policy) callee(module, name string) classEntry {
	if e, ok := p.classes.get(module, name); ok && e.hasRoutine {
		return e
	}
	r, inert := p.routineCallee(module, name)
	p.classes.update(module, name, func(e *classEntry) { e.routine, e.inert, e.hasRoutine = r, inert, true })
	return classEntry{routine: r, inert: inert, hasRoutine: true}
}

func (p *Policy) routineCallee(module, name string) (routine, inert bool) {
	if p.ClassifyGlobal(module, name) != Safe {
		return false, false
	}
	q := Canonical(module, name)
	_, through := callThroughArgs[q]
	routine = !through && !nestedLoaders[q]
	return routine, routine && !resultLookedInto[q] && !productsCallable[q]
}

// InertResult reports whether what a call of module.name returns is an
// inert instance for judging: a routine callee (see RoutineCallee) whose
// result the judge never looks into, so that BUILD and container opcodes
// applied to the result are judged as nothing (judgeEvent's Safe target).
// The pickle VM counts such events instead of keeping them
// (pickle.Options.Inert); TestRoutineCallsDoNotChangeVerdicts checks the
// verdicts stay the same.
func (p *Policy) InertResult(module, name string) bool { return p.callee(module, name).inert }

// resultLookedInto are the callees whose results resolve reads past the
// callee: the arguments (getattr and the named-global resolvers), a BUILD
// state (the wrappers, see stateOf); productsCallable are looked into too.
// Keep in step with the cases of judge.resolve.
var resultLookedInto = set(
	"builtins.getattr",
	"numpy.core._ufunc_reconstruct", "numpy._core._ufunc_reconstruct",
	"scipy._lib._uarray._backend.unpickle_function", "torch._utils._import_dotted_name",
	"functools.partial", "numpy.vectorize", "builtins.staticmethod", "builtins.classmethod",
)
