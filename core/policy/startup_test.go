package policy

import (
	"testing"
	"time"
)

// TestBuiltinListsAreCopies holds builtinLists to its contract: the
// harvest is parsed once, and a policy that changes its lists (allow or
// deny globals) changes no other policy's.
func TestBuiltinListsAreCopies(t *testing.T) {
	safe, call := builtinLists()
	if len(safe) < 1000 || len(call) == 0 {
		t.Fatalf("built-in lists look empty: %d safe, %d needs-call", len(safe), len(call))
	}
	const probe = "modelgate_test_module.not_a_real_global"
	safe[probe] = true
	for k := range call {
		delete(call, k)
	}
	again, callAgain := builtinLists()
	if again[probe] {
		t.Error("a change to one policy's safe list leaked into the next")
	}
	if len(callAgain) == 0 {
		t.Error("a change to one policy's needs-call list leaked into the next")
	}
}

// BenchmarkNewPolicy measures building the default policy, which every
// CLI run and every hook invocation does at start-up.
func BenchmarkNewPolicy(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(Config{}, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
