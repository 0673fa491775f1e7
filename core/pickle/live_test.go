package pickle

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// render writes everything a trace says, so two traces can be compared.
func render(tr *Trace) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pickles=%d complete=%v opcodes=%d end=%d routine=%d\n", tr.Pickles, tr.Complete, tr.Opcodes, tr.End, tr.Routine)
	for _, g := range tr.Globals {
		fmt.Fprintf(&b, "G %s %s %d %s %d\n", g.Module, g.Name, g.Offset, g.Op, g.Pickle)
	}
	for _, c := range tr.Calls {
		kw := ""
		if c.Kwargs != nil {
			kw = c.Kwargs.String()
		}
		fmt.Fprintf(&b, "C %s %v %s %d %d %v %v %s\n", c.Callee, c.Args, c.Op, c.Offset, c.Pickle, c.ArgsKnown, c.Used, kw)
	}
	for _, e := range tr.Events {
		fmt.Fprintf(&b, "E %s %d %d %q %s %s\n", e.Kind, e.Offset, e.Pickle, e.Detail, e.Target, e.Arg)
	}
	for _, r := range tr.Results {
		fmt.Fprintf(&b, "R %s\n", r)
	}
	return b.String()
}

func traceWith(t *testing.T, data []byte, opts Options) string {
	t.Helper()
	tr, err := Run(context.Background(), bytes.NewReader(data), 0, int64(len(data)), opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return render(tr)
}

// pickleInputs are the repository's real pickles (fixtures made by real
// libraries and the fuzz corpus) plus deterministic mutants of each.
func pickleInputs(t *testing.T) map[string][]byte {
	t.Helper()
	in := map[string][]byte{}
	for _, root := range []string{"../../test/fixtures", "testdata"} {
		_ = filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err != nil || !fi.Mode().IsRegular() || fi.Size() > 4<<20 || strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".json") {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			if len(data) > 0 && data[0] == 0x80 || strings.Contains(p, "fuzz") {
				in[p] = data
			}
			return nil
		})
	}
	if len(in) < 20 {
		t.Fatalf("found only %d pickle inputs; fixtures missing?", len(in))
	}
	rng := rand.New(rand.NewSource(7))
	for p, data := range in {
		if len(data) == 0 || strings.Contains(p, "fuzz") {
			continue
		}
		for k := 0; k < 3; k++ {
			m := append([]byte(nil), data...)
			for n := 0; n < 1+rng.Intn(3); n++ {
				m[rng.Intn(len(m))] = byte(rng.Intn(256))
			}
			in[fmt.Sprintf("%s#mut%d", p, k)] = m
		}
	}
	return in
}

// TestLiveMemoTracesLikeExact: keeping only the memo entries that some GET
// reads must not change anything the trace says, in any frame view.
func TestLiveMemoTracesLikeExact(t *testing.T) {
	// LiveMemoAuto switches once the memo holds this many values: here
	// mid-way through most fixtures, so entries held before the switch
	// are pruned.
	defer func(n int) { liveMemoMinEntries = n }(liveMemoMinEntries)
	liveMemoMinEntries = 3
	n := 0
	for name, data := range pickleInputs(t) {
		for _, view := range []FrameView{FramesBoth, FramesBuffered} {
			exact := traceWith(t, data, Options{Frames: view, Memo: LiveMemoNever})
			for _, mode := range []LiveMemo{LiveMemoAlways, LiveMemoAuto} {
				live := traceWith(t, data, Options{Frames: view, Memo: mode})
				if exact != live {
					t.Errorf("%s (view %d, mode %d): traces differ\nexact:\n%s\nlive:\n%s", name, view, mode, exact, live)
				}
			}
			n++
		}
	}
	t.Logf("%d traces compared", n)
}

