package policy

import (
	"testing"
	"time"
)

// TestPolicyListsAreIndependent: the built-in lists are shared by every
// policy, so a policy's allow and deny globals must change its own verdicts
// and no other policy's.
func TestPolicyListsAreIndependent(t *testing.T) {
	safe, call := builtinLists()
	if len(safe) < 1000 || len(call) == 0 {
		t.Fatalf("built-in lists look empty: %d safe, %d needs-call", len(safe), len(call))
	}
	var safeName, callName string
	for k := range safe {
		safeName = k
		break
	}
	for k := range call {
		callName = k
		break
	}
	const probe = "modelgate_test_module.not_a_real_global"
	custom, err := New(Config{AllowGlobals: []string{probe, callName}, DenyGlobals: []string{safeName}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	plain := Default()
	for _, tt := range []struct {
		p    *Policy
		q    string
		want Class
	}{
		{custom, probe, Safe}, {custom, callName, Safe}, {custom, safeName, Dangerous},
		{plain, safeName, Safe}, {plain, callName, NeedsCall},
	} {
		if got := tt.p.Classify(tt.q); got != tt.want {
			t.Errorf("Classify(%s) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if plain.Classify(probe) == Safe {
		t.Error("one policy's allow_globals leaked into another")
	}
	if again, _ := builtinLists(); again[probe] || !again[safeName] {
		t.Error("a policy's allow or deny globals changed the shared built-in list")
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
