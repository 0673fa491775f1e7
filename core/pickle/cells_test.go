package pickle

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
)

// budgetDetail returns the EvBudget event's detail, if any.
func budgetDetail(tr *Trace) string {
	for _, e := range tr.Events {
		if e.Kind == EvBudget {
			return e.Detail
		}
	}
	return ""
}

// TestHeldValuesAreBounded: kept calls given tuples of empty lists hold
// about 60 bytes of VM memory per byte of input, below every other bound
// (a 7 MB file of them held 900 MB). The VM stops where it holds maxCells
// and says so; the same input completes under the default, and a pickle
// that holds little at once (records appended to a list, recycled past its
// kept items) completes under a budget far below what it allocates in all.
func TestHeldValuesAreBounded(t *testing.T) {
	held := "\x80\x02cbuiltins\nlen\nq\x00" + strings.Repeat("h\x00("+strings.Repeat("]", 60)+"tR0", 5000) + "N."
	recycled := "\x80\x02]q\x00" + strings.Repeat("}(K\x01K\x02K\x03K\x04ua", 20000) + "."
	cases := []struct {
		name, data string
		maxCells   int64
		stops      bool
	}{
		{"held, low budget", held, 1 << 16, true},
		{"held, default budget", held, 0, false},
		{"recycled, low budget", recycled, 1 << 14, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, err := Run(context.Background(), strings.NewReader(c.data), 0, int64(len(c.data)), Options{maxCells: c.maxCells})
			if err != nil {
				t.Fatal(err)
			}
			detail := budgetDetail(tr)
			if stopped := strings.Contains(detail, "holds its most values"); stopped != c.stops || tr.Complete == c.stops {
				t.Fatalf("budget event %q, complete %v, opcodes %d; want stopped=%v", detail, tr.Complete, tr.Opcodes, c.stops)
			}
			if c.stops && tr.Opcodes > 2<<16 {
				t.Fatalf("stopped after %d opcodes; the budget is checked every 65,536", tr.Opcodes)
			}
		})
	}
}

// TestLongPayloadsKeepAPrefixPastHalfTheBudget: once the VM holds half of
// maxCells, a long string keeps longCutPrefix bytes, its length and its
// offset (for re-reading), so the bytes it holds follow the number of
// values rather than their size.
func TestLongPayloadsKeepAPrefixPastHalfTheBudget(t *testing.T) {
	const n, size = 30, 10000
	var b strings.Builder
	b.WriteString("\x80\x02cbuiltins\nprint\n(")
	offs := make([]int64, n)
	for i := range n {
		s := strings.Repeat(string(rune('a'+i%26)), size)
		var l [4]byte
		binary.LittleEndian.PutUint32(l[:], size)
		b.WriteString("X" + string(l[:]))
		offs[i] = int64(b.Len())
		b.WriteString(s)
	}
	b.WriteString("tR.")
	data := b.String()
	tr, err := Run(context.Background(), strings.NewReader(data), 0, int64(len(data)), Options{maxCells: 1 << 12})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Calls) != 1 || len(tr.Calls[0].Args) != n {
		t.Fatalf("calls %d; want one call of %d arguments", len(tr.Calls), n)
	}
	cut := 0
	for i, a := range tr.Calls[0].Args {
		o := a.O
		if o.Len != size || o.Off != offs[i] || !strings.HasPrefix(strings.Repeat(string(rune('a'+i%26)), size), o.S) {
			t.Fatalf("argument %d: %d of %d bytes at offset %d; want a prefix of the %d-byte payload at %d", i, len(o.S), o.Len, o.Off, size, offs[i])
		}
		switch len(o.S) {
		case size:
			if cut > 0 {
				t.Fatalf("argument %d kept whole after %d were cut", i, cut)
			}
		case longCutPrefix:
			cut++
		default:
			t.Fatalf("argument %d kept %d bytes; want all %d or %d", i, len(o.S), size, longCutPrefix)
		}
	}
	if cut == 0 || cut == n {
		t.Fatalf("%d of %d arguments cut; want the first kept whole and the rest cut", cut, n)
	}
}
