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

// TestShortStringUTF8: a short SHORT_BINUNICODE is checked as UTF-8 on
// every path (kept in the value or not, buffered words or bytes).
func TestShortStringUTF8(t *testing.T) {
	defer func() { recycle = true }()
	for _, tc := range []struct {
		text string
		ok   bool
	}{{"é", true}, {"naïve", true}, {"12345678é", true}, {"\xff", false}, {"abcdefgh\xc3", false}, {"\xed\xa0\x80", true}} {
		for _, pad := range []string{"", strings.Repeat("N", 16)} {
			for _, rec := range []bool{true, false} {
				recycle = rec
				data := "\x80\x04\x8c" + string(rune(len(tc.text))) + tc.text + "." + pad
				tr, err := Run(context.Background(), strings.NewReader(data), 0, int64(len(data)), Options{StopAfter: 1})
				if err != nil {
					t.Fatal(err)
				}
				if got := malformed(tr) == ""; got != tc.ok {
					t.Errorf("%q (pad %d, recycle %v): accepted %v, want %v: %s", tc.text, len(pad), rec, got, tc.ok, malformed(tr))
				}
				if tc.ok && (len(tr.Results) != 1 || tr.Results[0].Str() != tc.text) {
					t.Errorf("%q: results %v", tc.text, tr.Results)
				}
			}
		}
	}
}
