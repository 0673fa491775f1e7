package onnx_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/onnx"
)

const fixtures = "../../../test/fixtures/"

func scan(t testing.TB, data []byte) finding.FileResult {
	t.Helper()
	eng, err := engine.New(engine.Options{Formats: []engine.Format{onnx.Format{}}})
	if err != nil {
		t.Fatal(err)
	}
	return eng.ScanReaderAt(context.Background(), "model.onnx", bytes.NewReader(data), int64(len(data)))
}

func ruleIDs(r finding.FileResult) string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.RuleID+":"+f.Severity.String())
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		file string
		want string // sorted rule:severity list
	}{
		{"benign/onnx_identity.onnx", ""},
		{"benign/onnx/mlp_external_data.onnx", ""},
		{"benign/onnx/ml_domain_classifier.onnx", ""},
		{"benign/onnx/if_loop_subgraphs.onnx", ""},
		{"benign/onnx/torch_export_convnet.onnx", ""},
		{"benign/onnx/local_function.onnx", "MG504:low"},
		{"malicious/onnx_external_data_traversal.onnx", "MG501:high"},
		{"malicious/unproven/onnx_external_data_absolute.onnx", "MG501:high"},
		{"malicious/onnx/subgraph_initializer_traversal.onnx", "MG501:high"},
		{"malicious/onnx/constant_attribute_traversal.onnx", "MG501:high"},
		{"malicious/onnx/sparse_initializer_absolute.onnx", "MG501:high"},
		{"malicious/onnx/custom_domain_operator.onnx", "MG502:high"},
		{"malicious/onnx/custom_op_inside_function.onnx", "MG502:high,MG504:low"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			data, err := os.ReadFile(fixtures + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			r := scan(t, data)
			if len(r.Formats) != 1 || r.Formats[0] != "onnx" {
				t.Fatalf("formats %v, want [onnx]", r.Formats)
			}
			if len(r.Unscanned) != 0 {
				t.Fatalf("unscanned: %+v", r.Unscanned)
			}
			if got := ruleIDs(r); got != tt.want {
				t.Fatalf("findings %q, want %q: %+v", got, tt.want, r.Findings)
			}
		})
	}
}

func TestMatchRejects(t *testing.T) {
	tests := map[string][]byte{
		"empty":           nil,
		"text":            []byte("ir_version: 8\ngraph { }\n"),
		"pickle":          {0x80, 0x04, 0x95, 0x05, 0, 0, 0, 0, 0, 0, 0, 0x4b, 0x01, 0x2e},
		"varint only":     {0x08, 0x07},
		"no graph":        {0x08, 0x07, 0x12, 0x03, 'a', 'b', 'c'},
		"huge ir version": {0x08, 0xff, 0x01, 0x3a, 0x02, 0x0a, 0x00},
		"graph not graph": {0x08, 0x07, 0x3a, 0x02, 0x08, 0x01},
		"wrong wire type": {0x08, 0x07, 0x38, 0x01},
		"trailing junk":   {0x08, 0x07, 0x3a, 0x02, 0x0a, 0x00, 0xff},
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			in := &engine.Input{R: bytes.NewReader(data), Size: int64(len(data)), Head: data}
			if (onnx.Format{}).Match(in) {
				t.Fatalf("matched %x", data)
			}
		})
	}
	for _, other := range []string{"benign/torch_state_dict.pt", "benign/pickle.pkl.gz", "benign/tensorflow/dense_module/saved_model.pb",
		"benign/tensorflow/frozen_graph.pb", "benign/tensorflow/dense_module/keras_metadata.pb"} {
		data, err := os.ReadFile(fixtures + other)
		if err != nil {
			t.Fatal(err)
		}
		head := data[:min(len(data), engine.HeadSize)]
		if (onnx.Format{}).Match(&engine.Input{R: bytes.NewReader(data), Size: int64(len(data)), Head: head}) {
			t.Errorf("onnx claims %s", other)
		}
	}
}

func TestEscapes(t *testing.T) {
	tests := map[string]bool{
		"weights.data": false, "sub/dir/w.bin": false, "a..b": false, "": false,
		"/etc/passwd": true, "../w": true, "sub/../../w": true, `..\w`: true, `C:\w`: true,
		`\\server\share`: true, "d:/x": true,
	}
	for loc, want := range tests {
		if got := onnx.Escapes(loc) != ""; got != want {
			t.Errorf("Escapes(%q) = %v, want %v", loc, got, want)
		}
	}
}

