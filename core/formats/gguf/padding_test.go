package gguf

import (
	"runtime"
	"testing"
)

// zeros is an endless all-zero io.ReaderAt.
type zeros struct{}

func (zeros) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	return len(p), nil
}

// TestAllZeroChunked: the padding check reads in chunks, since the
// alignment bounding it comes from the file (up to 2 GiB).
func TestAllZeroChunked(t *testing.T) {
	cases := []struct {
		name string
		n    int64
	}{
		{"2 GiB alignment", 1 << 31},
		{"32-byte alignment", 32},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			ok := allZero(zeros{}, 0, tc.n)
			runtime.ReadMemStats(&after)
			if !ok {
				t.Fatal("zeros not recognised")
			}
			if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
				t.Errorf("allocated %d MiB", d>>20)
			}
		})
	}
}
