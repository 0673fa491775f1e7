package limits

import (
	"math"
	"testing"
)

func TestImpossible(t *testing.T) {
	cases := []struct {
		name      string
		need      float64
		remaining int64
		want      bool
	}{
		{"truncated download: needs twice what is left", 2 << 30, 1 << 30, false},
		{"small file, needs far more but under the floor", 1 << 31, 100, false},
		{"2^64 entries in 105 bytes", math.Pow(2, 64), 105, true},
		{"needs just over the factor and floor", 65536*(1<<20) + 1, 1 << 20, true},
		{"needs exactly the factor", 65536 * (1 << 20), 1 << 20, false},
		{"large file: 5 GiB declared, 4 GiB left", 5 << 30, 4 << 30, false},
		{"nothing left", 1<<32 + 1, 0, true},
		{"negative remaining counts as nothing", 1<<32 + 1, -5, true},
	}
	for _, tc := range cases {
		if got := Impossible(tc.need, tc.remaining); got != tc.want {
			t.Errorf("%s: Impossible(%g, %d) = %v, want %v", tc.name, tc.need, tc.remaining, got, tc.want)
		}
	}
}