func TestClassifyDomain(t *testing.T) {
	tests := map[string]onnx.DomainKind{
		"": onnx.DomainStandard, "ai.onnx": onnx.DomainStandard, "ai.onnx.ml": onnx.DomainStandard,
		"com.microsoft": onnx.DomainStandard, "ai.onnx.contrib": onnx.DomainKnownVendor,
		"org.pytorch.aten": onnx.DomainKnownVendor, "evil.ops": onnx.DomainCustom, "com.microsoftx": onnx.DomainCustom,
	}
	for d, want := range tests {
		if got, _ := onnx.ClassifyDomain(d); got != want {
			t.Errorf("ClassifyDomain(%q) = %v, want %v", d, got, want)
		}
	}
}

// FuzzScan runs hostile bytes through Match and Scan; the engine turns
// panics into "internal error" notes, which must never appear.
func FuzzScan(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.onnx")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	eng, err := engine.New(engine.Options{Formats: []engine.Format{onnx.Format{}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := eng.ScanReaderAt(context.Background(), "model.onnx", bytes.NewReader(data), int64(len(data)))
		for _, u := range r.Unscanned {
			if strings.Contains(u.Reason, "panic") {
				t.Fatal(u.Reason)
			}
		}
	})
}

// BenchmarkScanLargeInitializer scans a model whose 64 MiB initializer must
// be skipped by offset, not read.
func BenchmarkScanLargeInitializer(b *testing.B) {
	tensor := append(pbString(8, "W"), pbBytes(9, make([]byte, 64<<20))...)
	graph := append(pbBytes(1, append(pbString(4, "Identity"), pbString(1, "W")...)), pbBytes(5, tensor)...)
	model := append([]byte{0x08, 0x08}, pbBytes(7, graph)...)
	model = append(model, pbBytes(8, append(pbString(1, ""), 0x10, 13))...)
	eng, err := engine.New(engine.Options{Formats: []engine.Format{onnx.Format{}}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(model)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := eng.ScanReaderAt(context.Background(), "big.onnx", bytes.NewReader(model), int64(len(model)))
		if len(r.Formats) != 1 || len(r.Findings) != 0 {
			b.Fatalf("formats %v findings %+v", r.Formats, r.Findings)
		}
	}
}

func pbBytes(num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
}

func pbString(num protowire.Number, s string) []byte { return pbBytes(num, []byte(s)) }

// TestMatchReorderedAndPadded: protobuf parsers take fields in any order
// and keep unknown ones, so a model whose ir_version is not first, or that
// carries more unknown or metadata fields than a writer does, still loads;
// with a head that looks like text it must still be claimed, never
// skipped as text.
func TestMatchReorderedAndPadded(t *testing.T) {
	model, err := os.ReadFile(fixtures + "malicious/onnx/custom_domain_operator.onnx")
	if err != nil {
		t.Fatal(err)
	}
	meta := func(n int) []byte {
		var b []byte
		for i := range n {
			entry := protowire.AppendTag(nil, 1, protowire.BytesType)
			entry = protowire.AppendBytes(entry, []byte(strings.Repeat("k", 76)+strconv.Itoa(1000+i)))
			entry = protowire.AppendTag(entry, 2, protowire.BytesType)
			entry = protowire.AppendBytes(entry, []byte(strings.Repeat("v", 36)))
			b = protowire.AppendTag(b, 14, protowire.BytesType)
			b = protowire.AppendBytes(b, entry)
		}
		return b
	}
	var unknown []byte
	for range 5 {
		unknown = protowire.AppendVarint(protowire.AppendTag(unknown, 100, protowire.VarintType), 1)
	}
	cases := map[string][]byte{
		"metadata before ir_version":      append(meta(40), model...),
		"and five unknown fields":         append(append(meta(40), model...), unknown...),
		"more fields than the match walk": append(meta(5000), model...),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			r := scan(t, data)
			if got := ruleIDs(r); got == "" && len(r.Unscanned) == 0 {
				t.Fatalf("passed with formats %v", r.Formats)
			}
		})
	}
}
