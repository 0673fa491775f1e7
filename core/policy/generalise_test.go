package policy

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/pickle"
)

func getattrOp(obj op, name string) op { return reduce(global("builtins", "getattr"), obj, ustr(name)) }

func bbytes(s string) op { return op(append([]byte{'C', byte(len(s))}, s...)) }
func newobj(cls op, args ...op) op {
	return append(append(append(op{}, cls...), tuple(args...)...), 0x81)
}

// list is a list of items built with MARK ... LIST.
func list(items ...op) op { return append(tuple(items...)[:len(tuple(items...))-1], 'l') }

func judgeOps(t *testing.T, p *Policy, body op) []finding.Finding {
	t.Helper()
	data := stream(body)
	tr, err := pickle.Run(context.Background(), bytes.NewReader(data), 0, int64(len(data)), pickle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p.JudgePickle(tr, "").Findings
}

// ruleSev renders findings as "RULE:severity" (rule default severities as
// the engine fills them are left blank here).
func ruleSev(fs []finding.Finding) string {
	var out []string
	for _, f := range fs {
		sev := f.Severity.String()
		if f.Severity == finding.SeverityNone {
			sev = ""
		}
		out = append(out, f.RuleID+":"+sev)
	}
	return strings.Join(out, ",")
}

// TestDecisionsByUse checks the decision table on hand-made pickles: how an
// unknown global is used decides its severity, and the mode shifts it.
func TestDecisionsByUse(t *testing.T) {
	unknown := global("evilpkg.mod", "thing")
	tests := []struct {
		name string
		body op
		mode string
		want string
	}{
		{"invoked by REDUCE", reduce(unknown, ustr("x")), "", "MG103:high"},
		{"invoked, lenient", reduce(unknown, ustr("x")), ModeLenient, "MG103:low"},
		{"reconstructed with data", newobj(global("evilpkg.mod", "Thing"), int1(1)), "", "MG103:medium"},
		{"reconstructed, strict", newobj(global("evilpkg.mod", "Thing"), int1(1)), ModeStrict, "MG103:high"},
		{"reconstructed with a callable", newobj(global("evilpkg.mod", "Thing"), global("evilpkg.mod", "Other")), "", "MG103:high,MG103:medium"},
		{"reconstructed with a library function past 64 data arguments", newobj(global("evilpkg.mod", "Thing"),
			append(slices.Repeat([]op{int1(1)}, 64), global("numpy", "sum"))...), "", "MG103:high"},
		{"reconstructed with a library function in a 65-item list", newobj(global("evilpkg.mod", "Thing"),
			list(append(slices.Repeat([]op{int1(1)}, 64), global("numpy", "sum"))...)), "", "MG103:high"},
		// Past the kept items, plain data stays plain: a third-party
		// container class pickled with its items is not invoked code.
		{"reconstructed with 100 data arguments", newobj(global("evilpkg.mod", "Thing"),
			slices.Repeat([]op{int1(1)}, 100)...), "", "MG103:medium"},
		{"reconstructed with a 200-item list of data", newobj(global("evilpkg.mod", "Thing"),
			list(slices.Repeat([]op{int1(1)}, 200)...)), "", "MG103:medium"},
		{"reconstructed with 80 rows of data", newobj(global("evilpkg.mod", "Thing"),
			list(slices.Repeat([]op{list(int1(1), int1(2))}, 80)...)), "", "MG103:medium"},
		{"copyreg reconstructor", reduce(global("copyreg", "_reconstructor"), global("evilpkg.mod", "Thing"),
			global("builtins", "object"), op("N")), "", "MG103:medium"},
		{"referenced only", tuple(unknown), "", "MG103:medium"},
		{"referenced only, strict", tuple(unknown), ModeStrict, "MG103:high"},
		{"referenced library function", tuple(global("numpy", "sum")), "", ""},
		{"called library function", reduce(global("scipy.special._basic", "factorial"), int1(3)), "", "MG103:high"},
		{"dotted classmethod of an allowlisted class", reduce(global("torch.storage", "UntypedStorage.from_file"),
			ustr("f"), op{0x88}, int1(8)), "", "MG103:high"},
		{"re-exported denylisted loader", reduce(global("torch.utils.model_zoo", "load_url"), ustr("file:///x")), "", "MG101:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(Config{Mode: tt.mode}, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if got := ruleSev(judgeOps(t, p, tt.body)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDispatchersAndTampering: a callable handed to a dispatcher is judged
// as called, and in-place writes into tensors or arrays are tampering.
func TestDispatchersAndTampering(t *testing.T) {
	tensor := reduce(global("torch._utils", "_rebuild_tensor_v2"), int1(0))
	tests := []struct {
		name string
		body op
		want string
	}{
		{"finalizer of a denylisted sink", reduce(global("weakref", "finalize"), global("collections", "OrderedDict"),
			global("os", "system"), ustr("id")), "MG103:high,MG101:"},
		{"finalizer of an unknown sink", reduce(global("weakref", "finalize"), global("collections", "OrderedDict"),
			global("mailbox", "mbox"), ustr("m")), "MG103:high,MG103:high"},
		{"executor submit", reduce(getattrOp(reduce(global("concurrent.futures.thread", "ThreadPoolExecutor")), "submit"),
			global("os", "system"), ustr("id")), "MG101:,MG103:high,MG103:high"},
		{"torch.nn.init", reduce(global("torch.nn.init", "constant_"), tensor, int1(42)), "MG112:"},
		{"tensor fill_", reduce(getattrOp(tensor, "fill_"), int1(42)), "MG112:"},
		{"narrow then copy_", reduce(getattrOp(reduce(getattrOp(tensor, "narrow"), int1(0), int1(0), int1(1)), "copy_"), int1(1)), "MG112:,MG112:"},
		{"numpy.copyto", reduce(global("numpy", "copyto"), int1(1), int1(2)), "MG112:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ruleSev(judgeOps(t, Default(), tt.body))
			if sorted(got) != sorted(tt.want) {
				t.Errorf("got %q, want %q: %+v", got, tt.want, judgeOps(t, Default(), tt.body))
			}
		})
	}
}

func sorted(s string) string {
	parts := strings.Split(s, ",")
	for i := range parts {
		for j := i + 1; j < len(parts); j++ {
			if parts[j] < parts[i] {
				parts[i], parts[j] = parts[j], parts[i]
			}
		}
	}
	return strings.Join(parts, ",")
}

// codeObject is cloudpickle's _builtin_type("CodeType")(...) with the
// Python 3.11 field order, names as co_names.
func codeObject(code string, names ...string) op {
	ns := make([]op, len(names))
	for i, n := range names {
		ns[i] = ustr(n)
	}
	ctor := reduce(global("cloudpickle.cloudpickle", "_builtin_type"), ustr("CodeType"))
	return reduce(ctor, int1(1), int1(0), int1(0), int1(1), int1(2), int1(3), bbytes(code), tuple(op("N")),
		tuple(ns...), tuple(ustr("x")), ustr("<stdin>"), ustr("<lambda>"), ustr("<lambda>"), int1(1), bbytes(""), bbytes(""),
		tuple(), tuple())
}

// TestPickledFunctions: bytecode is reported like a Keras Lambda layer (high,
// critical when its names reach the OS), and a reviewed digest silences it.
func TestPickledFunctions(t *testing.T) {
	fn := func(code op) op {
		return reduce(global("cloudpickle.cloudpickle", "_make_function"), code, op("}"), ustr("f"), op("N"), op("N"))
	}
	arith := fn(codeObject("\x97\x00|\x00d\x01z\x05\x00\x00S\x00", "np", "log1p"))
	evil := fn(codeObject("\x97\x00t\x01\x00", "os", "system"))
	if got := ruleSev(judgeOps(t, Default(), arith)); got != "MG113:" {
		t.Errorf("arithmetic lambda: got %q, want MG113 at its default (high)", got)
	}
	fs := judgeOps(t, Default(), evil)
	if ruleSev(fs) != "MG113:critical" || !strings.Contains(fs[0].Message, "system") {
		t.Errorf("os.system lambda: got %q %+v", ruleSev(fs), fs)
	}
	digest := strings.TrimPrefix(strings.Fields(judgeOps(t, Default(), arith)[0].Evidence)[0], "sha256=")
	p, err := New(Config{AllowCode: []string{digest}}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got := ruleSev(judgeOps(t, p, arith)); got != "" {
		t.Errorf("reviewed digest still reported: %q", got)
	}
	if got := ruleSev(judgeOps(t, p, evil)); got != "MG113:critical" {
		t.Errorf("a different function was silenced by another's digest: %q", got)
	}
	// co_names past the 64 items a tuple keeps: "system" would not be
	// seen, so the function must not pass as merely high and complete.
	padded := fn(codeObject("\x97\x00t\x01\x00", append(slices.Repeat([]string{"a"}, 64), "os", "system")...))
	data := stream(padded)
	tr, err := pickle.Run(context.Background(), bytes.NewReader(data), 0, int64(len(data)), pickle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v := Default().JudgePickle(tr, ""); ruleSev(v.Findings) != "MG113:critical" && len(v.Unscanned) == 0 {
		t.Errorf("os.system past 64 names: got %q and nothing unscanned", ruleSev(v.Findings))
	}
	sub := reduce(global("cloudpickle.cloudpickle", "subimport"), ustr("os"))
	if got := ruleSev(judgeOps(t, Default(), sub)); got != "MG101:" {
		t.Errorf("subimport('os'): got %q, want MG101", got)
	}
}

// TestMemberLevel: data members of denylisted modules are data; their
// modules' callables stay dangerous.
func TestMemberLevel(t *testing.T) {
	tests := []struct {
		name  string
		body  op
		clean bool
	}{
		{"os.stat_result", reduce(global("os", "stat_result"), tuple(int1(1), int1(2))), true},
		{"os.system", reduce(global("os", "system"), ustr("id")), false},
		{"enum member by name", getattrOp(global("signal", "Signals"), "SIGTERM"), true},
		{"enum constant", tuple(global("socket", "AF_INET")), true},
		{"lower-case socket member", tuple(global("socket", "create_connection")), false},
		{"getLogger(name)", reduce(global("logging", "getLogger"), ustr("train")), true},
		{"getLogger(computed)", reduce(global("logging", "getLogger"), reduce(global("os", "getcwd"))), false},
		{"logging.FileHandler", reduce(global("logging", "FileHandler"), ustr("x")), false},
		{"itemgetter(1)", reduce(global("operator", "itemgetter"), int1(1)), true},
		{"itemgetter product called", reduce(reduce(global("operator", "itemgetter"), int1(1)), int1(2)), false},
		{"itemgetter of a global", reduce(global("operator", "itemgetter"), global("os", "system")), false},
		{"zone by name", reduce(getattrOp(global("zoneinfo", "ZoneInfo"), "_unpickle"), ustr("Europe/Berlin"), int1(1)), true},
		{"zone by path", reduce(getattrOp(global("zoneinfo", "ZoneInfo"), "_unpickle"), ustr("../../etc/passwd"), int1(1)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := worstOf(t, stream(tt.body))
			if tt.clean && w >= finding.SeverityMedium {
				t.Errorf("want clean, got worst %s", w)
			}
			if !tt.clean && w < finding.SeverityMedium {
				t.Errorf("want a finding >= medium, got worst %s", w)
			}
		})
	}
}
