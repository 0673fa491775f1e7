package pickle

import "unsafe"

// An object-heavy pickle (a record cache, a pandas object column) builds
// millions of small strings, tuples, dicts and call results that become
// garbage a moment later: a list keeps maxItems items, the memo keeps only
// what a GET reads (live.go), and calls of routine globals are counted, not
// kept. Allocating each of them costs more than everything else the VM does
// with them, mostly in the garbage collector. The VM therefore recycles the
// objects it knows to be unreachable.
//
// The rule that makes this safe is ownership. An object is made by one
// opcode and referenced by one place at a time: a stack slot, then the
// container or call it is moved into. Any second reference (DUP, a kept
// memo entry, a GET, the trace: calls, events, results, hooks, a global's
// names) marks it shared, and a shared object is never recycled, nor is
// anything it owns, since its owner is never recycled either. An object
// that is dropped while unshared (an item past a container's maxItems, a
// POP) is therefore unreachable, and so is every unshared object it owns.
// Everything the trace exposes is shared, so callers never see a recycled
// object.

// Object classes; 0 is an object the VM did not make (policy builds some),
// which is never recycled.
const (
	poolNone uint8 = iota
	poolBare       // an Object alone: empty containers, items in their own slice
	poolStr8
	poolStr24
	poolStr40
	poolTuple1
	poolTuple2
	poolTuple3
	poolTuple4
	poolDict
	poolCall
	// poolLong is a string or bytes object too long for a pooled class:
	// never recycled, but counted in pools.cells until it is dropped.
	poolLong
	nPools
)

type (
	bareNode struct{ o Object }
	str8Node struct {
		o Object
		b [8]byte
	}
	str24Node struct {
		o Object
		b [24]byte
	}
	str40Node struct {
		o Object
		b [40]byte
	}
	tuple1Node struct {
		o Object
		a [1]Value
	}
	tuple2Node struct {
		o Object
		a [2]Value
	}
	tuple3Node struct {
		o Object
		a [3]Value
	}
	tuple4Node struct {
		o Object
		a [4]Value
	}
	dictNode struct {
		o Object
		a [dictRoom]Value
	}
	callNode struct {
		o Object
		c Call
		// args is what the call was given, which the call owns: the
		// tuple whose items are c.Args, or the one argument that is not a
		// tuple (c.Args is then args alone). No room for a tuple's items:
		// calls are most of what a module pickle allocates, and a tuple
		// an unshared call holds is recycled with it.
		args Value
	}
)

// dictRoom is how many keys and values an empty dict holds before its
// items move to a slice of their own: the dicts of records and instance
// state are small.
const dictRoom = 12

// recycle enables recycling and strings kept in values (tests compare
// traces with and without).
var recycle = true

// maxKeptItems bounds the items slice a recycled dict keeps.
const maxKeptItems = 64

// maxFree bounds each class's free list: a peak of live objects (a batch of
// a thousand records waiting for APPENDS) is reused, a larger one is left
// to the garbage collector.
const maxFree = 1 << 14

// pools holds the free lists of one machine.
type pools struct {
	free [nPools][]*Object
	// cells estimates, in 24-byte units (one Value), the memory held by
	// the objects the VM made and has not recycled: objects, container
	// items and long strings (see maxCells).
	cells int64
	// longCut is where long payloads start keeping only a prefix.
	longCut int64
	// work is expose's list of objects to visit.
	work  []*Object
	empty *Object // see emptyTuple
}

// get returns a cleared object of the class, its Items (if any) empty with
// the class's inline room.
func (p *pools) get(class uint8) *Object {
	p.cells += classCells(class)
	if f := p.free[class]; len(f) > 0 {
		o := f[len(f)-1]
		p.free[class] = f[:len(f)-1]
		return o
	}
	var o *Object
	switch class {
	case poolBare:
		o = &(&bareNode{}).o
	case poolStr8:
		o = &(&str8Node{}).o
	case poolStr24:
		o = &(&str24Node{}).o
	case poolStr40:
		o = &(&str40Node{}).o
	case poolTuple1:
		n := &tuple1Node{}
		n.o.Items, o = n.a[:0], &n.o
	case poolTuple2:
		n := &tuple2Node{}
		n.o.Items, o = n.a[:0], &n.o
	case poolTuple3:
		n := &tuple3Node{}
		n.o.Items, o = n.a[:0], &n.o
	case poolTuple4:
		n := &tuple4Node{}
		n.o.Items, o = n.a[:0], &n.o
	case poolDict:
		n := &dictNode{}
		n.o.Items, o = n.a[:0], &n.o
	case poolCall:
		n := &callNode{}
		n.o.Call, o = &n.c, &n.o
	}
	o.pool = class
	return o
}