// TestLiveMemoReplaysWhenPreScanMisses: a hook that consumes raw bytes
// hides a GET from the pre-scan (here the raw bytes "U\x02" make it read
// the BINGET as a string payload). The VM must notice the dropped entry,
// trace again keeping everything, and tell the hook it is a replay.
func TestLiveMemoReplaysWhenPreScanMisses(t *testing.T) {
	data := []byte("\x80\x02]q\x00Nb" + "U\x02" + "h\x00\x86.")
	var calls []bool
	hook := func(target, state Value, s *Stream) error {
		calls = append(calls, s.Replayed())
		return s.Skip(2)
	}
	live := traceWith(t, data, Options{Memo: LiveMemoAlways, OnBuild: hook})
	if fmt.Sprint(calls) != "[false true]" {
		t.Errorf("hook saw replayed=%v, want [false true]", calls)
	}
	calls = nil
	exact := traceWith(t, data, Options{Memo: LiveMemoNever, OnBuild: hook})
	if live != exact {
		t.Errorf("replayed trace differs from exact:\n%s\n%s", live, exact)
	}
	if !strings.Contains(live, "R ([], [])") {
		t.Errorf("GET of the dropped list was not followed:\n%s", live)
	}
}

// TestLiveMemoDropsUnreadEntries shows the point of the mode: a pickle that
// memoizes a hundred thousand values and reads two keeps two.
func TestLiveMemoDropsUnreadEntries(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("\x80\x04]\x94(\x8c\x01k\x94")
	for i := 0; i < 100000; i++ {
		b.WriteString("\x8c\x03abc\x94h\x01\x86\x94")
	}
	b.WriteString("e.")
	data := b.Bytes()
	live := set(readIndicesOK(t, data))
	if live != "[1]" {
		t.Fatalf("pre-scan read indices %s, want [1]", live)
	}
	for _, auto := range []bool{false, true} {
		m := &machine{rd: newReader(bytes.NewReader(data), 0, int64(len(data))), tr: &Trace{}, ctx: context.Background(),
			opts: Options{Limits: Limits{MaxOpcodes: 1 << 40, MaxStack: 1 << 20, MaxMemo: 1 << 20}}, replayedTo: -1,
			src: bytes.NewReader(data), mayGoLive: auto, maxCells: maxCells}
		if !auto {
			m.live, _ = readIndices(bytes.NewReader(data), 0, int64(len(data)), 0)
			m.liveEnd = m.live.end()
		}
		if err := m.run(); err != nil {
			t.Fatal(err)
		}
		// Auto mode holds everything until liveMemoMinEntries, then prunes.
		if m.memo.n != 1 || m.memoLen != 200002 || m.live == nil {
			t.Errorf("auto=%v: kept %d of %d memo entries, want 1 of 200002", auto, m.memo.n, m.memoLen)
		}
		if len(m.tr.Events) != 0 || !m.tr.Complete {
			t.Errorf("auto=%v: trace: %s", auto, render(m.tr))
		}
	}
}

func readIndicesOK(t *testing.T, data []byte) *indexSet {
	t.Helper()
	s, ok := readIndices(bytes.NewReader(data), 0, int64(len(data)), 0)
	if !ok {
		t.Fatal("pre-scan did not reach the end")
	}
	return s
}

func set(s *indexSet) string {
	var out []uint64
	for i := uint64(0); i < s.seq; i++ {
		out = append(out, i)
	}
	for w, b := range s.bits {
		for j := 0; j < 64; j++ {
			if b&(1<<j) != 0 {
				out = append(out, uint64(w*64+j))
			}
		}
	}
	for i := range s.sparse {
		out = append(out, i)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return fmt.Sprint(out)
}

// TestFastWalkFindsWhatCarefulWalkFinds: the in-buffer walk of the
// pre-scan is an optimisation of the careful loop and must agree with it.
func TestFastWalkFindsWhatCarefulWalkFinds(t *testing.T) {
	defer func() { fastWalk = true }()
	for name, data := range pickleInputs(t) {
		fastWalk = true
		fast, fok := readIndices(bytes.NewReader(data), 0, int64(len(data)), 0)
		fastWalk = false
		slow, sok := readIndices(bytes.NewReader(data), 0, int64(len(data)), 0)
		if fok != sok || set(fast) != set(slow) {
			t.Errorf("%s: fast walk %v %s, careful walk %v %s", name, fok, set(fast), sok, set(slow))
		}
	}
}
