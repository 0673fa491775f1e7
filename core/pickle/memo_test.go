package pickle

import (
	"math/rand"
	"testing"
)

// TestMemoStoreMatchesMap: the slice, pages and map of memoStore and the
// bitmap and map of indexSet behave as one map, whatever the indices
// (dense runs as picklers write them, far jumps as hostile input does).
func TestMemoStoreMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for round := 0; round < 20; round++ {
		var s memoStore
		var set indexSet
		ref := map[uint64]int64{}
		next := uint64(0)
		for op := 0; op < 20000; op++ {
			var i uint64
			switch r := rng.Intn(10); {
			case r < 7:
				i = next // dense, as MEMOIZE numbers entries
				next++
			case r < 9:
				i = uint64(rng.Intn(int(next) + 10))
			default:
				i = uint64(rng.Int63n(1 << 40))
			}
			added, _ := set.add(i)
			_, had := ref[i]
			if added == had {
				t.Fatalf("round %d: indexSet.add(%d) = %v, map had it: %v", round, i, added, had)
			}
			s.put(i, Value{Kind: KInt, N: int64(op)}, had)
			ref[i] = int64(op)
		}
		if s.n != len(ref) {
			t.Fatalf("round %d: store counts %d values, map has %d", round, s.n, len(ref))
		}
		for i, n := range ref {
			if !set.has(i) || s.get(i).N != n {
				t.Fatalf("round %d: index %d: has=%v value %d, want %d", round, i, set.has(i), s.get(i).N, n)
			}
		}
		seen := 0
		s.each(func(i uint64, v *Value) {
			if set.has(i) {
				seen++
			}
		})
		if seen+len(s.sparse) != len(ref) {
			t.Fatalf("round %d: each visits %d held slots plus %d in the map, want %d", round, seen, len(s.sparse), len(ref))
		}
	}
}
