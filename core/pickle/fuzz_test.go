package pickle

import (
	"context"
	"io"
	"strings"
	"testing"
)

var bytesEOF = io.EOF

// FuzzRun feeds arbitrary bytes to the VM: it must never panic, hang or
// allocate without bound.
func FuzzRun(f *testing.F) {
	for _, s := range []string{
		"cos\nsystem\n(S'echo hi'\ntR.",
		"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x94h\x00h\x01\x93\x8c\x02id\x85R.",
		"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01K\x01X\x01\x00\x00\x00bq\x02]q\x03(K\x02G?\xf0\x00\x00\x00\x00\x00\x00eu.",
		"\x80\x05\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x8c\x03set\x93)R.",
		"(lp0\nI1\naI2\na(dp1\nS'k'\nV\\u1234\nsa.",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := Options{Limits: Limits{MaxOpcodes: 1 << 20, MaxStack: 1 << 16, MaxMemo: 1 << 16}, Memo: LiveMemo(len(data) % 3)} // every memo mode
		if len(data)%5 < 3 {
			// Routine calls and inert instances as a policy might name
			// them (the recycling of what they are given is checked below).
			opts.Routine = func(module, name string) bool { return module == "collections" || strings.HasPrefix(name, "R") }
			opts.Inert = func(module, name string) bool { return module == "collections" || strings.HasPrefix(name, "RI") }
		}
		reader := func() io.ReaderAt { return strings.NewReader(string(data)) }
		if len(data)%2 == 0 {
			reader = func() io.ReaderAt { return inPlace(data) } // read in place, live at 1,024 entries
		}
		tr, err := Run(context.Background(), reader(), 0, int64(len(data)), opts)
		if err != nil {
			t.Fatal(err)
		}
		// Recycling objects must not show in the trace.
		recycle = false
		plain, err := Run(context.Background(), reader(), 0, int64(len(data)), opts)
		recycle = true
		if err != nil {
			t.Fatal(err)
		}
		if a, b := render(tr), render(plain); a != b {
			t.Fatalf("recycling changes the trace:\n%s\nwithout:\n%s", a, b)
		}
		if err := exposedOnly(tr); err != nil {
			t.Fatal(err)
		}
		if tr.End > int64(len(data)) {
			t.Fatalf("consumed %d of %d bytes", tr.End, len(data))
		}
		for _, c := range tr.Calls {
			_ = Value{Kind: KCall, O: &Object{Call: c}}.String()
		}
	})
}

// inPlace is content in memory, read in place as engine.Memory is.
type inPlace []byte

func (m inPlace) Bytes() []byte { return m }

func (m inPlace) ReadAt(p []byte, off int64) (int, error) {
	return strings.NewReader(string(m)).ReadAt(p, off)
}
