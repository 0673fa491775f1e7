package pickle

import "testing"

func TestInlineRoundTrip(t *testing.T) {
	for n := 0; n <= maxInlineStr; n++ {
		b := []byte("abcdefghijklmnop"[:n])
		v := inlineStr(KStr, b)
		if got := v.Str(); got != string(b) {
			t.Fatalf("%d: %q", n, got)
		}
		if !v.IsStr() {
			t.Fatal(n)
		}
		if m := materialize(v); m.O == nil || m.O.S != string(b) || m.O.Len != int64(n) {
			t.Fatal(n)
		}
	}
}
