package policy

import (
	"bytes"
	"context"
	"testing"

	"github.com/modelgate/modelgate/core/pickle"
	"github.com/modelgate/modelgate/core/rules"
)

// Tiny protocol-4 assembler: enough to express the bypass shapes.
func str(s string) []byte     { return append([]byte{0x8c, byte(len(s))}, s...) }
func glob(m, n string) []byte { return append(append(str(m), str(n)...), 0x93) }
func call(fn []byte, args ...[]byte) []byte {
	b := append([]byte{}, fn...)
	b = append(b, '(')
	for _, a := range args {
		b = append(b, a...)
	}
	return append(b, 't', 'R')
}
func getattr(obj []byte, name string) []byte {
	return call(glob("builtins", "getattr"), obj, str(name))
}
func pkl(body []byte) []byte { return append(append([]byte{0x80, 4}, body...), '.') }

func ruleIDs(t *testing.T, data []byte) []string {
	t.Helper()
	tr, err := pickle.Run(context.Background(), bytes.NewReader(data), 0, int64(len(data)), pickle.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range Default().JudgePickle(tr, "").Findings {
		ids = append(ids, f.RuleID)
	}
	return ids
}

func TestArgumentAwareStaysQuiet(t *testing.T) {
	cases := map[string][]byte{
		"getattr(str, split)":                            pkl(call(getattr(glob("builtins", "str"), "split"), str("a b"))),
		"functools.partial(int)":                         pkl(call(call(glob("functools", "partial"), glob("builtins", "int")), str("5"))),
		"numpy.vectorize(abs)":                           pkl(call(glob("numpy", "vectorize"), glob("builtins", "abs"))),
		"copyreg._reconstructor":                         pkl(call(glob("copyreg", "_reconstructor"), glob("collections", "OrderedDict"), glob("builtins", "dict"), []byte{'}'})),
		"_load_from_bytes(_codecs.encode(text, latin1))": pkl(call(glob("torch.storage", "_load_from_bytes"), call(glob("_codecs", "encode"), str("\u00e9PK"), str("latin1")))),
		"py2 __builtin__.long (p2)":                      append([]byte("\x80\x02c__builtin__\nlong\n"), []byte("(K\x05tR.")...),
	}
	for name, data := range cases {
		if ids := ruleIDs(t, data); len(ids) != 0 {
			t.Errorf("%s: want no findings, got %v", name, ids)
		}
	}
}

func TestBypassGadgetsAreDangerousCalls(t *testing.T) {
	arr := call(glob("numpy.core.multiarray", "_reconstruct"), glob("numpy", "ndarray"), []byte("K\x00\x85"), []byte("C\x01b"))
	cases := map[string][]byte{
		"_pyio.open":                         pkl(call(glob("_pyio", "open"), str("f"), str("w"))),
		"getattr(ndarray, tofile)":           pkl(call(getattr(arr, "tofile"), str("f"))),
		"DataFrame.to_pickle dotted":         pkl(call(glob("pandas.core.frame", "DataFrame.to_pickle"), call(glob("pandas.core.frame", "DataFrame")), str("f"))),
		"ForwardRef._evaluate":               pkl(call(getattr(call(glob("typing", "ForwardRef"), str("x")), "_evaluate"), []byte("N"), []byte("N"), []byte(")"))),
		"fx reduce_graph_module":             pkl(call(glob("torch.fx.graph_module", "reduce_graph_module"), []byte("}"), str("import os"))),
		"numpy.vectorize(os.system)()":       pkl(call(call(glob("numpy", "vectorize"), glob("os", "system")), str("x"))),
		"_import_dotted_name(os.system)()":   pkl(call(call(glob("torch._utils", "_import_dotted_name"), str("os.system")), str("x"))),
		"_ufunc_reconstruct(os, system)()":   pkl(call(call(glob("numpy.core", "_ufunc_reconstruct"), str("os"), str("system")), str("x"))),
		"persistent ('module', os.system)()": pkl(append(append([]byte("(\x8c\x06module"), glob("os", "system")...), []byte("NNtQ(\x8c\x01xtR")...)),
		"py2 dumbdbm.open (p2)":              append([]byte("\x80\x02cdumbdbm\nopen\n"), []byte("(X\x01\x00\x00\x00fX\x01\x00\x00\x00ctR.")...),
	}
	for name, data := range cases {
		found := false
		for _, id := range ruleIDs(t, data) {
			found = found || id == rules.DangerousCall
		}
		if !found {
			t.Errorf("%s: want %s, got %v", name, rules.DangerousCall, ruleIDs(t, data))
		}
	}
}
