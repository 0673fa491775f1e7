package policy

import (
	"fmt"
	"testing"
	"time"
)

// TestClassCacheAgrees checks that the memoized answers are the computed
// ones, asked once or many times, for each policy on its own: a policy
// that denies a global says so even after another policy cached it as safe.
func TestClassCacheAgrees(t *testing.T) {
	deny, err := New(Config{DenyGlobals: []string{"collections.OrderedDict"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	names := [][2]string{
		{"collections", "OrderedDict"}, {"torch._utils", "_rebuild_tensor_v2"}, {"os", "system"},
		{"builtins", "getattr"}, {"__builtin__", "eval"}, {"numpy.core.multiarray", "_reconstruct"},
		{"sklearn.utils.np", "memmap"}, {"modelgate_test", "unknown"},
	}
	for _, p := range []*Policy{Default(), deny, Default().ForRoot("/")} {
		for range 3 {
			for _, n := range names {
				if got, want := p.ClassifyGlobal(n[0], n[1]), p.classifyGlobal(n[0], n[1]); got != want {
					t.Errorf("ClassifyGlobal(%s, %s) = %s, computed %s", n[0], n[1], got, want)
				}
				routine, inert := p.routineCallee(n[0], n[1])
				if got := p.RoutineCallee(n[0], n[1]); got != routine {
					t.Errorf("RoutineCallee(%s, %s) = %v, computed %v", n[0], n[1], got, routine)
				}
				if got := p.InertResult(n[0], n[1]); got != inert {
					t.Errorf("InertResult(%s, %s) = %v, computed %v", n[0], n[1], got, inert)
				}
			}
		}
	}
	if c := deny.ClassifyGlobal("collections", "OrderedDict"); c != Dangerous {
		t.Errorf("denied global classified %s", c)
	}
}

// TestClassCacheBounded checks that distinct names stop being cached at
// the bound and are still classified.
func TestClassCacheBounded(t *testing.T) {
	p := Default()
	for i := range classCacheMax + 100 {
		p.ClassifyGlobal("modelgate_test", fmt.Sprint("f", i))
	}
	if n := len(p.classes.m); n != classCacheMax {
		t.Errorf("cache holds %d entries, want the bound %d", n, classCacheMax)
	}
	if c := p.ClassifyGlobal("os", "system"); c != Dangerous {
		t.Errorf("os.system past the bound classified %s", c)
	}
}
