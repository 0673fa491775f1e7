package pickle

// The memo is where an unpickler's memory goes: CPython keeps every value
// a pickle memoizes until load() returns, and picklers memoize every str,
// bytes, tuple, container and call result they write. A 100 MB pickle of
// records holds ten million entries, almost none of which are ever read
// back. The VM therefore keeps only the entries that a GET can still reach
// (see live.go) and remembers the rest as one bit each, which is all that
// MEMOIZE's numbering and the "memo read" checks need.

// indexSet is a set of memo indices: every index below seq (picklers
// number entries 0, 1, 2...: a memo of a hundred million entries is then
// one number, not a growing bitmap), a bitmap for the dense low range
// and a map for the rest.
type indexSet struct {
	seq    uint64
	bits   []uint64
	sparse map[uint64]struct{}
}

// denseSlack is how far past the dense range an index may lie and still
// grow it rather than go to the map: picklers number entries densely from
// 0, while a hostile (or random: the sniffer runs the VM on any content)
// LONG_BINPUT 0x7fffffff must not cost a 48 GiB slice.
const denseSlack = 1 << 10

func (s *indexSet) has(i uint64) bool { return i < s.seq || s.hasExtra(i) }

// end returns a bound past every index in the set.
func (s *indexSet) end() uint64 {
	if s == nil {
		return 0
	}
	e := max(s.seq, uint64(len(s.bits))*64)
	for i := range s.sparse {
		e = max(e, i+1)
	}
	return e
}

// hasExtra reports whether i is in the bitmap or the map.
func (s *indexSet) hasExtra(i uint64) bool {
	if w := i >> 6; w < uint64(len(s.bits)) {
		return s.bits[w]&(1<<(i&63)) != 0
	}
	if s.sparse == nil {
		return false
	}
	_, ok := s.sparse[i]
	return ok
}

// add inserts i and reports whether it was new and whether it went to the
// sparse map (which costs a map entry rather than a bit).
func (s *indexSet) add(i uint64) (added, sparse bool) {
	if i < s.seq {
		return false, false
	}
	if i == s.seq && !s.hasExtra(i) {
		s.seq++
		return true, false
	}
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
	s.seq = 0
	clear(s.bits)
	clear(s.sparse)
}

func (s *indexSet) union(o *indexSet) {
	for i := uint64(0); i < o.seq; i++ {
		s.add(i)
	}
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

// memoStore holds the memo values the VM keeps: a slice for the first
// pagedFrom dense indices, fixed pages after that (a memo of a million
// entries is then allocated once, not grown by copying), and a map for
// indices far from the rest.
type memoStore struct {
	dense  []Value
	pages  [][]Value // pages[p] holds indices pagedFrom*(p+1) ...
	sparse map[uint64]Value
	n      int // values held
}

// pagedFrom is both where the pages start and their size. Small enough
// that the memo of a small pickle (a module's few thousand entries) is not
// grown by copying through a slice twice its size, large enough that the
// page list of a big one stays short.
const pagedFrom = 512

// pageSlack is how many pages past the last one an index may lie and still
// get pages (nil until written) rather than go to the map: what a live
// memo (only read entries kept) skips between the entries it keeps.
const pageSlack = 8

// get returns the value at i; whether there is one is the indexSet's to say.
func (s *memoStore) get(i uint64) Value {
	if i < uint64(len(s.dense)) {
		return s.dense[i]
	}
	if p := i/pagedFrom - 1; i >= pagedFrom && p < uint64(len(s.pages)) && s.pages[p] != nil {
		return s.pages[p][i%pagedFrom]
	}
	return s.sparse[i]
}

// slot returns where the value at i lives in the slice or the pages,
// making room when i is near the indices in use; nil means the map.
func (s *memoStore) slot(i uint64) *Value {
	if i < pagedFrom {
		if i >= uint64(len(s.dense)) {
			if i >= uint64(2*len(s.dense))+denseSlack {
				return nil
			}
			// Four times at each step: 32, 128, 512 entries.
			nd := make([]Value, min(max(4*len(s.dense), int(i)+1, 32), pagedFrom))
			copy(nd, s.dense)
			s.dense = nd
			s.adopt(0, uint64(len(nd)), nd)
		}
		return &s.dense[i]
	}
	p := i/pagedFrom - 1
	if p >= uint64(len(s.pages)) {
		if p >= uint64(len(s.pages))+pageSlack || len(s.dense) < pagedFrom {
			return nil // not next to the indices in use
		}
		for p >= uint64(len(s.pages)) {
			s.pages = append(s.pages, nil)
		}
	}
	if s.pages[p] == nil {
		s.pages[p] = make([]Value, pagedFrom)
		lo := (p + 1) * pagedFrom
		s.adopt(lo, lo+pagedFrom, s.pages[p])
	}
	return &s.pages[p][i%pagedFrom]
}

// adopt moves map entries in [lo, hi) into dst (indexed from lo).
func (s *memoStore) adopt(lo, hi uint64, dst []Value) {
	if uint64(len(s.sparse)) > hi-lo {
		// A map larger than the range (hostile indices): look the
		// range up rather than walk the map for every page.
		for j := lo; j < hi; j++ {
			if v, ok := s.sparse[j]; ok {
				dst[j-lo] = v
				delete(s.sparse, j)
			}
		}
		return
	}
	for j, v := range s.sparse {
		if j >= lo && j < hi {
			dst[j-lo] = v
			delete(s.sparse, j)
		}
	}
}

// put stores v at i; present says whether i already had a value (the
// caller's indexSet knows).
func (s *memoStore) put(i uint64, v Value, present bool) {
	if !present {
		s.n++
	}
	if p := s.slot(i); p != nil {
		*p = v
		return
	}
	if s.sparse == nil {
		s.sparse = map[uint64]Value{}
	}
	s.sparse[i] = v
}

// each calls fn for every slot that may hold a value (the caller's indexSet
// says which do).
func (s *memoStore) each(fn func(i uint64, v *Value)) {
	for i := range s.dense {
		fn(uint64(i), &s.dense[i])
	}
	for p, page := range s.pages {
		for k := range page {
			fn(uint64(p+1)*pagedFrom+uint64(k), &page[k])
		}
	}
}

func (s *memoStore) reset() {
	clear(s.dense)
	for _, page := range s.pages {
		clear(page)
	}
	clear(s.sparse)
	s.n = 0
}
