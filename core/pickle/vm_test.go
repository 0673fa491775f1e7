package pickle

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func run(t testing.TB, data string) *Trace {
	t.Helper()
	tr, err := Run(context.Background(), strings.NewReader(data), 0, int64(len(data)), Options{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return tr
}

func globalsOf(tr *Trace) []string {
	var out []string
	for _, g := range tr.Globals {
		out = append(out, g.Module+"."+g.Name)
	}
	return out
}

func malformed(tr *Trace) string {
	for _, e := range tr.Events {
		if e.Kind == EvMalformed || e.Kind == EvLimit {
			return e.Detail
		}
	}
	return ""
}

func TestRun(t *testing.T) {
	tests := []struct {
		name        string
		data        string
		wantGlobals []string
		wantCall    string // rendered first call
		wantErr     string // substring of the malformed event
		wantPickles int
	}{
		{name: "proto0_global_reduce", data: "cos\nsystem\n(S'echo hi'\ntR.",
			wantGlobals: []string{"os.system"}, wantCall: `os.system("echo hi")`, wantPickles: 1},
		{name: "proto2_reduce", data: "\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03.",
			wantGlobals: []string{"posix.system"}, wantCall: `posix.system("ls")`, wantPickles: 1},
		{name: "stack_global_from_memo", data: "\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x94h\x00h\x01\x93\x8c\x02id\x85R.",
			wantGlobals: []string{"os.system", "os.system"}, wantCall: `os.system("id")`, wantPickles: 1},
		{name: "stack_global_proto0_strings", data: "S'os'\nS'system'\n\x93(S'x'\ntR.",
			wantGlobals: []string{"os.system"}, wantCall: `os.system("x")`, wantPickles: 1},
		{name: "inst_opcode", data: "(S'touch x'\nios\nsystem\n.",
			wantGlobals: []string{"os.system"}, wantCall: `os.system("touch x")`, wantPickles: 1},
		{name: "obj_then_pop", data: "(cos\nsystem\nS'x'\no0N.",
			wantGlobals: []string{"os.system"}, wantCall: `os.system("x")`, wantPickles: 1},
		{name: "payload_then_garbage", data: "cos\nsystem\n(S'x'\ntR\xff\xff",
			wantGlobals: []string{"os.system"}, wantCall: `os.system("x")`, wantErr: "invalid load key", wantPickles: 1},
		{name: "missing_stop", data: "cos\nsystem\n(S'x'\ntR",
			wantGlobals: []string{"os.system"}, wantCall: `os.system("x")`, wantErr: "truncated", wantPickles: 1},
		{name: "second_pickle_after_stop", data: "N.cos\nsystem\n(S'x'\ntR.",
			wantGlobals: []string{"os.system"}, wantCall: `os.system("x")`, wantPickles: 2},
		{name: "memo_get_missing", data: "\x80\x02h\x05.", wantErr: "Memo value not found", wantPickles: 1},
		{name: "stack_underflow", data: "\x80\x020.", wantErr: "stack underflow", wantPickles: 1},
		{name: "pop_pops_mark", data: "\x80\x02(0N.", wantPickles: 1},
		{name: "stack_global_non_str", data: "\x80\x04K\x01K\x02\x93.", wantErr: "STACK_GLOBAL requires str", wantPickles: 1},
		{name: "frame_straddle_reads_through", data: "\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00C\x02ab\x8c\x02os\x8c\x06system\x93\x8c\x01x\x85R.",
			wantGlobals: []string{"os.system"}, wantCall: `os.system("x")`, wantPickles: 1},
		{name: "frame_past_end", data: "\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00N.", wantErr: "truncated", wantPickles: 1},
		{name: "bad_protocol", data: "\x80\x09N.", wantErr: "unsupported pickle protocol", wantPickles: 1},
		{name: "empty", data: "", wantErr: "Ran out of input"},
		{name: "dict_odd", data: "(Nd.", wantErr: "odd number", wantPickles: 1},
		{name: "newobj_on_concrete", data: "\x80\x02K\x01)\x81.", wantErr: "isn't a type", wantPickles: 1},
		{name: "reduce_non_tuple", data: "cos\nsystem\nK\x01R.", wantGlobals: []string{"os.system"}, wantErr: "must be a tuple", wantPickles: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := run(t, tc.data)
			if got := strings.Join(globalsOf(tr), ","); got != strings.Join(tc.wantGlobals, ",") {
				t.Errorf("globals = %q, want %q", got, strings.Join(tc.wantGlobals, ","))
			}
			if tc.wantCall != "" {
				if len(tr.Calls) == 0 {
					t.Fatalf("no calls traced, want %s", tc.wantCall)
				}
				c := tr.Calls[0]
				v := Value{Kind: KCall, O: &Object{Call: c}}
				if got := v.String(); got != tc.wantCall {
					t.Errorf("call = %s, want %s", got, tc.wantCall)
				}
			}
			got := malformed(tr)
			if tc.wantErr == "" && got != "" {
				t.Errorf("unexpected error event %q", got)
			}
			if tc.wantErr != "" && !strings.Contains(got, tc.wantErr) {
				t.Errorf("error event %q, want it to contain %q", got, tc.wantErr)
			}
			if tr.Pickles != tc.wantPickles {
				t.Errorf("pickles = %d, want %d", tr.Pickles, tc.wantPickles)
			}
		})
	}
}

func TestObjPopMarksCallUnused(t *testing.T) {
	tr := run(t, "(cos\nsystem\nS'x'\no0N.")
	if len(tr.Calls) != 1 || tr.Calls[0].Used {
		t.Fatalf("want one discarded call, got %+v", tr.Calls)
	}
}

func TestEventsForTricks(t *testing.T) {
	tests := []struct {
		name string
		data string
		want EventKind
	}{
		{"ext1", "\x80\x02\x82\x01)R.", EvExtension},
		{"dynamic_stack_global", "\x80\x04c_codecs\nencode\n(S'bf'\nS'rot13'\ntRS'x'\n\x93.", EvDynamicGlobal},
		{"setitem_on_global", "\x80\x02cos\nenviron\nS'a'\nS'b'\ns.", EvNonContainer},
		{"build_on_global", "\x80\x02ctorch\nnn\n}S'x'\nNsb.", EvBuildGlobal},
		{"limit_nesting", strings.Repeat("(", 10001), EvLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := run(t, tc.data)
			for _, e := range tr.Events {
				if e.Kind == tc.want {
					return
				}
			}
			t.Errorf("no %s event in %+v", tc.want, tr.Events)
		})
	}
}

