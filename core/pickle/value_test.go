package pickle

import (
	"context"
	"strings"
	"testing"
)

// TestInlineRoundTrip: a string kept in a value reads back, and becomes an
// object when exposed, whatever its length.
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

// TestShortDataInline: short strings read straight from the buffer hold
// the same text as those inlineStr makes, whatever their length.
func TestShortDataInline(t *testing.T) {
	for i := 0; i <= 2*40+1; i++ {
		n, pad := i/2, strings.Repeat("\xff", 20*(i%2)) // with and without bytes after the pickle
		text := strings.Repeat("xyz0123456789", 4)[:n]
		data := "\x80\x04\x8c" + string(rune(n)) + text + "\x94C" + string(rune(n)) + text + "\x86\x94." + pad
		tr, err := Run(context.Background(), strings.NewReader(data), 0, int64(len(data)), Options{StopAfter: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Results) != 1 || tr.Results[0].Kind != KTuple {
			t.Fatalf("%d: results %v", n, tr.Results)
		}
		items := tr.Results[0].O.Items
		if items[0].O == nil || items[0].O.S != text || items[0].Kind != KStr || items[1].O == nil || items[1].O.S != text || items[1].Kind != KBytes {
			t.Errorf("%d: got %v, want %q twice", n, tr.Results[0], text)
		}
	}
}
