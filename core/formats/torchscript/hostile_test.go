package torchscript

import (
	"runtime"
	"strings"
	"testing"
)

// TestLexLongDottedChain: a dotted name of many components costs memory
// linear in its length (it was rebuilt per component).
func TestLexLongDottedChain(t *testing.T) {
	cases := []struct {
		name, src string
		want      int // length of the first reference's name
	}{
		{"200000 components", "x" + strings.Repeat(".a", 200000) + "\n", 1 + 2*200000},
		{"spaced components", "torch . nn . Module\n", len("torch.nn.Module")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			refs, _ := lex([]byte(tc.src))
			runtime.ReadMemStats(&after)
			if len(refs) == 0 || len(refs[0].name) != tc.want {
				t.Fatalf("refs %d, want a first name of %d bytes", len(refs), tc.want)
			}
			if d := after.TotalAlloc - before.TotalAlloc; d > 16*uint64(len(tc.src))+(1<<20) {
				t.Errorf("allocated %d MiB lexing %d KiB", d>>20, len(tc.src)>>10)
			}
		})
	}
}
