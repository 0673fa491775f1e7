package pickle

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Limits bounds one run of the VM.
type Limits struct {
	MaxOpcodes int64
	MaxStack   int
	MaxMemo    int
	// MaxPickles bounds stacked pickles (0 = unlimited).
	MaxPickles int
}

// Options configures a run.
type Options struct {
	Limits Limits
	// OnBuild, if set, is called after every BUILD with the target and the
	// state. It may consume raw bytes that a custom unpickler reads from the
	// stream at that point (joblib's NumpyArrayWrapper does).
	OnBuild func(target, state Value, s *Stream) error
	// OnBuildCallee, if set, limits OnBuild to BUILDs on the result of a
	// call of a global it accepts: handing the hook a BUILD exposes the
	// target and state to it, which for a torch.save of a whole nn.Module
	// means walking every submodule's state.
	OnBuildCallee func(module, name string) bool
	// StopAfter stops after this many pickles (0 = run to end of input).
	StopAfter int
	// Frames selects the FRAME emulation (default FramesBoth).
	Frames FrameView
	// Memo selects which memo entries are kept (default LiveMemoAuto).
	Memo LiveMemo
	// Routine, if set, names the globals whose calls are counted in
	// Trace.Routine instead of kept in Trace.Calls: the caller (policy) has
	// established that such a call's verdict does not depend on its
	// arguments, as long as none of them is a global (a call handed one
	// is kept). The call still happens for the values that flow from it.
	// A record cache makes millions of datetime and Decimal calls.
	Routine func(module, name string) bool
	// Inert, if set, names the globals whose call results are inert
	// instances for the caller (policy judges BUILD and container opcodes
	// applied to them as nothing): such events are counted in
	// Trace.Inert instead of recorded. A torch.save of a whole nn.Module
	// BUILDs and fills an OrderedDict per submodule attribute, hundreds
	// of events that would each expose a module's whole state.
	Inert func(module, name string) bool
	// maxCells replaces the package's maxCells (tests).
	maxCells int64
}

// Stream is the view of the input that hooks get.
type Stream struct {
	r        *reader
	replayed bool
}

// Replayed reports whether a hook already saw this point of the stream in
// an earlier pass: Run may trace an input twice (see LiveMemo), and a hook
// with side effects (reporting) must not repeat them. It must still
// consume the same bytes.
func (s *Stream) Replayed() bool { return s.replayed }

// Offset is the current stream offset.
func (s *Stream) Offset() int64 { return s.r.Offset() }

// Skip consumes n raw bytes.
func (s *Stream) Skip(n int64) error { return s.r.skip(n) }

