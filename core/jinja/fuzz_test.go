package jinja

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzCheck: any input must finish within the limits without panicking.
func FuzzCheck(f *testing.F) {
	for _, dir := range []string{"benign", "malicious"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.jinja"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(string(b))
			}
		}
	}
	f.Add("{{ x|attr('a' ~ b)['c'][::-1] }}{% set y %}z{% endset %}{% raw %}{{{% endraw %}")
	f.Fuzz(func(t *testing.T, src string) {
		lim := Limits{MaxBytes: 1 << 16, MaxTokens: 1 << 14, MaxDepth: 100, MaxNodes: 1 << 15}
		res := Check(context.Background(), src, lim)
		for _, is := range res.Issues {
			if is.Offset < 0 || is.Offset > len(src) {
				t.Fatalf("issue offset %d outside template of %d bytes", is.Offset, len(src))
			}
		}
	})
}