func TestLargeBytesAreNotBuffered(t *testing.T) {
	// 64 MiB BINBYTES8 followed by a payload: the VM must skip the data
	// (keeping only a prefix) and still see the call after it.
	n := int64(64 << 20)
	var head bytes.Buffer
	head.WriteString("\x80\x04\x8e")
	for i := 0; i < 8; i++ {
		head.WriteByte(byte(n >> (8 * i)))
	}
	tail := "0cos\nsystem\n(S'x'\ntR."
	r := &synth{head: head.Bytes(), n: n, tail: []byte(tail)}
	tr, err := Run(context.Background(), r, 0, r.size(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Calls) != 1 || malformed(tr) != "" {
		t.Fatalf("calls %d, error %q", len(tr.Calls), malformed(tr))
	}
}

// synth is head + n zero bytes + tail, without allocating n bytes.
type synth struct {
	head, tail []byte
	n          int64
}

func (s *synth) size() int64 { return int64(len(s.head)) + s.n + int64(len(s.tail)) }

func (s *synth) ReadAt(p []byte, off int64) (int, error) {
	for i := range p {
		o := off + int64(i)
		switch {
		case o < int64(len(s.head)):
			p[i] = s.head[o]
		case o < int64(len(s.head))+s.n:
			p[i] = 0
		case o < s.size():
			p[i] = s.tail[o-int64(len(s.head))-s.n]
		default:
			return i, bytesEOF
		}
	}
	return len(p), nil
}

// brokenAt reads data up to cut and fails past it, as a disk or a
// download can.
type brokenAt struct {
	data string
	cut  int64
}

func (b brokenAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > b.cut {
		return 0, errBroken
	}
	return strings.NewReader(b.data).ReadAt(p, off)
}

var errBroken = errors.New("connection reset")

// TestReadFailureIsNotMalformed: content that could not be read is not a
// truncated pickle (a medium finding below the default gate); Run returns
// the read error so the file is reported as not scanned.
func TestReadFailureIsNotMalformed(t *testing.T) {
	data := "\x80\x02" + strings.Repeat("K\x01", 200000) + "."
	for _, cut := range []int64{10, 300000, int64(len(data)) - 1} {
		tr, err := Run(context.Background(), brokenAt{data, cut}, 0, int64(len(data)), Options{})
		var re *ReadError
		if !errors.As(err, &re) || !errors.Is(err, errBroken) || tr != nil {
			t.Errorf("cut at %d: trace %v, error %v; want a *ReadError and no trace", cut, tr != nil, err)
		}
	}
	if tr, err := Run(context.Background(), strings.NewReader(data[:1000]), 0, 1000, Options{}); err != nil || !strings.Contains(malformed(tr), "truncated") {
		t.Errorf("a pickle cut short: error %v, event %q; want the truncation recorded", err, malformed(tr))
	}
}