// Read consumes n (<= 4096) raw bytes and returns them.
func (s *Stream) Read(n int) ([]byte, error) {
	if n < 0 || n > 4096 {
		return nil, fmt.Errorf("read of %d bytes not allowed", n)
	}
	b, err := s.r.fixed(n)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

// Run traces the pickle(s) in r[start:size]. It continues after STOP with
// the next pickle (as repeated load() calls would) and stops at the first
// error CPython would raise, recording it as an EvMalformed event. The
// returned error is for cancellation and for content that could not be
// read (a *ReadError).
func Run(ctx context.Context, r io.ReaderAt, start, size int64, opts Options) (*Trace, error) {
	var live *indexSet
	if opts.Memo == LiveMemoAlways {
		if set, ok := readIndices(r, start, size, opts.StopAfter); ok {
			live = set
		}
	}
	tr, replayAt, err := trace(ctx, r, start, size, opts, live, -1)
	if err == errReplay {
		// The pre-scan missed a read (it cannot see bytes a hook consumes,
		// nor the buffered FRAME view): trace again keeping every entry.
		opts.Memo = LiveMemoNever
		tr, _, err = trace(ctx, r, start, size, opts, nil, replayAt)
	}
	return tr, err
}

func trace(ctx context.Context, r io.ReaderAt, start, size int64, opts Options, live *indexSet, replayedTo int64) (*Trace, int64, error) {
	vm := &machine{
		rd:         newReader(r, start, size),
		opts:       opts,
		tr:         &Trace{},
		ctx:        ctx,
		live:       live,
		liveEnd:    live.end(),
		replayedTo: replayedTo,
		src:        r, start: start,
		mayGoLive: live == nil && opts.Memo == LiveMemoAuto,
		liveAt:    liveMemoMinEntries,
		maxCells:  cmp.Or(opts.maxCells, maxCells),
	}
	vm.pools.longCut = vm.maxCells / 2
	if vm.rd.inPlace {
		vm.liveAt = min(vm.liveAt, liveMemoInPlaceEntries)
	}
	if vm.opts.Limits.MaxOpcodes <= 0 {
		vm.opts.Limits.MaxOpcodes = math.MaxInt64
	}
	if vm.opts.Limits.MaxStack <= 0 {
		vm.opts.Limits.MaxStack = 1 << 20
	}
	if vm.opts.Limits.MaxMemo <= 0 {
		vm.opts.Limits.MaxMemo = 1 << 22
	}
	vm.view = opts.Frames
	if vm.view == FramesBoth {
		vm.view = FramesContiguous
	}
	err := vm.run()
	vm.tr.End = vm.rd.Offset()
	if vm.rd.failed != nil {
		return nil, 0, vm.rd.failed
	}
	if err == errReplay {
		return nil, max(vm.hooked, replayedTo), err
	}
	if err != nil || opts.Frames != FramesBoth || vm.straddles == 0 {
		return vm.tr, 0, err
	}
	// Some read crossed a frame end, so loaders that read from a buffer
	// without peek (torch.load's data.pkl) run other opcodes: trace that view
	// too and report everything either view would do.
	opts.Frames = FramesBuffered
	opts.Memo = LiveMemoNever
	alt, err := Run(ctx, r, start, size, opts)
	if alt != nil {
		vm.tr.Globals = append(vm.tr.Globals, alt.Globals...)
		vm.tr.Calls = append(vm.tr.Calls, alt.Calls...)
		vm.tr.Events = append(vm.tr.Events, alt.Events...)
		vm.tr.Opcodes += alt.Opcodes
		vm.tr.Routine += alt.Routine
		vm.tr.Inert += alt.Inert
	}
	return vm.tr, 0, err
}

type machine struct {
	rd    *reader
	opts  Options
	tr    *Trace
	ctx   context.Context
	stack []Value
	marks []int
	// memo holds the kept values, present says which indices the current
	// pickle has put (memoLen of them), and live, if set, is the pre-scan's
	// set of indices some GET reads: entries outside it are not kept.
	memo    memoStore
	present indexSet
	live    *indexSet
	liveEnd uint64 // live.end()
	memoLen int
	// prevPresent is the union of earlier pickles' indices when entries
	// were dropped (live mode): a read of one must replay.
	prevPresent *indexSet
	// mayGoLive is set while the VM may still switch to live mode (see
	// LiveMemoAuto); src and start are what the pre-scan reads.
	mayGoLive bool
	// liveAt is the memo size at which LiveMemoAuto pre-scans.
	liveAt int
	src    io.ReaderAt
	start  int64
	// hooked is the stream offset of the last OnBuild call, replayedTo
	// the offset up to which an earlier pass already called the hook.
	hooked, replayedTo int64
	// routines caches Options.Routine by name (each global object
	// caches it too).
	routines map[[2]string]bool
	// inerts caches Options.Inert likewise.
	inerts map[[2]string]bool
	// instances are the results of argument-less calls of inert globals
	// (see inertInstance).
	instances []instance
	// full is set when the trace holds as many globals, calls or events
	// as it may (maxTraceGlobals ...): the VM stops after the opcode,
	// since what it could no longer record may be what matters.
	full error
	// globalNames holds the names in the trace's Globals once it has
	// maxTraceGlobals of them (see newGlobal).
	globalNames map[[2]string]struct{}
	// frameEnd is the end of the bytes CPython's unpickler holds in its
	// buffer after a FRAME (0: none); straddles counts reads that cross it.
	frameEnd  int64
	straddles int
	view      FrameView
	// prevMemo holds earlier pickles' memo entries: one Unpickler calling
	// load() repeatedly keeps its memo (CPython's load() resets only the
	// stack and protocol), so a later pickle may read them.
	prevMemo map[uint64]Value
	proto    int
	pickle   int
	opOff    int64
	gets     int64
	// pools recycles the objects of values that are dropped unshared.
	pools    pools
	maxCells int64 // see maxCells; Options.maxCells in tests
}

var errStop = errors.New("stop")

// vmError is an error CPython would raise (or a limit we impose).
type vmError struct {
	msg string
	// limit marks a bound that only attack-shaped input reaches (memo
	// expansion, nesting no pickler writes); budget marks a resource
	// bound that a large benign pickle may reach too.
	limit, budget bool
}

func (e *vmError) Error() string { return e.msg }

func fail(format string, a ...any) error { return &vmError{msg: fmt.Sprintf(format, a...)} }

func (m *machine) run() error {
	for {
		if m.opts.StopAfter > 0 && m.tr.Pickles >= m.opts.StopAfter {
			return nil
		}
		if m.rd.Remaining() <= 0 {
			if m.tr.Pickles == 0 {
				m.event(EvMalformed, "empty input: Ran out of input", unknownValue, unknownValue)
			}
			return nil
		}
		if m.opts.Limits.MaxPickles > 0 && m.tr.Pickles >= m.opts.Limits.MaxPickles {
			m.event(EvBudget, fmt.Sprintf("more than max_pickles %d stacked pickles", m.opts.Limits.MaxPickles), unknownValue, unknownValue)
			return nil
		}
		if m.tr.Pickles > 0 {
			m.opOff = m.rd.Offset()
			m.event(EvStacked, fmt.Sprintf("pickle #%d starts after STOP", m.tr.Pickles+1), unknownValue, unknownValue)
		}
		m.pickle = m.tr.Pickles
		m.tr.Pickles++
		m.stack = m.stack[:0]
		m.marks = m.marks[:0]
		// Each load() call gets a fresh unpickler in repeated-load loaders,
		// so the memo starts empty; the protocol too.
		m.keepPrevMemo()
		m.memo.reset()
		m.present.reset()
		m.memoLen = 0
		m.frameEnd = 0
		m.proto = 0
		err := m.one()
		switch {
		case err == nil:
			m.tr.Complete = m.rd.Remaining() == 0
			continue
		case err == errReplay, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return err
		}
		var ve *vmError
		kind := EvMalformed
		if errors.As(err, &ve) && ve.limit {
			kind = EvLimit
		} else if errors.As(err, &ve) && ve.budget {
			kind = EvBudget
		}
		m.event(kind, err.Error(), unknownValue, unknownValue)
		m.tr.Complete = false
		return nil
	}
}

// maxCells bounds, in Values (24 bytes), the memory the VM's own objects
// hold at once (pools.cells): a pickle's values cost up to a hundred times
// the bytes that spell them (EMPTY_LIST is one byte, its list an object
// and an item slot), so the other bounds (opcodes, stack, memo, kept calls
// and container items) still let a few MB of hostile input hold GBs. A
// benign pickle holds little at once: records and a state_dict's contents
// are recycled as they are dropped, a module's few thousand objects are
// far below it. Past half of it, long strings and bytes keep a prefix of
// longCutPrefix bytes.
const maxCells = 8 << 20 // 192 MiB

// longCutPrefix is what a long payload keeps once the VM holds half of
// maxCells.
const longCutPrefix = 256

// The most globals, calls and events a trace holds. They bound the
// trace's memory, not the analysis: a pickle that needs more calls or
// events stops there and is reported as not completely scanned
// (EvBudget), because a call or BUILD past them is exactly what padding
// would hide. Imports past the bound are kept when their name is new.
const (
	maxTraceGlobals = 100000
	maxTraceCalls   = 100000
	maxTraceEvents  = 100000
	// Past maxTraceGlobals imports only names not yet recorded are
	// added, up to this many distinct ones.
	maxTraceDistinctGlobals = 200000
)

// newGlobal reports, once the trace holds maxTraceGlobals imports,
// whether module.name is one it does not hold yet; past
// maxTraceDistinctGlobals distinct names the trace is full.
func (m *machine) newGlobal(mod, name string) bool {
	if m.globalNames == nil {
		m.globalNames = make(map[[2]string]struct{}, len(m.tr.Globals))
		for _, g := range m.tr.Globals {
			m.globalNames[[2]string{g.Module, g.Name}] = struct{}{}
		}
	}
	key := [2]string{mod, name}
	if _, ok := m.globalNames[key]; ok {
		return false
	}
	if len(m.globalNames) >= maxTraceDistinctGlobals {
		m.traceFull("distinct globals", maxTraceDistinctGlobals)
		return false
	}
	m.globalNames[key] = struct{}{}
	return true
}

// traceFull records that a trace bound was reached.
func (m *machine) traceFull(what string, n int) {
	if m.full == nil {
		m.full = &vmError{msg: fmt.Sprintf("the trace holds its most %s (%d); the rest of the pickle was not analysed", what, n), budget: true}
	}
}

func (m *machine) event(k EventKind, detail string, target, arg Value) {
	if len(m.tr.Events) >= maxTraceEvents {
		switch k {
		case EvMalformed, EvBudget, EvLimit, EvStacked:
			// How a pickle ended (at most one each per pickle, and
			// max_pickles bounds those): always kept, or a trace that
			// stopped early would read as complete.
		default:
			m.traceFull("events", maxTraceEvents)
			return
		}
	}
	target, arg = m.pools.expose(target), m.pools.expose(arg)
	m.tr.Events = append(m.tr.Events, Event{Kind: k, Offset: m.opOff, Pickle: m.pickle, Detail: detail, Target: target, Arg: arg})
}

func (m *machine) push(v Value) error {
	if len(m.stack) >= m.opts.Limits.MaxStack {
		return m.stackFull()
	}
	m.stack = append(m.stack, v)
	return nil
}

func (m *machine) stackFull() error {
	return &vmError{msg: fmt.Sprintf("stack deeper than max_stack %d", m.opts.Limits.MaxStack), budget: true}
}

func (m *machine) fence() int {
	if len(m.marks) == 0 {
		return 0
	}
	return m.marks[len(m.marks)-1]
}

func (m *machine) underflow() error {
	if len(m.marks) > 0 {
		return fail("unexpected MARK found")
	}
	return fail("unpickling stack underflow")
}

func (m *machine) pop() (Value, error) {
	if len(m.stack) <= m.fence() {
		return Value{}, m.underflow()
	}
	v := m.stack[len(m.stack)-1]
	m.stack = m.stack[:len(m.stack)-1]
	return v, nil
}

func (m *machine) top() (*Value, error) {
	if len(m.stack) <= m.fence() {
		return nil, m.underflow()
	}
	return &m.stack[len(m.stack)-1], nil
}

// popMark pops everything above the last MARK and the mark itself.
func (m *machine) popMark() ([]Value, error) {
	if len(m.marks) == 0 {
		return nil, fail("could not find MARK")
	}
	k := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	if k > len(m.stack) {
		// Unreachable while every pop honours the fence; an error beats
		// a panic if that invariant is ever broken.
		return nil, fail("unpickling stack underflow")
	}
	// The items alias the stack until the next push: callers copy what
	// they keep (containerValue does).
	items := m.stack[k:]
	m.stack = m.stack[:k]
	return items, nil
}

func (m *machine) markIndex() (int, error) {
	if len(m.marks) == 0 {
		return 0, fail("could not find MARK")
	}
	k := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	return k, nil
}

func (m *machine) global(mod, name, op string) Value {
	if len(m.tr.Globals) >= maxTraceGlobals && !m.newGlobal(mod, name) {
		// Judged by name: one more import of a name already recorded
		// tells the policy nothing new.
		return globalValue(mod, name)
	}
	m.tr.Globals = append(m.tr.Globals, Global{Module: mod, Name: name, Offset: m.opOff, Op: op, Pickle: m.pickle})
	return globalValue(mod, name)
}

func (m *machine) call(op string, callee Value, args Value, kwargs *Value) Value {
	if v, ok := m.inertInstance(op, callee, args, kwargs); ok {
		return v
	}
	// The call and its result are one pooled object: a REDUCE per record
	// is the shape of record caches and pandas object columns.
	o := m.pools.get(poolCall)
	n := (*callNode)(unsafe.Pointer(o))
	n.c = Call{Callee: callee, Op: op, Offset: m.opOff, Pickle: m.pickle, Kwargs: kwargs, Used: true}
	c := &n.c
	switch {
	case args.Kind == KTuple:
		c.Args = args.O.Items
		// A tuple past maxItems keeps only its first arguments: the
		// policy may judge the call by those alone only when the rest
		// were plain data.
		c.ArgsKnown = args.O.Len == int64(len(args.O.Items)) || args.O.DroppedOnlyData()
		n.args = args
	case args.Kind != KUnknown:
		n.args = args
		c.Args = unsafe.Slice(&n.args, 1)
	}
	if callee.Kind == KGlobal && m.routine(callee.O) && !handsOverGlobal(c.Args) {
		m.tr.Routine++
	} else if len(m.tr.Calls) < maxTraceCalls {
		m.pools.expose(Value{Kind: KCall, O: o})
		m.tr.Calls = append(m.tr.Calls, c)
	} else {
		m.traceFull("calls", maxTraceCalls)
	}
	return Value{Kind: KCall, O: o}
}

// handsOverGlobal reports whether a call is given a global itself: even an
// allowlisted constructor may call what it is handed (LambdaLR calls its
// lr_lambda), so such a call is kept for the policy to judge.
func handsOverGlobal(args []Value) bool {
	for _, a := range args {
		if a.Kind == KGlobal {
			return true
		}
	}
	return false
}

// inertInstance returns the one result the machine keeps for calls of an
// Options.Inert global with no arguments (OrderedDict(), a module class
// NEWOBJ'd with ()). Such results differ only by identity and offset, and
// neither is read: the events that would tell them apart are counted, not
// kept (see inertResult), and the calls themselves are routine. A torch.save
// of a whole nn.Module makes thousands of them.
func (m *machine) inertInstance(op string, callee, args Value, kwargs *Value) (Value, bool) {
	if kwargs != nil || callee.Kind != KGlobal || args.Kind != KTuple || args.O == nil || args.O.Len != 0 ||
		m.opts.Inert == nil || !m.routine(callee.O) || !ask(m.opts.Inert, callee.O, &callee.O.inert, &m.inerts) {
		return Value{}, false
	}
	m.tr.Routine++
	for _, in := range m.instances {
		if in.callee == callee.O && in.op == op && in.pickle == m.pickle {
			return in.v, true
		}
	}
	c := &Call{Callee: callee, Op: op, Offset: m.opOff, Pickle: m.pickle, Args: args.O.Items, ArgsKnown: true, Used: true}
	v := Value{Kind: KCall, O: &Object{Call: c, shared: true}}
	if len(m.instances) < maxInstances {
		m.instances = append(m.instances, instance{callee.O, op, m.pickle, v})
	}
	return v, true
}

// maxInstances bounds the results inertInstance keeps, each found by a
// linear search: a module pickle calls a few dozen classes.
const maxInstances = 64

type instance struct {
	callee *Object
	op     string
	pickle int
	v      Value
}

// keepPrevMemo saves the finished pickle's memo for a later pickle's
// reads (see prevMemo).
func (m *machine) keepPrevMemo() {
	if m.memoLen == 0 {
		return
	}
	if m.live != nil {
		if m.prevPresent == nil {
			m.prevPresent = &indexSet{}
		}
		m.prevPresent.union(&m.present)
	}
	if len(m.prevMemo) >= m.opts.Limits.MaxMemo {
		return
	}
	if m.prevMemo == nil {
		m.prevMemo = make(map[uint64]Value, m.memo.n)
	}
	m.memo.each(func(i uint64, v *Value) {
		if m.present.has(i) && m.kept(i) {
			m.prevMemo[i] = *v
		}
	})
	for i, v := range m.memo.sparse {
		m.prevMemo[i] = v
	}
}

// kept reports whether the value put at idx is held (every one is unless
// the pre-scan found no read of it).
func (m *machine) kept(idx uint64) bool { return m.live == nil || m.live.has(idx) }

// routine asks Options.Routine about a global, once per global object and
// once per name.
func (m *machine) routine(g *Object) bool {
	return ask(m.opts.Routine, g, &g.routine, &m.routines)
}

// inertResult reports whether v is the result of a call Options.Inert
// names, so that an event on it is counted instead of recorded.
func (m *machine) inertResult(v Value) bool {
	if v.Kind != KCall || m.opts.Inert == nil {
		return false
	}
	g := v.O.Call.Callee
	if g.Kind != KGlobal || !ask(m.opts.Inert, g.O, &g.O.inert, &m.inerts) {
		return false
	}
	m.tr.Inert++
	return true
}

// ask asks a caller's question about a global, caching the answer in the
// global object (*cached: 0 not asked yet, 1 no, 2 yes) and by name.
func ask(q func(module, name string) bool, g *Object, cached *uint8, byName *map[[2]string]bool) bool {
	if q == nil {
		return false
	}
	if *cached != 0 {
		return *cached == 2
	}
	key := [2]string{g.Module, g.Name}
	ok, seen := (*byName)[key]
	if !seen {
		if *byName == nil {
			*byName = map[[2]string]bool{}
		}
		ok = q(g.Module, g.Name)
		if len(*byName) < 10000 {
			(*byName)[key] = ok
		}
	}
	*cached = 1
	if ok {
		*cached = 2
	}
	return ok
}

// buildHooked reports whether OnBuild is called for a BUILD on target.
func (m *machine) buildHooked(target Value) bool {
	if m.opts.OnBuildCallee == nil {
		return true
	}
	if target.Kind != KCall {
		return false
	}
	g := target.O.Call.Callee
	return g.Kind == KGlobal && m.opts.OnBuildCallee(g.O.Module, g.O.Name)
}

// persistent returns the value persistent_load gives for pid, which it
// holds (one allocation for both).
func persistent(pid Value) Value {
	p := &struct {
		o   Object
		pid Value
	}{pid: pid}
	p.o.PID = &p.pid
	return Value{Kind: KPersistent, O: &p.o}
}

// memoPutFast is memoPut for the next index in sequence below the memo
// limit, the case of every MEMOIZE; it reports false, doing nothing,
// otherwise.
func (m *machine) memoPutFast(idx uint64, v Value) bool {
	if idx != m.present.seq || m.present.hasExtra(idx) {
		return false
	}
	if m.live == nil || idx < m.liveEnd && m.live.has(idx) {
		if m.memo.n >= m.opts.Limits.MaxMemo {
			return false
		}
		share(v)
		m.memo.put(idx, v, false)
		m.present.seq++
		m.memoLen++
		if m.mayGoLive && m.memo.n >= m.liveAt {
			m.goLive()
		}
		return true
	}
	m.present.seq++
	m.memoLen++
	return true
}

// memoGetFast returns the kept value at idx, if there is one and nothing
// else (a memo expansion check, a replay, an earlier pickle's memo) is
// involved.
func (m *machine) memoGetFast(idx uint64) (Value, bool) {
	if g := m.gets + 1; g > 1_000_000 && g > 100*int64(m.memoLen+1) || !m.present.has(idx) || !m.kept(idx) {
		return Value{}, false
	}
	m.gets++
	return m.memo.get(idx), true
}

func (m *machine) memoPut(idx uint64, v Value) error {
	keep := m.kept(idx)
	if keep {
		share(v)
	}
	if m.present.has(idx) {
		if keep {
			m.memo.put(idx, v, true)
		}
		return nil
	}
	// The limit is on what is held: a dropped entry costs a bit.
	if keep && m.memo.n >= m.opts.Limits.MaxMemo {
		return &vmError{msg: fmt.Sprintf("memo larger than max_memo %d", m.opts.Limits.MaxMemo), budget: true}
	}
	if _, sparse := m.present.add(idx); sparse && !keep {
		// An index far outside the dense range costs a map entry.
		if len(m.present.sparse) > m.opts.Limits.MaxMemo {
			return &vmError{msg: fmt.Sprintf("memo larger than max_memo %d", m.opts.Limits.MaxMemo), budget: true}
		}
	}
	m.memoLen++
	if keep {
		m.memo.put(idx, v, false)
		if m.mayGoLive && m.memo.n >= m.liveAt {
			m.goLive()
		}
	}
	return nil
}

// goLive pre-scans the input and drops the held entries that no GET reads
// (LiveMemoAuto). Entries already read stay; reads still to come are
// checked against what was dropped, as in a run that started live.
func (m *machine) goLive() {
	m.mayGoLive = false
	live, ok := readIndices(m.src, m.start, m.rd.size, m.opts.StopAfter)
	if !ok {
		return
	}
	m.live, m.liveEnd = live, live.end()
	m.memo.each(func(i uint64, v *Value) {
		if m.present.has(i) && !live.has(i) {
			*v = Value{}
			m.memo.n--
		}
	})
	for i := range m.memo.sparse {
		if !live.has(i) {
			delete(m.memo.sparse, i)
			m.memo.n--
		}
	}
	for i := range m.prevMemo {
		if !live.has(i) {
			if m.prevPresent == nil {
				m.prevPresent = &indexSet{}
			}
			m.prevPresent.add(i)
			delete(m.prevMemo, i)
		}
	}
}

func (m *machine) memoGet(idx uint64) error {
	m.gets++
	if m.gets > 1_000_000 && m.gets > 100*int64(m.memoLen+1) {
		return &vmError{msg: fmt.Sprintf("%d memo reads of %d entries: exponential expansion", m.gets, m.memoLen), limit: true}
	}
	ok := m.present.has(idx)
	if ok && !m.kept(idx) {
		return errReplay
	}
	v := m.memo.get(idx)
	if !ok {
		if m.prevPresent != nil && m.prevPresent.has(idx) && !m.kept(idx) {
			return errReplay
		}
		if pv, found := m.prevMemo[idx]; found {
			// Valid only when one Unpickler loads both pickles; follow
			// it so the value's use is judged, and say so.
			m.event(EvMalformed, fmt.Sprintf("memo index %d is read from an earlier pickle in the stream (works only when one Unpickler loads both)", idx), pv, unknownValue)
			return m.push(pv)
		}
		return fail("Memo value not found at index %d", idx)
	}
	return m.push(v)
}

// one runs a single pickle to STOP.
func (m *machine) one() error {
	r := m.rd
	// The opcode count lives in a register while the loop runs (a counter
	// in memory costs a store-to-load round trip per opcode); every return
	// writes it back.
	ops, maxOps := m.tr.Opcodes, m.opts.Limits.MaxOpcodes
	for {
		ops++
		if ops&0xffff == 0 {
			if err := m.ctx.Err(); err != nil {
				m.tr.Opcodes = ops
				return err
			}
			if m.pools.cells > m.maxCells {
				m.tr.Opcodes = ops
				return &vmError{msg: fmt.Sprintf("the VM holds its most values (about %d MiB); the rest of the pickle was not analysed", m.maxCells*valueBytes>>20), budget: true}
			}
		}
		if ops > maxOps {
			m.tr.Opcodes = ops
			return &vmError{msg: fmt.Sprintf("more than max_opcodes %d opcodes", m.opts.Limits.MaxOpcodes), budget: true}
		}
		var op byte
		if r.pos < r.end {
			m.opOff = r.base + int64(r.pos)
			op = r.buf[r.pos]
			r.pos++
		} else {
			m.opOff = r.Offset()
			var err error
			if op, err = r.byte(); err != nil {
				m.tr.Opcodes = ops
				if m.opOff == r.size && len(m.stack) == 0 && ops == 1 {
					return fail("Ran out of input")
				}
				return fail("pickle data was truncated")
			}
		}
		// The opcodes that make up nearly all of an object-heavy pickle
		// (MEMOIZE, BINGET, short strings, small ints and tuples) run here
		// when their arguments are buffered and inside the current frame;
		// step runs everything else, and these too when they are not so
		// simple. Each case does exactly what step's does.
		switch op {
		case 0x94: // MEMOIZE
			if n := len(m.stack); n > m.fence() && m.memoPutFast(uint64(m.memoLen), m.stack[n-1]) {
				continue
			}
		case 'h': // BINGET
			if r.pos < r.end && len(m.stack) < m.opts.Limits.MaxStack {
				if v, ok := m.memoGetFast(uint64(r.buf[r.pos])); ok {
					r.pos++
					m.stack = append(m.stack, v)
					continue
				}
			}
		case 'K': // BININT1
			if r.pos < r.end && len(m.stack) < m.opts.Limits.MaxStack {
				m.stack = append(m.stack, Value{Kind: KInt, N: int64(r.buf[r.pos])})
				r.pos++
				continue
			}
		case 'G', 'J', 'M': // BINFLOAT, BININT, BININT2
			w := 8
			if op == 'J' {
				w = 4
			} else if op == 'M' {
				w = 2
			}
			if r.pos+w <= r.end && len(m.stack) < m.opts.Limits.MaxStack {
				// A frame end inside the argument is m.fixed's to handle.
				if cur := r.base + int64(r.pos); m.frameEnd <= cur || cur+int64(w) <= m.frameEnd {
					b := r.buf[r.pos : r.pos+w]
					var v Value
					switch op {
					case 'G':
						v = Value{Kind: KFloat, N: int64(binary.BigEndian.Uint64(b))}
					case 'J':
						v = Value{Kind: KInt, N: int64(int32(binary.LittleEndian.Uint32(b)))}
					default:
						v = Value{Kind: KInt, N: int64(binary.LittleEndian.Uint16(b))}
					}
					r.pos += w
					m.stack = append(m.stack, v)
					continue
				}
			}
		case 0x8c, 'C': // SHORT_BINUNICODE, SHORT_BINBYTES
			if m.shortData(op) {
				continue
			}
		case 0x85, 0x86, 0x87: // TUPLE1..3
			if n := int(op - 0x84); len(m.stack)-n >= m.fence() {
				items := m.stack[len(m.stack)-n:]
				v := m.pools.container(KTuple, items)
				m.stack = m.stack[:len(m.stack)-n]
				m.stack = append(m.stack, v)
				continue
			}
		case '(': // MARK
			if len(m.marks) < maxMarks {
				m.marks = append(m.marks, len(m.stack))
				continue
			}
		case '}': // EMPTY_DICT
			if len(m.stack) < m.opts.Limits.MaxStack {
				m.stack = append(m.stack, m.pools.dict())
				continue
			}
		}
		var err error
		switch op {
		case 'R':
			err = m.reduce()
		case 'u':
			err = m.setItemsMark()
		default:
			err = m.step(op)
		}
		if err == nil && m.full != nil {
			err = m.full
		}
		if err != nil {
			m.tr.Opcodes = ops
			if err == errStop {
				return nil
			}
			if err == errTruncated {
				return fail("pickle data was truncated")
			}
			return err
		}
	}
}

// shortData pushes a SHORT_BINUNICODE or SHORT_BINBYTES value when it is
// buffered, short, inside the frame and valid, and reports whether it did.
func (m *machine) shortData(op byte) bool {
	r := m.rd
	if r.pos >= r.end || len(m.stack) >= m.opts.Limits.MaxStack {
		return false
	}
	n := int(r.buf[r.pos])
	start := r.pos + 1
	if start+n > r.end || n > 40 {
		return false
	}
	if off := r.base + int64(start); m.frameEnd > off && off+int64(n) > m.frameEnd {
		return false // the payload crosses the frame end
	}
	b := r.buf[start : start+n]
	kind := KBytes
	if op == 0x8c {
		kind = KStr
	}
	if n <= maxInlineStr && recycle && start+12 <= r.end {
		// Both words straight from the buffer, masked to the length;
		// ASCII (nearly all keys and names) is valid UTF-8.
		lo := binary.LittleEndian.Uint64(r.buf[start:])
		hi := uint32(0)
		if n < 8 {
			lo &= 1<<(8*n) - 1
		} else {
			hi = binary.LittleEndian.Uint32(r.buf[start+8:]) & (1<<(8*(n-8)) - 1)
		}
		if kind == KStr && (lo&0x8080808080808080 != 0 || hi&0x80808080 != 0) && !validShortUTF8(b) {
			return false
		}
		r.pos = start + n
		m.stack = append(m.stack, Value{Kind: kind, N: int64(lo), lx: hi<<8 | uint32(n+1)})
		return true
	}
	if kind == KStr && !validShortUTF8(b) {
		return false
	}
	r.pos = start + n
	if n <= maxInlineStr && recycle {
		m.stack = append(m.stack, inlineStr(kind, b))
		return true
	}
	o := m.pools.str(b)
	o.Len, o.Off = int64(n), r.base+int64(start)
	m.stack = append(m.stack, Value{Kind: kind, O: o})
	return true
}

// validShortUTF8 is utf8.Valid for the short ASCII strings that dict keys
// and names are, falling back to the full check.
func validShortUTF8(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return utf8.Valid(b) || validSurrogatePass(string(b))
		}
	}
	return true
}