// str returns a string or bytes object holding a copy of b (at most 40
// bytes), the string pointing into the object's own room; the room is
// written again only once the object is recycled.
func (p *pools) str(b []byte) *Object {
	var room []byte
	var o *Object
	switch n := len(b); {
	case n == 0:
		return p.get(poolBare)
	case n <= 8:
		o = p.get(poolStr8)
		room = (*str8Node)(unsafe.Pointer(o)).b[:]
	case n <= 24:
		o = p.get(poolStr24)
		room = (*str24Node)(unsafe.Pointer(o)).b[:]
	default:
		o = p.get(poolStr40)
		room = (*str40Node)(unsafe.Pointer(o)).b[:]
	}
	copy(room, b)
	o.S = unsafe.String(&room[0], len(b))
	return o
}

// container returns a new container holding a copy of items (the first
// maxItems of them; the rest are dropped and counted).
func (p *pools) container(k Kind, items []Value) Value {
	count := int64(len(items))
	lossy := false
	if len(items) > maxItems {
		for _, it := range items[maxItems:] {
			if it.O == nil && it.Kind != KUnknown {
				continue // a number, boolean, None or short string
			}
			if !lossy && !dataOnly(it) {
				lossy = true
			}
			if it.O != nil {
				p.drop(it)
			}
		}
		items = items[:maxItems]
	}
	var o *Object
	switch len(items) {
	case 0:
		if k == KTuple {
			return Value{Kind: k, O: p.emptyTuple()}
		}
		o = p.get(poolBare)
	case 1:
		o = p.get(poolTuple1)
	case 2:
		o = p.get(poolTuple2)
	case 3:
		o = p.get(poolTuple3)
	case 4:
		o = p.get(poolTuple4)
	default:
		o = p.get(poolBare)
	}
	o.Items = append(o.Items, items...)
	p.cells += int64(len(items))
	o.Len = count
	o.lossy = lossy
	return Value{Kind: k, O: o}
}

// long returns a string or bytes object for a payload longer than the
// pooled classes hold, counted in cells until it is dropped.
func (p *pools) long(s string, n, off int64) *Object {
	p.cells += longCells(s)
	return &Object{S: s, Len: n, Off: off, pool: poolLong}
}

// longCells is what a long string object counts in pools.cells.
func longCells(s string) int64 { return classCells(poolLong) + int64(len(s))/valueBytes }

// valueBytes is the size of a Value, the unit of pools.cells.
const valueBytes = int64(unsafe.Sizeof(Value{}))

// classCells is what an object of the class counts in pools.cells.
func classCells(class uint8) int64 { return cellsOfClass[class] }

// cellsOfClass is classCells' table (read-only; get looks it up for every
// object).
var cellsOfClass = func() (c [nPools]int64) {
	sizes := [nPools]uintptr{
		poolNone: unsafe.Sizeof(bareNode{}), poolBare: unsafe.Sizeof(bareNode{}), poolLong: unsafe.Sizeof(bareNode{}),
		poolStr8: unsafe.Sizeof(str8Node{}), poolStr24: unsafe.Sizeof(str24Node{}), poolStr40: unsafe.Sizeof(str40Node{}),
		poolTuple1: unsafe.Sizeof(tuple1Node{}), poolTuple2: unsafe.Sizeof(tuple2Node{}),
		poolTuple3: unsafe.Sizeof(tuple3Node{}), poolTuple4: unsafe.Sizeof(tuple4Node{}),
		poolDict: unsafe.Sizeof(dictNode{}), poolCall: unsafe.Sizeof(callNode{}),
	}
	for i, size := range sizes {
		c[i] = (int64(size) + valueBytes - 1) / valueBytes
	}
	return c
}()

// emptyTuple returns the machine's one empty tuple, as CPython has one:
// most REDUCEs of a module pickle call a class with (), and nothing
// changes a tuple, so the one object serves them all. It is shared from
// the start, hence never recycled.
func (p *pools) emptyTuple() *Object {
	if p.empty == nil {
		p.empty = &Object{shared: true}
	}
	return p.empty
}

// dict is EMPTY_DICT's value, with room for dictRoom keys and values in
// the same allocation: the SETITEMS that follows almost always fills it.
func (p *pools) dict() Value { return Value{Kind: KDict, O: p.get(poolDict)} }

// add appends vs to a container's items, dropping those past maxItems.
func (p *pools) add(o *Object, vs []Value) {
	o.Len += int64(len(vs))
	room := max(maxItems-len(o.Items), 0)
	if len(vs) > room {
		for _, v := range vs[room:] {
			if v.O == nil && v.Kind != KUnknown {
				continue // a number, boolean, None or short string
			}
			if !o.lossy && !dataOnly(v) {
				o.lossy = true
			}
			if v.O != nil {
				p.drop(v)
			}
		}
		vs = vs[:room]
	}
	n := len(o.Items)
	o.Items = append(o.Items, vs...)
	p.cells += int64(len(vs))
	if o.exposed {
		// The trace holds the container: what it gains is exposed too.
		for i := n; i < len(o.Items); i++ {
			o.Items[i] = p.expose(o.Items[i])
		}
	}
}

// share marks v's object as referenced from more than one place.
func share(v Value) {
	if v.O != nil {
		v.O.shared = true
	}
}

