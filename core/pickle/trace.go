package pickle

// Global is one global resolved by GLOBAL, STACK_GLOBAL, INST or an
// extension code, with the names exactly as the stream gives them (before
// Python 2 name mapping), as CPython passes them to find_class.
type Global struct {
	Module, Name string
	Offset       int64
	Op           string
	Pickle       int // index of the pickle in a stacked stream
}

// Call is one invocation the unpickler would perform.
type Call struct {
	Callee Value
	Args   []Value // positional arguments when known
	Kwargs *Value
	Op     string // REDUCE, INST, OBJ, NEWOBJ, NEWOBJ_EX
	Offset int64
	Pickle int
	// ArgsKnown is false when the argument tuple is itself symbolic (the
	// result of another call), or longer than the items a container keeps
	// (Args then holds only the first of them) with something other than
	// plain data among those dropped.
	ArgsKnown bool
	// Used is false when the result was discarded without being stored or
	// passed on (OBJ+POP): the call still ran. (The two flags sit together
	// so a call and its result fit the 208-byte size class.)
	Used bool
}

// EventKind classifies notable behaviour that is not a plain import or call.
type EventKind string

// Events the VM reports.
const (
	EvDynamicGlobal    EventKind = "dynamic-global"     // STACK_GLOBAL with computed operands
	EvExtension        EventKind = "extension-code"     // EXT1/2/4
	EvNonContainer     EventKind = "non-container"      // APPEND(S)/SETITEM(S)/ADDITEMS on other objects
	EvBuildGlobal      EventKind = "build-on-global"    // BUILD applied to a module/class/function
	EvBuild            EventKind = "build"              // BUILD applied to a call result
	EvMalformed        EventKind = "malformed"          // CPython would raise here
	EvLimit            EventKind = "limit"              // an attack-shaped input hit a safety limit (memo expansion, deep nesting)
	EvBudget           EventKind = "budget"             // a resource budget (max_opcodes, max_memo, ...) stopped the trace
	EvStacked          EventKind = "stacked"            // another pickle starts after STOP
	EvOutOfBandBuffers EventKind = "out-of-band-buffer" // NEXT_BUFFER
	EvFrameStraddle    EventKind = "frame-straddle"     // a read crosses a FRAME end
)

// Event is one notable behaviour.
type Event struct {
	Kind   EventKind
	Offset int64
	Pickle int
	Detail string
	Target Value
	Arg    Value
}

// Trace is what the VM observed.
type Trace struct {
	Globals []Global
	Calls   []*Call
	// Routine counts the calls of Options.Routine globals, which are not
	// in Calls.
	Routine int64
	Events  []Event
	// Inert counts the BUILD and container events on results of
	// Options.Inert calls, which are not in Events.
	Inert int64
	// Pickles is the number of pickle streams started.
	Pickles int
	// Complete is true when the last pickle ended with STOP at end of input.
	Complete bool
	Opcodes  int64
	// End is the offset just past the last byte consumed.
	End int64
	// Results holds the value each pickle returned at STOP.
	Results []Value
}