func le(b []byte) uint64 {
	var x uint64
	for i := len(b) - 1; i >= 0; i-- {
		x = x<<8 | uint64(b[i])
	}
	return x
}

func (m *machine) readLen(n int) (int64, error) {
	b, err := m.fixed(n)
	if err != nil {
		return 0, err
	}
	x := le(b)
	if n == 8 && x > math.MaxInt64 {
		return 0, fail("byte count too large")
	}
	return int64(x), nil
}

func (m *machine) step(op byte) error {
	switch op {
	case '(': // MARK
		if len(m.marks) >= maxMarks {
			return &vmError{msg: fmt.Sprintf("MARK nesting deeper than %d", maxMarks), limit: true}
		}
		m.marks = append(m.marks, len(m.stack))
	case '.': // STOP
		v, err := m.pop()
		if err != nil {
			return err
		}
		if len(m.tr.Results) < 1000 {
			m.tr.Results = append(m.tr.Results, m.pools.expose(v))
		}
		return errStop
	case '0': // POP
		if n := len(m.marks); n > 0 && m.marks[n-1] == len(m.stack) {
			m.marks = m.marks[:n-1]
			return nil
		}
		v, err := m.pop()
		if err != nil {
			return err
		}
		if v.Kind == KCall {
			v.O.Call.Used = false
		}
		m.pools.drop(v)
	case '1': // POP_MARK
		items, err := m.popMark()
		for _, v := range items {
			m.pools.drop(v)
		}
		return err
	case '2': // DUP
		t, err := m.top()
		if err != nil {
			return err
		}
		share(*t)
		return m.push(*t)
	case 'F': // FLOAT
		s, err := m.line()
		if err != nil {
			return err
		}
		f, perr := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if perr != nil {
			return fail("could not convert string to float: %q", s)
		}
		return m.push(floatValue(f))
	case 'I': // INT
		s, err := m.line()
		if err != nil {
			return err
		}
		switch s {
		case "00":
			return m.push(Value{Kind: KBool, N: 0})
		case "01":
			return m.push(Value{Kind: KBool, N: 1})
		}
		return m.pushIntText(s)
	case 'L': // LONG
		s, err := m.line()
		if err != nil {
			return err
		}
		return m.pushIntText(strings.TrimSuffix(s, "L"))
	case 'J': // BININT
		b, err := m.fixed(4)
		if err != nil {
			return err
		}
		return m.push(Value{Kind: KInt, N: int64(int32(binary.LittleEndian.Uint32(b)))})
	case 'K': // BININT1
		b, err := m.rd.byte()
		if err != nil {
			return errTruncated
		}
		return m.push(Value{Kind: KInt, N: int64(b)})
	case 'M': // BININT2
		b, err := m.fixed(2)
		if err != nil {
			return err
		}
		return m.push(Value{Kind: KInt, N: int64(binary.LittleEndian.Uint16(b))})
	case 0x8a, 0x8b: // LONG1, LONG4
		var n int64
		if op == 0x8a {
			b, err := m.rd.byte()
			if err != nil {
				return errTruncated
			}
			n = int64(b)
		} else {
			b, err := m.fixed(4)
			if err != nil {
				return err
			}
			n = int64(int32(binary.LittleEndian.Uint32(b)))
			if n < 0 {
				return fail("LONG pickle has negative byte count")
			}
		}
		s, _, err := m.data(n, false)
		if err != nil {
			return err
		}
		return m.push(longValue(s, n))
	case 'N':
		return m.push(noneValue)
	case 0x88:
		return m.push(Value{Kind: KBool, N: 1})
	case 0x89:
		return m.push(Value{Kind: KBool, N: 0})
	case 'G': // BINFLOAT
		b, err := m.fixed(8)
		if err != nil {
			return err
		}
		return m.push(Value{Kind: KFloat, N: int64(binary.BigEndian.Uint64(b))})
	case 'S': // STRING
		off := m.rd.Offset()
		s, err := m.line()
		if err != nil {
			return err
		}
		if len(s) < 2 || s[0] != s[len(s)-1] || (s[0] != '\'' && s[0] != '"') {
			return fail("the STRING opcode argument must be quoted")
		}
		u := unescapePy(s[1 : len(s)-1])
		return m.push(Value{Kind: KStr, O: m.pools.long(u, int64(len(u)), off)})
	case 'T', 'U', 'B', 'C', 0x8e, 0x96: // BINSTRING, SHORT_BINSTRING, BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
		var n int64
		var err error
		switch op {
		case 'T':
			var b []byte
			if b, err = m.fixed(4); err == nil {
				n = int64(int32(binary.LittleEndian.Uint32(b)))
				if n < 0 {
					return fail("BINSTRING pickle has negative byte count")
				}
			}
		case 'B':
			n, err = m.readLen(4)
		case 'U', 'C':
			n, err = m.readLen(1)
		default:
			n, err = m.readLen(8)
		}
		if err != nil {
			return err
		}
		o, err := m.dataObject(n, op == 'B' || op == 'C' || op == 0x8e || op == 0x96)
		if err != nil {
			return err
		}
		if op == 'T' || op == 'U' {
			// Python 3 decodes str8 with the unpickler's encoding (ASCII by
			// default); the scanner keeps the text either way.
			return m.push(Value{Kind: KStr, O: o})
		}
		return m.push(Value{Kind: KBytes, O: o})
	case 'V': // UNICODE (raw-unicode-escape)
		off := m.rd.Offset()
		s, err := m.line()
		if err != nil {
			return err
		}
		u := unescapeRawUnicode(s)
		return m.push(Value{Kind: KStr, O: m.pools.long(u, int64(len(u)), off)})
	case 'X', 0x8c, 0x8d: // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
		var n int64
		var err error
		switch op {
		case 'X':
			n, err = m.readLen(4)
		case 0x8c:
			n, err = m.readLen(1)
		default:
			n, err = m.readLen(8)
		}
		if err != nil {
			return err
		}
		o, err := m.dataObject(n, false)
		if err != nil {
			return err
		}
		if s := o.S; int64(len(s)) == n && !utf8.ValidString(s) && !validSurrogatePass(s) {
			return fail("'utf-8' codec can't decode BINUNICODE data")
		}
		return m.push(Value{Kind: KStr, O: o})
	case ')':
		return m.push(m.pools.container(KTuple, nil))
	case ']':
		return m.push(m.pools.container(KList, nil))
	case '}':
		return m.push(m.pools.dict())
	case 0x8f:
		return m.push(m.pools.container(KSet, nil))
	case 't': // TUPLE
		items, err := m.popMark()
		if err != nil {
			return err
		}
		return m.push(m.pools.container(KTuple, items))
	case 0x85, 0x86, 0x87: // TUPLE1..3
		n := int(op - 0x84)
		if len(m.stack)-n < m.fence() {
			return m.underflow()
		}
		items := m.stack[len(m.stack)-n:]
		v := m.pools.container(KTuple, items)
		m.stack = m.stack[:len(m.stack)-n]
		return m.push(v)
	case 'l': // LIST
		items, err := m.popMark()
		if err != nil {
			return err
		}
		return m.push(m.pools.container(KList, items))
	case 'd': // DICT
		items, err := m.popMark()
		if err != nil {
			return err
		}
		if len(items)%2 != 0 {
			return fail("odd number of items for DICT")
		}
		return m.push(m.pools.container(KDict, items))
	case 0x91: // FROZENSET
		items, err := m.popMark()
		if err != nil {
			return err
		}
		return m.push(m.pools.container(KFrozenSet, items))
	case 'a': // APPEND
		return m.appendItems(len(m.stack)-1, "APPEND")
	case 'e': // APPENDS
		k, err := m.markIndex()
		if err != nil {
			return err
		}
		return m.appendItems(k, "APPENDS")
	case 's': // SETITEM
		return m.setItems(len(m.stack)-2, "SETITEM")
	case 'u': // SETITEMS
		return m.setItemsMark()
	case 0x90: // ADDITEMS
		k, err := m.markIndex()
		if err != nil {
			return err
		}
		if k <= m.fence() || k > len(m.stack) {
			return m.underflow()
		}
		items := m.stack[k:]
		set := m.stack[k-1]
		if isConcrete(set) && set.Kind != KSet && len(items) > 0 {
			// load_additems falls back to the object's add method, which
			// no other built-in value has.
			return fail("'%s' object has no attribute 'add'", pyType(set))
		}
		if set.Kind == KSet {
			m.pools.add(set.O, items)
		} else if len(items) > 0 {
			m.event(EvNonContainer, "ADDITEMS on "+describeKind(set), set, firstOr(items))
		}
		m.stack = m.stack[:k]
	case 'c': // GLOBAL
		mod, err := m.line()
		if err != nil {
			return err
		}
		name, err := m.line()
		if err != nil {
			return err
		}
		if mod == "" || name == "" {
			return fail("pickle data was truncated")
		}
		if !utf8.ValidString(mod) || !utf8.ValidString(name) {
			return fail("'utf-8' codec can't decode GLOBAL argument")
		}
		return m.push(m.global(mod, name, "GLOBAL"))
	case 0x93: // STACK_GLOBAL
		name, err := m.pop()
		if err != nil {
			return err
		}
		mod, err := m.pop()
		if err != nil {
			return err
		}
		if mod.IsStr() && name.IsStr() {
			// The global keeps the strings' text.
			share(mod)
			share(name)
			return m.push(m.global(mod.Str(), name.Str(), "STACK_GLOBAL"))
		}
		if isConcreteNonStr(mod) || isConcreteNonStr(name) {
			return fail("STACK_GLOBAL requires str")
		}
		m.event(EvDynamicGlobal, fmt.Sprintf("STACK_GLOBAL(%s, %s)", mod, name), mod, name) // shares both
		g := globalValue(symName(mod), symName(name))
		return m.push(g)
	case 'i': // INST
		mod, err := m.line()
		if err != nil {
			return err
		}
		name, err := m.line()
		if err != nil {
			return err
		}
		if mod == "" || name == "" {
			return fail("pickle data was truncated")
		}
		if !utf8.ValidString(mod) || !utf8.ValidString(name) {
			return fail("'utf-8' codec can't decode INST argument")
		}
		items, err := m.popMark()
		if err != nil {
			return err
		}
		cls := m.global(mod, name, "INST")
		return m.push(m.call("INST", cls, m.pools.container(KTuple, items), nil))
	case 'o': // OBJ
		items, err := m.popMark()
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return m.underflow()
		}
		if isConcrete(items[0]) {
			return fail("'%s' object is not callable", pyType(items[0]))
		}
		return m.push(m.call("OBJ", items[0], m.pools.container(KTuple, items[1:]), nil))
	case 'R': // REDUCE
		return m.reduce()
	case 0x81: // NEWOBJ
		args, err := m.pop()
		if err != nil {
			return err
		}
		cls, err := m.top()
		if err != nil {
			return err
		}
		if isConcrete(*cls) {
			return fail("NEWOBJ class argument isn't a type object")
		}
		if isConcrete(args) && args.Kind != KTuple {
			return fail("NEWOBJ expected an arg tuple")
		}
		*cls = m.call("NEWOBJ", *cls, args, nil)
	case 0x92: // NEWOBJ_EX
		kwargs, err := m.pop()
		if err != nil {
			return err
		}
		args, err := m.pop()
		if err != nil {
			return err
		}
		cls, err := m.top()
		if err != nil {
			return err
		}
		if isConcrete(*cls) {
			return fail("NEWOBJ_EX class argument must be a type")
		}
		*cls = m.call("NEWOBJ_EX", *cls, args, &kwargs)
	case 'b': // BUILD
		state, err := m.pop()
		if err != nil {
			return err
		}
		t, err := m.top()
		if err != nil {
			return err
		}
		target := *t
		if err := buildOnValue(target, state); err != nil {
			return err
		}
		switch target.Kind {
		case KGlobal:
			m.event(EvBuildGlobal, fmt.Sprintf("BUILD sets state %s on %s", state, target), target, state)
		case KCall, KPersistent, KUnknown:
			if !m.inertResult(target) {
				m.event(EvBuild, "", target, state)
			}
		}
		if m.opts.OnBuild != nil && m.buildHooked(target) {
			target, state = m.pools.expose(target), m.pools.expose(state)
			m.hooked = m.rd.Offset()
			if err := m.opts.OnBuild(target, state, &Stream{r: m.rd, replayed: m.hooked <= m.replayedTo}); err != nil {
				return fail("%v", err)
			}
		}
		// BUILD consumes the state: unless something else holds it (the
		// memo, the event, the hook), it is unreachable now. A module
		// pickle's per-submodule state dicts are then reused.
		m.pools.drop(state)
	case 'P': // PERSID
		s, err := m.line()
		if err != nil {
			return err
		}
		pid := strValue(s, m.opOff+1, int64(len(s)))
		return m.push(persistent(pid))
	case 'Q': // BINPERSID
		pid, err := m.pop()
		if err != nil {
			return err
		}
		return m.push(persistent(pid))
	case 'g': // GET
		s, err := m.line()
		if err != nil {
			return err
		}
		idx, perr := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if perr != nil || idx < 0 {
			return fail("invalid GET argument %q", s)
		}
		return m.memoGet(uint64(idx))
	case 'h': // BINGET
		b, err := m.rd.byte()
		if err != nil {
			return errTruncated
		}
		return m.memoGet(uint64(b))
	case 'j': // LONG_BINGET
		b, err := m.fixed(4)
		if err != nil {
			return err
		}
		return m.memoGet(uint64(binary.LittleEndian.Uint32(b)))
	case 'p': // PUT
		s, err := m.line()
		if err != nil {
			return err
		}
		idx, perr := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if perr != nil {
			return fail("invalid PUT argument %q", s)
		}
		if idx < 0 {
			return fail("negative PUT argument")
		}
		t, err := m.top()
		if err != nil {
			return err
		}
		return m.memoPut(uint64(idx), *t)
	case 'q': // BINPUT
		b, err := m.rd.byte()
		if err != nil {
			return errTruncated
		}
		t, err := m.top()
		if err != nil {
			return err
		}
		return m.memoPut(uint64(b), *t)
	case 'r': // LONG_BINPUT
		b, err := m.fixed(4)
		if err != nil {
			return err
		}
		idx := int64(int32(binary.LittleEndian.Uint32(b)))
		if idx < 0 {
			return fail("negative LONG_BINPUT argument")
		}
		t, err := m.top()
		if err != nil {
			return err
		}
		return m.memoPut(uint64(idx), *t)
	case 0x94: // MEMOIZE
		t, err := m.top()
		if err != nil {
			return err
		}
		return m.memoPut(uint64(m.memoLen), *t)
	case 0x80: // PROTO
		b, err := m.rd.byte()
		if err != nil {
			return errTruncated
		}
		if b > 5 {
			return fail("unsupported pickle protocol: %d", b)
		}
		m.proto = int(b)
	case 0x95: // FRAME
		n, err := m.readLen(8)
		if err != nil {
			return err
		}
		// CPython's C unpickler reads the frame into its buffer and
		// rewinds; see frameRead for what happens at the frame's end.
		if n > m.rd.Remaining() {
			return fail("pickle data was truncated")
		}
		if err := m.frameRead(n); err != nil {
			return err
		}
		if cur := m.rd.Offset(); cur+n > m.frameEnd {
			m.frameEnd = cur + n
		}
	case 0x82, 0x83, 0x84: // EXT1, EXT2, EXT4
		var code int64
		var err error
		switch op {
		case 0x82:
			code, err = m.readLen(1)
		case 0x83:
			code, err = m.readLen(2)
		default:
			var b []byte
			if b, err = m.fixed(4); err == nil {
				code = int64(int32(binary.LittleEndian.Uint32(b)))
			}
		}
		if err != nil {
			return err
		}
		m.event(EvExtension, fmt.Sprintf("extension code %d", code), Value{Kind: KInt, N: code}, unknownValue)
		// The stock copyreg registry is empty: CPython raises here unless
		// the loading process registered codes.
		return m.push(globalValue("copyreg", fmt.Sprintf("<extension %d>", code)))
	case 0x97: // NEXT_BUFFER
		m.event(EvOutOfBandBuffers, "NEXT_BUFFER", unknownValue, unknownValue)
		return fail("pickle stream refers to out-of-band data but no *buffers* argument was given")
	case 0x98: // READONLY_BUFFER
		if _, err := m.top(); err != nil {
			return err
		}
	default:
		return fail("invalid load key, '\\x%02x'", op)
	}
	return nil
}