// expose prepares v for the trace (a call, an event, a result, a hook):
// v and everything it holds are marked shared and exposed, and short
// strings kept in values become objects, so that callers see every string
// and bytes value as an Object. The returned value is v's exposed form;
// v's objects change in place. Each object is visited once in a run,
// since an exposed object is not visited again.
func (p *pools) expose(v Value) Value {
	if v.O == nil {
		return materialize(v)
	}
	if v.O.exposed {
		return v
	}
	v.O.shared, v.O.exposed = true, true
	work := append(p.work[:0], v.O)
	visit := func(it *Value) {
		if it.O == nil {
			*it = materialize(*it)
		} else if !it.O.exposed {
			it.O.shared, it.O.exposed = true, true
			work = append(work, it.O)
		}
	}
	for len(work) > 0 {
		o := work[len(work)-1]
		work = work[:len(work)-1]
		for i := range o.Items {
			visit(&o.Items[i])
		}
		if c := o.Call; c != nil {
			visit(&c.Callee)
			for i := range c.Args {
				visit(&c.Args[i])
			}
			if c.Kwargs != nil {
				visit(c.Kwargs)
			}
		}
		if o.pool == poolCall {
			visit(&(*callNode)(unsafe.Pointer(o)).args)
		}
		if o.PID != nil {
			visit(o.PID)
		}
	}
	p.work = work[:0]
	return v
}

// materialize turns a short string kept in a value into an object.
func materialize(v Value) Value {
	if v.lx == 0 {
		return v
	}
	s := v.inlineText()
	return Value{Kind: v.Kind, O: &Object{S: s, Len: int64(len(s)), Off: -1, shared: true, exposed: true}}
}

// drop recycles v's object, and the objects it owns, unless it is shared
// (see the top of this file).
func (p *pools) drop(v Value) { p.dropDepth(v, 0) }

// maxDropDepth bounds the recursion into owned objects; deeper ones are
// left to the garbage collector.
const maxDropDepth = 16

func (p *pools) dropDepth(v Value, depth int) {
	o := v.O
	if o == nil || o.pool == poolNone || o.shared || depth > maxDropDepth || !recycle {
		return
	}
	if o.pool == poolLong {
		p.cells -= longCells(o.S)
		o.pool = poolNone
		return
	}
	if o.pool == poolCall {
		n := (*callNode)(unsafe.Pointer(o))
		p.dropDepth(n.c.Callee, depth+1)
		p.dropDepth(n.args, depth+1)
		if n.c.Kwargs != nil {
			p.dropDepth(*n.c.Kwargs, depth+1)
		}
	} else {
		for _, it := range o.Items {
			if it.O != nil {
				p.dropDepth(it, depth+1)
			}
		}
	}
	p.release(o)
}

// release recycles an unshared object whose owned objects, if any, have
// been dropped or moved elsewhere.
func (p *pools) release(o *Object) {
	if !recycle {
		return
	}
	class := o.pool
	p.cells -= classCells(class) + int64(len(o.Items))
	// Only the fields the VM sets on objects of the class are reset (call
	// writes all of a Call; Names and PID belong to objects it does not
	// pool), and a released object is never shared.
	if class == poolCall {
		n := (*callNode)(unsafe.Pointer(o))
		n.c.Callee, n.c.Args, n.c.Kwargs = Value{}, nil, nil
		n.args = Value{}
	} else {
		items := o.Items
		clear(items)
		o.S, o.Len, o.Off, o.lossy = "", 0, 0, false
		var room []Value
		switch class {
		case poolTuple1, poolTuple2, poolTuple3, poolTuple4, poolDict:
			room = inlineRoom(o, class)
			if cap(items) > 0 && &items[:1][0] != &room[:1][0] {
				// APPENDS grew the items out of the room (a tuple never
				// gets items, but a list of four does): the room holds
				// stale copies.
				clear(room[:cap(room)])
				if class == poolDict && cap(items) <= maxKeptItems {
					// The next dict of this shape (a module's state, a
					// config) needs the room it grew to.
					room = items[:0]
				}
			}
		case poolBare:
			if cap(items) <= 16 {
				room = items[:0] // a small list's items: keep the slice
			}
		}
		o.Items = room
	}
	o.pool = class
	if len(p.free[class]) < maxFree {
		p.free[class] = append(p.free[class], o)
	}
}

// inlineRoom returns a container object's inline room, empty.
func inlineRoom(o *Object, class uint8) []Value {
	switch class {
	case poolTuple1:
		return (*tuple1Node)(unsafe.Pointer(o)).a[:0]
	case poolTuple2:
		return (*tuple2Node)(unsafe.Pointer(o)).a[:0]
	case poolTuple3:
		return (*tuple3Node)(unsafe.Pointer(o)).a[:0]
	case poolTuple4:
		return (*tuple4Node)(unsafe.Pointer(o)).a[:0]
	default:
		return (*dictNode)(unsafe.Pointer(o)).a[:0]
	}
}
