package list

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/policy"
)

// FuzzScan runs the whole engine (content sniffing and every registered
// format, recursing through containers) over arbitrary bytes. Formats turn
// panics into "internal error" notes, so the target fails on those rather
// than relying on a crash. Seeds live in testdata/fuzz/FuzzScan: the small
// real fixtures of every format, copied there by test/fuzz_seeds.py.
func FuzzScan(f *testing.F) {
	f.Add([]byte("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06system\x93."))
	f.Add([]byte("cposix\nsystem\n(S'id'\ntR."))
	pol := policy.Default()
	eng, err := engine.New(engine.Options{Formats: Default(), Policy: pol, Jobs: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		res := eng.ScanReaderAt(ctx, "fuzz.bin", bytes.NewReader(data), int64(len(data)))
		// Inputs are at most a few KiB; seconds mean a parser is looping.
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("scan of %d bytes took %s", len(data), d)
		}
		for _, u := range res.Unscanned {
			if strings.Contains(u.Reason, "panic") {
				t.Fatalf("parser panic: %s", u.Reason)
			}
			if strings.Contains(u.Reason, "file_timeout") {
				t.Fatalf("scan of %d bytes hit the time limit", len(data))
			}
		}
	})
}