// maxMarks bounds MARK nesting: real pickles nest a few dozen levels;
// tens of thousands is a resource attack on decompiling scanners and
// recursive consumers.
const maxMarks = 10000

func (m *machine) reduce() error {
	args, err := m.pop()
	if err != nil {
		return err
	}
	callee, err := m.top()
	if err != nil {
		return err
	}
	if isConcrete(args) && args.Kind != KTuple {
		return fail("argument list must be a tuple")
	}
	if isConcrete(*callee) {
		// Values a pickle builds itself (str, tuple, dict...) are
		// never callable.
		return fail("'%s' object is not callable", pyType(*callee))
	}
	*callee = m.call("REDUCE", *callee, args, nil)
	return nil
}

func (m *machine) setItemsMark() error {
	k, err := m.markIndex()
	if err != nil {
		return err
	}
	return m.setItems(k, "SETITEMS")
}

func (m *machine) appendItems(k int, op string) error {
	// CPython's do_append/do_setitems refuse to reach below the current
	// fence (the innermost MARK), not just below the stack bottom.
	if k <= m.fence() || k > len(m.stack) {
		return m.underflow()
	}
	if k == len(m.stack) {
		return nil
	}
	items := m.stack[k:]
	list := m.stack[k-1]
	if isConcrete(list) && list.Kind != KList && list.Kind != KBytes {
		// Only lists (and bytearrays) have append/extend among the values
		// a pickle builds itself.
		return fail("'%s' object has no attribute 'append'", pyType(list))
	}
	if list.Kind == KList {
		m.pools.add(list.O, items)
	} else {
		m.nonContainer(op, list, items)
	}
	m.stack = m.stack[:k]
	return nil
}

