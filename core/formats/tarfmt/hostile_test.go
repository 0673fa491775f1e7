package tarfmt_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/engine/enginetest"
)

// gnuSparse is a one-member GNU tar whose sparse member stores no data
// and declares realSize bytes of holes.
func gnuSparse(realSize int64) []byte {
	h := make([]byte, 512)
	copy(h, "holes.bin")
	copy(h[100:], "0000644\x00")
	copy(h[108:], "0000000\x00")
	copy(h[116:], "0000000\x00")
	copy(h[124:], "00000000000\x00") // stored size
	copy(h[136:], "00000000000\x00")
	h[156] = 'S'
	copy(h[257:], "ustar  \x00")
	copy(h[483:], fmt.Sprintf("%011o\x00", realSize))
	copy(h[148:], "        ")
	sum := 0
	for _, c := range h {
		sum += int(c)
	}
	copy(h[148:], fmt.Sprintf("%06o\x00 ", sum))
	return append(h, make([]byte, 1024)...)
}

// TestSparseBomb: a sparse member's declared size costs the decompression
// ratio limit like any other expansion, instead of being trusted as the
// stored size.
func TestSparseBomb(t *testing.T) {
	cases := []struct {
		name     string
		realSize int64
		want     string
	}{
		{"64 MiB of holes from 1.5 KiB", 64 << 20, "MG203"},
		{"1 KiB of holes", 1 << 10, ""},
	}
	eng := newEngine(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := enginetest.ScanBytes(eng, "sparse.tar", gnuSparse(tc.realSize))
			f, _ := ruleIDs(res)
			if tc.want == "" && f != "" || !strings.Contains(f, tc.want) {
				t.Fatalf("findings %q, want %q", f, tc.want)
			}
		})
	}
}
