package engine

import (
	"io"
	"testing"
)

// TestSpoolReadAtBounds: a parser that computes an offset from hostile
// sizes gets an error from the spool, never a slice panic.
func TestSpoolReadAtBounds(t *testing.T) {
	sp := &Spool{mem: []byte("0123456789"), size: 10}
	cases := []struct {
		name    string
		off     int64
		want    int
		wantErr bool
	}{
		{"inside", 2, 4, false},
		{"tail", 8, 2, true},
		{"at end", 10, 0, true},
		{"past end", 1 << 40, 0, true},
		{"negative", -1, 0, true},
		{"most negative", -1 << 63, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := sp.ReadAt(make([]byte, 4), tc.off)
			if n != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("ReadAt(%d) = %d, %v; want %d bytes, error %v", tc.off, n, err, tc.want, tc.wantErr)
			}
			if err != nil && tc.off >= 0 && err != io.EOF {
				t.Fatalf("ReadAt(%d): %v, want io.EOF", tc.off, err)
			}
		})
	}
}