func (m *machine) setItems(k int, op string) error {
	// CPython's do_append/do_setitems refuse to reach below the current
	// fence (the innermost MARK), not just below the stack bottom.
	if k <= m.fence() || k > len(m.stack) {
		return m.underflow()
	}
	if k == len(m.stack) {
		return nil
	}
	if (len(m.stack)-k)%2 != 0 {
		return fail("odd number of items for SETITEMS")
	}
	items := m.stack[k:]
	d := m.stack[k-1]
	switch d.Kind {
	case KNone, KBool, KInt, KFloat, KStr, KTuple, KSet, KFrozenSet:
		return fail("'%s' object does not support item assignment", pyType(d))
	}
	if d.Kind == KDict {
		m.pools.add(d.O, items)
	} else {
		m.nonContainer(op, d, items)
	}
	m.stack = m.stack[:k]
	return nil
}

func (m *machine) nonContainer(op string, target Value, items []Value) {
	// Instances built by allowlisted classes (OrderedDict, defaultdict,
	// numpy arrays) legitimately receive items; policy decides.
	if m.inertResult(target) {
		// Nothing records what an inert instance is given: the items
		// are unreachable once off the stack.
		for _, it := range items {
			m.pools.drop(it)
		}
		return
	}
	m.event(EvNonContainer, op+" on "+describeKind(target), target, firstOr(items))
}

