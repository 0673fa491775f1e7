package test

import (
	"bytes"
	"context"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/finding"
)

// TestHostileVariants feeds every prefix (sampled for large files) and
// bit-flipped variants of every fixture through the whole engine and
// asserts that no parser panics; the engine turns panics into
// "internal error (panic)" notes, which this test looks for.
func TestHostileVariants(t *testing.T) {
	if testing.Short() {
		t.Skip("long robustness sweep")
	}
	eng := newEngine(t)
	ctx := context.Background()
	rng := rand.New(rand.NewSource(7))
	variants := 0
	check := func(name string, data []byte) {
		variants++
		res := eng.ScanReaderAt(ctx, name, bytes.NewReader(data), int64(len(data)))
		for _, u := range res.Unscanned {
			if strings.Contains(u.Reason, "panic") {
				t.Fatalf("%s (%d bytes): %s", name, len(data), u.Reason)
			}
		}
		_ = finding.SeverityNone
	}
	for _, fx := range loadManifest(t) {
		data, err := os.ReadFile(filepath.Join("fixtures", fx.File))
		if err != nil {
			t.Fatal(err)
		}
		step, flips := 1, 32
		if len(data) > 4096 {
			step = len(data) / 256
		}
		if strings.HasPrefix(fx.File, "benign/corpus/") {
			// The broad benign corpus (hundreds of files) goes through the
			// same parsers as the fixtures above; a lighter sweep keeps the
			// test within go test's default timeout.
			step, flips = max(1, len(data)/16), 4
		}
		if strings.HasPrefix(fx.File, "malicious/padding/") {
			// A few KB of gzip that inflate to megabytes of pickle: a
			// prefix at every byte traced them thousands of times (three
			// quarters of this package's test time) for the same parser
			// states.
			step, flips = max(1, len(data)/64), 4
		}
		for n := 0; n < len(data); n += step {
			check(fx.File+"[:prefix]", data[:n])
		}
		for k := 0; k < flips; k++ {
			m := append([]byte(nil), data...)
			if len(m) == 0 {
				break
			}
			for f := 0; f < 1+rng.Intn(4); f++ {
				i := rng.Intn(len(m))
				m[i] ^= 1 << uint(rng.Intn(8))
			}
			check(fx.File+"[bitflip]", m)
		}
	}
	t.Logf("%d hostile variants scanned without a panic", variants)
}
