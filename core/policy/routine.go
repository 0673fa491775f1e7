package policy

// RoutineCallee reports whether every call of module.name is judged by the
// callee alone: an allowlisted global that neither calls nor deserializes
// its arguments, so that JudgePickle reports nothing for such a call
// whatever its arguments. The pickle VM counts these calls instead of
// keeping them (pickle.Options.Routine), which is what keeps a pickle of
// millions of datetime or Decimal records in bounded memory; the verdict
// on the trace is the same (TestRoutineCallsDoNotChangeVerdicts).
func (p *Policy) RoutineCallee(module, name string) bool {
	if e, ok := p.classes.get(module, name); ok && e.hasRoutine {
		return e.routine
	}
	r := p.routineCallee(module, name)
	p.classes.update(module, name, func(e *classEntry) { e.routine, e.hasRoutine = r, true })
	return r
}

func (p *Policy) routineCallee(module, name string) bool {
	if p.ClassifyGlobal(module, name) != Safe {
		return false
	}
	q := Canonical(module, name)
	_, through := callThroughArgs[q]
	return !through && !nestedLoaders[q]
}