// buildOnValue applies load_build's checks to values the pickle built itself
// (dicts, lists, strings...): they have neither __setstate__ nor a __dict__,
// so any state except None makes CPython raise.
func buildOnValue(target, state Value) error {
	if !isConcrete(target) {
		return nil
	}
	slot := noneValue
	if state.Kind == KTuple && state.O.Len == 2 && len(state.O.Items) == 2 {
		state, slot = state.O.Items[0], state.O.Items[1]
	}
	switch {
	case state.Kind == KDict:
		return fail("'%s' object has no attribute '__dict__'", pyType(target))
	case isConcrete(state) && state.Kind != KNone:
		return fail("state is not a dictionary")
	case slot.Kind == KDict && slot.O.Len > 0:
		return fail("'%s' object attribute is read-only", pyType(target))
	case isConcrete(slot) && slot.Kind != KNone && slot.Kind != KDict:
		return fail("slot state is not a dictionary")
	}
	return nil
}

func pyType(v Value) string {
	return map[Kind]string{KNone: "NoneType", KBool: "bool", KInt: "int", KFloat: "float", KStr: "str",
		KBytes: "bytes", KTuple: "tuple", KList: "list", KDict: "dict", KSet: "set", KFrozenSet: "frozenset",
		KBuffer: "PickleBuffer"}[v.Kind]
}

