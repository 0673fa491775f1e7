package keras

import (
	"runtime"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/policy"
)

// TestLongPathsBounded: the walk copies each parent's path into every
// child's; a chain of long keys above many small children must not cost
// their product.
func TestLongPathsBounded(t *testing.T) {
	long := strings.Repeat("k", 64<<10)
	children := strings.TrimSuffix(strings.Repeat(`1,`, 20000), ",")
	cases := []struct {
		name, config string
	}{
		{"long keys above a long list", strings.Repeat(`{"`+long+`": `, 8) + "[" + children + "]" + strings.Repeat("}", 8)},
		{"short keys", `{"a": {"b": [` + children + `]}}`},
	}
	pol := policy.Default()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := ParseJSON([]byte(tc.config))
			if err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			Check(doc, pol.Classify)
			runtime.ReadMemStats(&after)
			if d := after.TotalAlloc - before.TotalAlloc; d > 16*uint64(len(tc.config))+(16<<20) {
				t.Errorf("allocated %d MiB walking a %d KiB config", d>>20, len(tc.config)>>10)
			}
		})
	}
}
