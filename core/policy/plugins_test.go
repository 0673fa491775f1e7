package policy

import (
	"strings"
	"testing"
	"time"
)

func TestPluginsList(t *testing.T) {
	sum := strings.Repeat("0a", 32)
	good := "plugins:\n  - path: bin/tflite\n    sha256: " + sum + "\n    call_timeout: 5s\n    time_budget: 2m\n    memory_bytes: 1073741824\n"
	p, err := Parse([]byte(good), "p.yaml", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got := p.Plugins()
	if len(got) != 1 || got[0].Path != "bin/tflite" || got[0].SHA256 != sum || got[0].CallTimeout != 5*time.Second ||
		got[0].TimeBudget != 2*time.Minute || got[0].MemoryBytes != 1<<30 {
		t.Errorf("plugins %+v", got)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"plugins:\n  - path: x\n", "sha256 is required"},
		{"plugins:\n  - sha256: " + sum + "\n", "a path is required"},
		{"plugins:\n  - path: x\n    sha256: abc\n", "not 64 hex digits"},
		{"plugins:\n  - path: x\n    sha256: " + sum + "\n  - path: x\n    sha256: " + sum + "\n", "listed twice"},
		{"plugins:\n  - path: x\n    sha256: " + sum + "\n    call_timeout: -1s\n", "must not be negative"},
		{"plugins:\n  - path: x\n    sha256: " + sum + "\n    checksum: y\n", "checksum"},
	} {
		if _, err := Parse([]byte(tc.yaml), "p.yaml", time.Now()); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
