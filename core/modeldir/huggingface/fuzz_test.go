package huggingface

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseIndex: hostile weight-map indexes end in an index or an error,
// never a panic; every shard counted has at least one tensor.
func FuzzParseIndex(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.json")
	more, _ := filepath.Glob("../../../test/fixtures/*/modeldirs/*/*.index.json")
	for _, s := range append(seeds, more...) {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := ParseIndex(data)
		if err != nil {
			return
		}
		for _, s := range ix.Shards {
			if ix.Tensors[s] < 1 {
				t.Fatalf("shard %q with no tensors", s)
			}
		}
	})
}
