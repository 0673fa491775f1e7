package pickle

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

// recordsPickle writes what pickle.dumps(records, protocol=4) writes for
// n records shaped like the benchmark's (a dict of an int, a datetime, a
// Decimal, a tuple and a string each), batched by APPENDS in thousands:
// the shape whose objects the VM recycles.
func recordsPickle(n int) []byte {
	var b bytes.Buffer
	memo := 0
	put := func() { b.WriteByte(0x94); memo++ }
	str := func(s string) { b.WriteByte(0x8c); b.WriteByte(byte(len(s))); b.WriteString(s); put() }
	keys := map[string]int{}
	key := func(k string) {
		if i, ok := keys[k]; ok {
			b.WriteByte('h')
			b.WriteByte(byte(i))
			return
		}
		keys[k] = memo
		str(k)
	}
	var globals = map[string]int{}
	global := func(mod, name string) {
		if i, ok := globals[mod+"."+name]; ok {
			b.WriteByte('h')
			b.WriteByte(byte(i))
			return
		}
		str(mod)
		str(name)
		b.WriteByte(0x93)
		globals[mod+"."+name] = memo
		put()
	}
	b.WriteString("\x80\x04]")
	put()
	for i := 0; i < n; i++ {
		if i%1000 == 0 {
			b.WriteByte('(')
		}
		b.WriteByte('}')
		put()
		b.WriteByte('(')
		key("id")
		b.WriteByte('J')
		_ = binary.Write(&b, binary.LittleEndian, int32(i))
		key("ts")
		global("datetime", "datetime")
		b.WriteString("C\x0a\x07\xe8\x01\x01\x00\x00")
		_ = binary.Write(&b, binary.LittleEndian, int32(i))
		put()
		b.WriteByte(0x85)
		put()
		b.WriteByte('R')
		put()
		key("amount")
		global("decimal", "Decimal")
		str(fmt.Sprintf("%d.%02d", i%10000, i%100))
		b.WriteByte(0x85)
		put()
		b.WriteByte('R')
		put()
		key("pair")
		b.WriteString("K\x03")
		str(fmt.Sprintf("k%d", i%13))
		b.WriteByte(0x86)
		put()
		key("name")
		str(fmt.Sprintf("user%d", i))
		b.WriteByte('u')
		if i%1000 == 999 || i == n-1 {
			b.WriteByte('e')
		}
	}
	b.WriteByte('.')
	return b.Bytes()
}

// TestRecyclingTracesTheSame: recycling objects and keeping short strings
// in values is invisible in the trace: every input traces exactly as it
// does with both off, in each memo mode (keeping only read entries leaves
// the most objects unshared, so recycled).
func TestRecyclingTracesTheSame(t *testing.T) {
	defer func(old int) { recycle, liveMemoMinEntries = true, old }(liveMemoMinEntries)
	liveMemoMinEntries = 64
	inputs := pickleInputs(t)
	inputs["records"] = recordsPickle(5000)
	for name, data := range inputs {
		for _, memo := range []LiveMemo{LiveMemoAuto, LiveMemoAlways, LiveMemoNever} {
			opts := Options{Memo: memo, Routine: func(mod, name string) bool { return mod == "datetime" || mod == "decimal" }}
			recycle = true
			with := traceWith(t, data, opts)
			recycle = false
			without := traceWith(t, data, opts)
			if with != without {
				t.Errorf("%s (memo mode %d): recycling changes the trace:\n%s\nwithout:\n%s", name, memo, with, without)
			}
		}
	}
}

// TestRecordsRecycle: past the first records (held until the memo
// switches to keeping only read entries), an object-heavy pickle reuses
// its objects instead of allocating about ten per record.
func TestRecordsRecycle(t *testing.T) {
	routine := func(string, string) bool { return true }
	allocs := func(n int) float64 {
		data := recordsPickle(n)
		tr, err := Run(t.Context(), bytes.NewReader(data), 0, int64(len(data)), Options{Routine: routine})
		if err != nil {
			t.Fatal(err)
		}
		if !tr.Complete || len(tr.Results) != 1 || tr.Results[0].O.Len != int64(n) || tr.Routine != int64(2*n) {
			t.Fatalf("trace: %s", render(tr))
		}
		return testing.AllocsPerRun(3, func() {
			if _, err := Run(t.Context(), bytes.NewReader(data), 0, int64(len(data)), Options{Routine: routine}); err != nil {
				t.Fatal(err)
			}
		})
	}
	a, b := allocs(20000), allocs(40000)
	t.Logf("%.0f allocations for 20000 records, %.0f for 40000", a, b)
	if b-a > 2000 {
		t.Errorf("%.0f allocations for 20000 records, %.0f for 40000: %.2f per record", a, b, (b-a)/20000)
	}
}

// exposedOnly reports a value reachable from the trace that still keeps
// its string in itself: callers read every string as an Object.
func exposedOnly(tr *Trace) error {
	seen := map[*Object]bool{}
	var walk func(v Value, path string) error
	walk = func(v Value, path string) error {
		if v.O == nil {
			if v.lx != 0 {
				return fmt.Errorf("%s: %s kept in the value", path, v)
			}
			return nil
		}
		if seen[v.O] {
			return nil
		}
		seen[v.O] = true
		if !v.O.exposed && v.O.pool != poolNone {
			return fmt.Errorf("%s: %s not marked exposed", path, v)
		}
		for _, it := range v.O.Items {
			if err := walk(it, path); err != nil {
				return err
			}
		}
		if c := v.O.Call; c != nil {
			if err := walkCall(c, path, walk); err != nil {
				return err
			}
		}
		if v.O.PID != nil {
			return walk(*v.O.PID, path+".pid")
		}
		return nil
	}
	for i, c := range tr.Calls {
		if err := walkCall(c, fmt.Sprintf("call %d", i), walk); err != nil {
			return err
		}
	}
	for i, e := range tr.Events {
		if err := walk(e.Target, fmt.Sprintf("event %d target", i)); err != nil {
			return err
		}
		if err := walk(e.Arg, fmt.Sprintf("event %d arg", i)); err != nil {
			return err
		}
	}
	for i, r := range tr.Results {
		if err := walk(r, fmt.Sprintf("result %d", i)); err != nil {
			return err
		}
	}
	return nil
}

func walkCall(c *Call, path string, walk func(Value, string) error) error {
	if err := walk(c.Callee, path+".callee"); err != nil {
		return err
	}
	for _, a := range c.Args {
		if err := walk(a, path+".args"); err != nil {
			return err
		}
	}
	if c.Kwargs != nil {
		return walk(*c.Kwargs, path+".kwargs")
	}
	return nil
}

// TestTraceExposesWholeValues: whatever the input, nothing the trace holds
// keeps a string in the value itself.
func TestTraceExposesWholeValues(t *testing.T) {
	inputs := pickleInputs(t)
	inputs["records"] = recordsPickle(3000)
	for name, data := range inputs {
		for _, memo := range []LiveMemo{LiveMemoAuto, LiveMemoAlways} {
			tr, err := Run(t.Context(), bytes.NewReader(data), 0, int64(len(data)), Options{Memo: memo})
			if err != nil {
				t.Fatal(err)
			}
			if err := exposedOnly(tr); err != nil {
				t.Errorf("%s (memo mode %d): %v", name, memo, err)
			}
		}
	}
}
