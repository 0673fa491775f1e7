package spool

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestReadAtBounds: a parser that computes an offset from hostile sizes gets
// an error from the spool, never a slice panic, in memory and on disk alike.
func TestReadAtBounds(t *testing.T) {
	data := "0123456789"
	for _, mem := range []int64{0, 4} {
		sp, err := Copy(context.Background(), strings.NewReader(data), Options{MemBytes: mem, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		defer sp.Close()
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
			n, err := sp.ReadAt(make([]byte, 4), tc.off)
			if n != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("mem %d: ReadAt(%d) = %d, %v; want %d bytes, error %v", mem, tc.off, n, err, tc.want, tc.wantErr)
			}
		}
	}
}

func TestCopyLimits(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 100)
	cases := []struct {
		name      string
		mem, max  int64
		wantSize  int64
		truncated bool
	}{
		{"memory, no limit", 0, 0, 100, false},
		{"memory, limit", 0, 10, 10, true},
		{"disk, no limit", 16, 0, 100, false},
		{"disk, limit", 16, 50, 50, true},
		{"exact limit", 0, 100, 100, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sp, err := Copy(context.Background(), bytes.NewReader(big), Options{MemBytes: tc.mem, MaxBytes: tc.max, TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer sp.Close()
			if sp.Size() != tc.wantSize || sp.Truncated != tc.truncated {
				t.Fatalf("size %d truncated %v, want %d %v", sp.Size(), sp.Truncated, tc.wantSize, tc.truncated)
			}
			got, _ := io.ReadAll(io.NewSectionReader(sp, 0, sp.Size()))
			if !bytes.Equal(got, big[:tc.wantSize]) {
				t.Fatal("content differs")
			}
		})
	}
}