func firstOr(items []Value) Value {
	if len(items) == 0 {
		return unknownValue
	}
	return items[0]
}

func describeKind(v Value) string {
	switch v.Kind {
	case KGlobal:
		return "global " + v.O.Module + "." + v.O.Name
	case KCall:
		return "result of " + v.O.Call.Callee.String()
	}
	return kindName(v.Kind)
}

func kindName(k Kind) string {
	names := map[Kind]string{KUnknown: "unknown", KNone: "None", KBool: "bool", KInt: "int", KFloat: "float",
		KStr: "str", KBytes: "bytes", KTuple: "tuple", KList: "list", KDict: "dict", KSet: "set",
		KFrozenSet: "frozenset", KGlobal: "global", KCall: "call result", KPersistent: "persistent object", KBuffer: "buffer"}
	return names[k]
}

// isConcrete reports whether v is a value whose Python type is known
// statically (so CPython's type checks can be applied).
func isConcrete(v Value) bool {
	switch v.Kind {
	case KUnknown, KGlobal, KCall, KPersistent:
		return false
	}
	return true
}

func isConcreteNonStr(v Value) bool { return isConcrete(v) && v.Kind != KStr }

func symName(v Value) string {
	if v.IsStr() {
		return v.Str()
	}
	return "<computed:" + v.String() + ">"
}

