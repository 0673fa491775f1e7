package pickle

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestHostileIntegerText: INT and LONG lines of a million digits each are
// checked in linear time (big.Int parsing took seconds per line, so a
// pickle of a few dozen of them ran for minutes).
func TestHostileIntegerText(t *testing.T) {
	digits := strings.Repeat("9", maxInline)
	cases := []struct{ name, op, suffix string }{
		{"INT", "I", ""},
		{"LONG", "L", "L"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			for range 48 {
				b.WriteString(c.op + digits + c.suffix + "\n0") // push, POP
			}
			b.WriteString("N.")
			data := b.String()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			tr, err := Run(ctx, strings.NewReader(data), 0, int64(len(data)), Options{})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if ctx.Err() != nil {
				t.Fatal("Run needed more than a minute")
			}
			if m := malformed(tr); m != "" {
				t.Fatalf("digits rejected: %s", m)
			}
		})
	}
}
