package policy

import (
	"bytes"
	"context"
	"testing"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/pickle"
)

// op assembles protocol-2 pickles by hand for argument-aware judgements.
type op []byte

func global(module, name string) op { return op("c" + module + "\n" + name + "\n") }
func ustr(s string) op              { return op(append([]byte{0x8c, byte(len(s))}, s...)) }
func int1(n byte) op                { return op{'K', n} }
func tuple(items ...op) op {
	b := op{'('}
	for _, it := range items {
		b = append(b, it...)
	}
	return append(b, 't')
}
func reduce(fn op, args ...op) op { return append(append(append(op{}, fn...), tuple(args...)...), 'R') }
func stream(body op) []byte       { return append(append([]byte{0x80, 4}, body...), '.') }

func worstOf(t *testing.T, data []byte) finding.Severity {
	t.Helper()
	tr, err := pickle.Run(context.Background(), bytes.NewReader(data), 0, int64(len(data)), pickle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := Default().JudgePickle(tr, "")
	w := finding.SeverityNone
	for _, f := range v.Findings {
		sev := f.Severity
		if sev == finding.SeverityNone {
			sev = finding.SeverityHigh // rule default for MG101/MG102
		}
		if sev > w {
			w = sev
		}
	}
	return w
}

func TestArgumentAwareGlobals(t *testing.T) {
	regexFlag := func(member string) op {
		return reduce(global("builtins", "getattr"), global("re", "RegexFlag"), ustr(member))
	}
	tests := []struct {
		name  string
		body  op
		clean bool
	}{
		{"pytz zone", reduce(global("pytz", "_p"), ustr("Europe/Berlin")), true},
		{"pytz zone with offsets", reduce(global("pytz", "_p"), ustr("US/Eastern"), int1(0), int1(0), ustr("EST")), true},
		{"pytz path", reduce(global("pytz", "_p"), ustr("../../../etc/passwd")), false},
		{"pytz computed zone", reduce(global("pytz", "_p"), reduce(global("builtins", "str"), ustr("x"))), false},
		{"newObj allowlisted class", reduce(global("sklearn.neighbors._ball_tree", "newObj"),
			global("sklearn.neighbors._ball_tree", "BallTree")), true},
		{"newObj dangerous class", reduce(global("sklearn.neighbors._kd_tree", "newObj"), global("subprocess", "Popen")), false},
		{"newObj unknown class", reduce(global("sklearn.neighbors._kd_tree", "newObj"), global("evil", "Thing")), false},
		{"or_ of flags", reduce(global("_operator", "or_"), regexFlag("MULTILINE"), regexFlag("IGNORECASE")), true},
		{"or_ of ints", reduce(global("operator", "or_"), int1(1), int1(2)), true},
		{"or_ of a callable", reduce(global("_operator", "or_"), global("os", "system"), int1(2)), false},
		{"ufunc log1p", reduce(global("numpy.core", "_ufunc_reconstruct"), ustr("numpy"), ustr("log1p")), true},
		{"ufunc from os", reduce(global("numpy.core", "_ufunc_reconstruct"), ustr("os"), ustr("system")), false},
		{"numpy non-ufunc", reduce(global("numpy._core", "_ufunc_reconstruct"), ustr("numpy"), ustr("load")), false},
		{"called ufunc", reduce(reduce(global("numpy.core", "_ufunc_reconstruct"), ustr("numpy"), ustr("sqrt")), int1(4)), true},
		{"SimpleNamespace", reduce(global("types", "SimpleNamespace")), true},
		{"other types member", reduce(global("types", "FunctionType"), int1(1)), false},
		{"enum getattr private called", reduce(reduce(global("builtins", "getattr"), global("re", "RegexFlag"),
			ustr("_missing_")), int1(1)), false},
		{"enum getattr public called", reduce(regexFlag("from_bytes"), ustr("\x01"), ustr("little")), true},
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
