package mlflow

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseMLmodel: hostile MLmodel files end in a parsed model or an
// error, within the parser's bounds, never a panic or a hang. Seeds are
// testdata/*.yaml plus the fixtures' MLmodel files.
func FuzzParseMLmodel(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	more, _ := filepath.Glob("../../../test/fixtures/*/modeldirs/*/MLmodel")
	for _, s := range append(seeds, more...) {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMLmodel(data)
		if err == nil && m == nil {
			t.Fatal("nil model without an error")
		}
	})
}
