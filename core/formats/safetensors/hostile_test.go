package safetensors

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tinyEntries is a header object of n entries of a few bytes each.
func tinyEntries(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"` + strconv.FormatInt(int64(i), 36) + `":0`)
	}
	return b.String() + "}"
}

// TestHostileHeader: headers built to cost far more than their size (a
// number of millions of digits, which big.Int parses in quadratic time; an
// array of millions of elements) give a problem quickly and cheaply.
func TestHostileHeader(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"number of 16M digits", file(`{"w":{"dtype":"F32","shape":[`+strings.Repeat("9", 16<<20)+`],"data_offsets":[0,8]}}`, nil, -1), "non-negative"},
		{"2M tiny entries", file(tinyEntries(2<<20), nil, -1), "more than 1048576 entries"},
		{"array of 8M elements", file(`{"w":{"dtype":"F32","shape":[`+strings.Repeat("0,", 8<<20)+`0],"data_offsets":[0,0]}}`, nil, -1), "elements"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			done := make(chan *Header, 1)
			go func() { done <- Parse(bytes.NewReader(tc.data), int64(len(tc.data))) }()
			var h *Header
			select {
			case h = <-done:
			case <-ctx.Done():
				t.Fatal("Parse did not return within a minute")
			}
			runtime.ReadMemStats(&after)
			// Linear: the header is read once and decoded a few times.
			if d := after.TotalAlloc - before.TotalAlloc; d > 32*uint64(len(tc.data))+(64<<20) {
				t.Errorf("allocated %d MiB for a %d MiB file", d>>20, len(tc.data)>>20)
			}
			var msgs []string
			for _, p := range h.Problems {
				msgs = append(msgs, p.Msg)
			}
			if all := strings.Join(msgs, "; "); !strings.Contains(all, tc.want) {
				t.Errorf("want %q among problems, got %q", tc.want, all)
			}
		})
	}
}