func (m *machine) pushIntText(s string) error {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 0, 64); err == nil {
		return m.push(Value{Kind: KInt, N: n})
	}
	if isDecimal(s) {
		return m.push(Value{Kind: KInt, N: math.MaxInt64})
	}
	return fail("invalid literal for int() with base 10: %q", s)
}

// isDecimal reports whether s is an optionally signed run of ASCII digits,
// the integers too large for int64 that CPython's int() accepts here. It
// replaces big.Int parsing, which is quadratic in the digit count (a line
// of a million digits took seconds).
func isDecimal(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func longValue(s string, n int64) Value {
	if n == 0 {
		return Value{Kind: KInt}
	}
	if n <= 8 && int64(len(s)) == n {
		b := []byte(s)
		x := le(b)
		shift := uint(64 - 8*n)
		return Value{Kind: KInt, N: int64(x<<shift) >> shift}
	}
	return Value{Kind: KInt, N: math.MaxInt64}
}

func validSurrogatePass(s string) bool {
	// 'surrogatepass' accepts UTF-8 encoded surrogates (ED A0..BF xx).
	b := []byte(s)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			if i+2 < len(b) && b[i] == 0xED && b[i+1] >= 0xA0 && b[i+1] <= 0xBF && b[i+2] >= 0x80 && b[i+2] <= 0xBF {
				i += 3
				continue
			}
			return false
		}
		i += size
	}
	return true
}

// unescapePy decodes Python string-escape sequences as in STRING args.
func unescapePy(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			v := 0
			for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
				v = v*8 + int(s[j]-'0')
				j++
			}
			b.WriteByte(byte(v))
			i = j - 1
		case 'x':
			if i+2 < len(s) {
				if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
					b.WriteByte(byte(v))
					i += 2
					continue
				}
			}
			b.WriteString(`\x`)
		case '\\', '\'', '"':
			b.WriteByte(s[i])
		case '\n':
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// unescapeRawUnicode decodes \uXXXX and \UXXXXXXXX as raw-unicode-escape does.
func unescapeRawUnicode(s string) string {
	if !strings.Contains(s, `\u`) && !strings.Contains(s, `\U`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			n := 4
			if s[i+1] == 'U' {
				n = 8
			}
			if i+2+n <= len(s) {
				if v, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32); err == nil {
					b.WriteRune(rune(v))
					i += 1 + n
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
