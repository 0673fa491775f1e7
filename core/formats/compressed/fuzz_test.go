package compressed

import (
	"strings"
	"testing"
)

// FuzzDecompress runs arbitrary bytes through every decompressor and the
// engine's bomb limits: no panic, and every input ends scanned, skipped or
// not scanned. Seeds: testdata/fuzz/FuzzDecompress (python3
// test/fuzz_seeds.py writes them from the compressed fixtures) and the
// streams below.
func FuzzDecompress(f *testing.F) {
	payload := []byte("EVIL payload " + strings.Repeat("abc", 50))
	for _, kind := range []string{"gzip", "zlib", "zstd", "xz", "lzma", "lz4", "bzip2"} {
		f.Add(compress(f, kind, payload))
	}
	f.Add(zfile(f, payload, false))
	f.Fuzz(func(t *testing.T, data []byte) {
		res := scanBytes(t, data)
		for _, u := range res.Unscanned {
			if strings.Contains(u.Reason, "panic") {
				t.Fatalf("%d bytes: %s", len(data), u.Reason)
			}
		}
	})
}
