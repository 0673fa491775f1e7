package pickle

// The memo is where an unpickler's memory goes: CPython keeps every value
// a pickle memoizes until load() returns, and picklers memoize every str,
// bytes, tuple, container and call result they write. A 100 MB pickle of
// records holds ten million entries, almost none of which are ever read
// back. The VM therefore keeps only the entries that a GET can still reach
// (see live.go) and remembers the rest as one bit each, which is all that
// MEMOIZE's numbering and the "memo read" checks need.

// indexSet is a set of memo indices: a bitmap for the dense low range that
// picklers use and a map for the rest.
type indexSet struct {
	bits   []uint64
	sparse map[uint64]struct{}
}

// denseSlack is how far past the dense range an index may lie and still
// grow it rather than go to the map: picklers number entries densely from
// 0, while a hostile (or random: the sniffer runs the VM on any content)
// LONG_BINPUT 0x7fffffff must not cost a 48 GiB slice.
const denseSlack = 1 << 10

func (s *indexSet) has(i uint64) bool {
	if w := i >> 6; w < uint64(len(s.bits)) {
		return s.bits[w]&(1<<(i&63)) != 0
	}
	_, ok := s.sparse[i]
	return ok
}

// add inserts i and reports whether it was new and whether it went to the
// sparse map (which costs a map entry rather than a bit).
func (s *indexSet) add(i uint64) (added, sparse bool) {
	w := i >> 6
	if w >= uint64(len(s.bits)) && w < uint64(2*len(s.bits))+denseSlack/64 {
		n := max(2*len(s.bits), int(w)+1, 64)
		nb := make([]uint64, n)
		copy(nb, s.bits)
		s.bits = nb
		for j := range s.sparse {
			if j>>6 < uint64(n) {
				nb[j>>6] |= 1 << (j & 63)
				delete(s.sparse, j)
			}
		}
	}
	if w < uint64(len(s.bits)) {
		if s.bits[w]&(1<<(i&63)) != 0 {
			return false, false
		}
		s.bits[w] |= 1 << (i & 63)
		return true, false
	}
	if _, ok := s.sparse[i]; ok {
		return false, true
	}
	if s.sparse == nil {
		s.sparse = map[uint64]struct{}{}
	}
	s.sparse[i] = struct{}{}
	return true, true
}

func (s *indexSet) reset() {
	clear(s.bits)
	clear(s.sparse)
}

func (s *indexSet) union(o *indexSet) {
	for w, b := range o.bits {
		if b == 0 {
			continue
		}
		for j := 0; j < 64; j++ {
			if b&(1<<j) != 0 {
				s.add(uint64(w)<<6 | uint64(j))
			}
		}
	}
	for j := range o.sparse {
		s.add(j)
	}
}

// memoStore holds the memo values the VM keeps: a slice for dense indices
// (every entry, in exact mode) and a map for the rest.
type memoStore struct {
	dense  []Value
	sparse map[uint64]Value
	n      int // values held
}

// get returns the value at i; whether there is one is the indexSet's to say.
func (s *memoStore) get(i uint64) Value {
	if i < uint64(len(s.dense)) {
		return s.dense[i]
	}
	return s.sparse[i]
}

// put stores v at i; present says whether i already had a value (the
// caller's indexSet knows).
func (s *memoStore) put(i uint64, v Value, present bool) {
	if i >= uint64(len(s.dense)) && i < uint64(2*len(s.dense))+denseSlack {
		n := max(2*len(s.dense), int(i)+1, 32)
		nd := make([]Value, n)
		copy(nd, s.dense)
		s.dense = nd
		for j, sv := range s.sparse {
			if j < uint64(n) {
				nd[j] = sv
				delete(s.sparse, j)
			}
		}
	}
	if !present {
		s.n++
	}
	if i < uint64(len(s.dense)) {
		s.dense[i] = v
		return
	}
	if s.sparse == nil {
		s.sparse = map[uint64]Value{}
	}
	s.sparse[i] = v
}

func (s *memoStore) reset() {
	clear(s.dense)
	clear(s.sparse)
	s.n = 0
}
