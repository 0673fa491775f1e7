package tfsavedmodel_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/tfsavedmodel"
)

const fixtures = "../../../test/fixtures/"

var formats = []engine.Format{tfsavedmodel.SavedModel{}, tfsavedmodel.KerasMetadata{}, tfsavedmodel.GraphDef{},
	tfsavedmodel.Fingerprint{}, tfsavedmodel.SavedModelText{}}

func newEngine(t testing.TB) *engine.Engine {
	t.Helper()
	eng, err := engine.New(engine.Options{Formats: formats})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func summary(r finding.FileResult) string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.RuleID+":"+f.Severity.String())
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		file, format, want string
	}{
		{"benign/tensorflow/dense_module/saved_model.pb", "tf-savedmodel", ""},
		{"benign/tensorflow/vocab_table/saved_model.pb", "tf-savedmodel", ""},
		{"benign/tensorflow/dense_module/keras_metadata.pb", "keras-metadata", ""},
		{"benign/tensorflow/frozen_graph.pb", "tf-graphdef", ""},
		{"benign/tensorflow/dense_module/fingerprint.pb", "tf-fingerprint", ""},
		{"benign/tensorflow/text_module/saved_model.pbtxt", "tf-savedmodel-text", "MG407:low"},
		{"malicious/tensorflow/text_pyfunc/saved_model.pbtxt", "tf-savedmodel-text", "MG402:critical,MG407:low"},
		{"malicious/tensorflow/readfile_writefile/saved_model.pb", "tf-savedmodel", "MG401:high,MG401:high"},
		{"malicious/tensorflow/eager_pyfunc/saved_model.pb", "tf-savedmodel", "MG402:critical"},
		{"malicious/tensorflow/save_absolute_prefix/saved_model.pb", "tf-savedmodel", "MG403:high,MG403:high"},
		{"malicious/tensorflow/debug_identity_url/saved_model.pb", "tf-savedmodel", "MG405:high"},
		{"malicious/tensorflow/keras_lambda/keras_metadata.pb", "keras-metadata", "MG406:high"},
		{"malicious/tensorflow/asset_traversal/saved_model.pb", "tf-savedmodel", "MG403:high"},
		{"malicious/tensorflow/object_graph_lambda/saved_model.pb", "tf-savedmodel", "MG406:high"},
		{"malicious/tensorflow/frozen_readfile.pb", "tf-graphdef", "MG401:high"},
	}
	eng := newEngine(t)
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.file, "/", "_"), func(t *testing.T) {
			r := eng.ScanFile(context.Background(), fixtures+tt.file, tt.file)
			if len(r.Formats) != 1 || r.Formats[0] != tt.format {
				t.Fatalf("formats %v, want %s", r.Formats, tt.format)
			}
			if len(r.Unscanned) != 0 {
				t.Fatalf("unscanned %+v", r.Unscanned)
			}
			if got := summary(r); got != tt.want {
				t.Fatalf("findings %q, want %q: %+v", got, tt.want, r.Findings)
			}
		})
	}
}

// TestKerasMetadataCurrentProto: keras_metadata.pb as TF-Keras 2.6 and later
// write it (SavedObject field 1 reserved, VersionDef in field 6), built with
// the protobuf runtime by test/gen_modeldir_fixtures.py.
func TestKerasMetadataCurrentProto(t *testing.T) {
	eng := newEngine(t)
	for file, want := range map[string]string{
		"testdata/keras_metadata_v6_dense.pb":  "",
		"testdata/keras_metadata_v6_lambda.pb": "MG406:high",
	} {
		r := eng.ScanFile(context.Background(), file, file)
		if len(r.Formats) != 1 || r.Formats[0] != "keras-metadata" || len(r.Unscanned) != 0 {
			t.Errorf("%s: formats %v, unscanned %+v; want keras-metadata", file, r.Formats, r.Unscanned)
			continue
		}
		if got := summary(r); got != want {
			t.Errorf("%s: findings %q, want %q", file, got, want)
		}
	}
}

func TestMatchRejectsOtherFormats(t *testing.T) {
	others := []string{"benign/onnx_identity.onnx", "benign/onnx/torch_export_convnet.onnx", "benign/torch_state_dict.pt",
		"benign/python_data_p0.pkl", "benign/numpy_float32.npy"}
	for _, o := range others {
		data, err := os.ReadFile(fixtures + o)
		if err != nil {
			t.Fatal(err)
		}
		in := &engine.Input{R: bytes.NewReader(data), Size: int64(len(data)), Head: data[:min(len(data), engine.HeadSize)]}
		for _, f := range formats {
			if f.Match(in) {
				t.Errorf("%s claims %s", f.Name(), o)
			}
		}
	}
	for name, data := range map[string][]byte{
		"text newline":  []byte("\nhello world\n"),
		"one byte":      {0x0a},
		"graph no op":   {0x0a, 0x03, 0x0a, 0x01, 'x'},
		"op not ident":  {0x0a, 0x08, 0x0a, 0x01, 'x', 0x12, 0x03, 'a', ' ', 'b'},
		"saved no meta": {0x08, 0x01},
		"meta unknown":  {0x08, 0x01, 0x12, 0x02, 0x48, 0x01},
		"keras no id":   {0x0a, 0x04, 0x10, 0x01, 0x1a, 0x00},
	} {
		in := &engine.Input{R: bytes.NewReader(data), Size: int64(len(data)), Head: data}
		for _, f := range formats {
			if f.Match(in) {
				t.Errorf("%s claims %q", f.Name(), name)
			}
		}
	}
}

func TestKnownOp(t *testing.T) {
	for op, want := range map[string]bool{
		"MatMul": true, "StatefulPartitionedCall": true, "SaveV2": true, "ReadFile": true, "_Arg": true,
		"_FusedConv2D": true, "ShellExecute": false, "Addons>GatherTree": false, "": false,
	} {
		if got := tfsavedmodel.KnownOp(op); got != want {
			t.Errorf("KnownOp(%q) = %v, want %v", op, got, want)
		}
	}
}

func TestPathEscapes(t *testing.T) {
	for p, want := range map[string]bool{
		"vocab.txt": false, "assets/vocab.txt": false, "_temp/part": false, ".part": false, "": false,
		"/etc/passwd": true, "../x": true, "a/../../x": true, "gs://bucket/ckpt": true, "file:///tmp/x": true,
		`C:\x`: true,
	} {
		if got := tfsavedmodel.PathEscapes(p) != ""; got != want {
			t.Errorf("PathEscapes(%q) = %v, want %v", p, got, want)
		}
	}
}

// FuzzScan runs hostile bytes through every TensorFlow format.
func FuzzScan(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.pb*")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	eng := newEngine(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := eng.ScanReaderAt(context.Background(), "saved_model.pb", bytes.NewReader(data), int64(len(data)))
		for _, u := range r.Unscanned {
			if strings.Contains(u.Reason, "panic") {
				t.Fatal(u.Reason)
			}
		}
	})
}

func pbBytes(num protowire.Number, b []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), b)
}

func nodeDef(name, op string, inputs ...string) []byte {
	b := append(pbBytes(1, []byte(name)), pbBytes(2, []byte(op))...)
	for _, in := range inputs {
		b = append(b, pbBytes(3, []byte(in))...)
	}
	return b
}

// TestUnknownOps: operators TensorFlow lacks are reported once per op,
// while calls to library functions by name are not.
func TestUnknownOps(t *testing.T) {
	fn := append(pbBytes(1, pbBytes(1, []byte("my_fn"))), pbBytes(3, nodeDef("inner", "Relu", "x"))...)
	var g []byte
	g = append(g, pbBytes(1, nodeDef("x", "Placeholder"))...)
	g = append(g, pbBytes(1, nodeDef("a", "ShellExecute", "x"))...)
	g = append(g, pbBytes(1, nodeDef("b", "ShellExecute", "a"))...)
	g = append(g, pbBytes(1, nodeDef("c", "my_fn", "b"))...)
	g = append(g, pbBytes(2, pbBytes(1, fn))...)
	r := newEngine(t).ScanReaderAt(context.Background(), "graph.pb", bytes.NewReader(g), int64(len(g)))
	if got := summary(r); got != "MG404:medium" {
		t.Fatalf("findings %q, want one MG404: %+v (formats %v)", got, r.Findings, r.Formats)
	}
	if !strings.Contains(r.Findings[0].Message, "ShellExecute") || !strings.Contains(r.Findings[0].Message, "2 nodes") {
		t.Fatalf("message %q", r.Findings[0].Message)
	}
}

// constNode is a Const whose string tensor holds vals.
func constNode(name string, vals ...string) []byte {
	var tensor []byte
	for _, v := range vals {
		tensor = append(tensor, pbBytes(8, []byte(v))...)
	}
	entry := append(pbBytes(1, []byte("value")), pbBytes(2, pbBytes(8, tensor))...)
	return append(nodeDef(name, "Const"), pbBytes(5, entry)...)
}

// TestConstantPathPastBounds: the collector and the resolver keep bounded
// inputs, strings and pass-through depth; an escaping path constant just
// past any of them must still be found, or the graph reported not scanned
// (MG902).
func TestConstantPathPastBounds(t *testing.T) {
	graph := func(nodes ...[]byte) []byte {
		var g []byte
		for _, n := range nodes {
			g = append(g, pbBytes(1, n)...)
		}
		return g
	}
	chain := func(n int) [][]byte {
		nodes := [][]byte{constNode("p", "/etc/cron.d/x")}
		prev := "p"
		for i := range n {
			name := fmt.Sprintf("id%d", i)
			nodes = append(nodes, nodeDef(name, "Identity", prev))
			prev = name
		}
		return append(nodes, nodeDef("save", "SaveV2", prev, "names", "slices"))
	}
	joined := func(n int) [][]byte {
		var nodes [][]byte
		var ins []string
		for i := range n {
			name := fmt.Sprintf("c%d", i)
			nodes = append(nodes, constNode(name, ""))
			ins = append(ins, name)
		}
		nodes = append(nodes, constNode("p", "/etc/cron.d/x"))
		ins = append(ins, "p")
		return append(nodes, nodeDef("j", "StringJoin", ins...), nodeDef("save", "SaveV2", "j", "names", "slices"))
	}
	many := make([]string, 40)
	many = append(many, "/etc/passwd")
	cases := []struct {
		name string
		g    []byte
		want string
	}{
		{"path string after 40 others in one Const",
			graph(constNode("files", many...), nodeDef("ds", "TFRecordDataset", "files")), "MG403:high"},
		{"path as the fifth StringJoin input",
			graph(joined(4)...), "MG403:high"},
		{"path after 20 constant StringJoin inputs",
			graph(joined(20)...), "MG403:high"},
		{"path behind 9 Identity nodes",
			graph(chain(9)...), "MG403:high"},
		{"path behind 2000 Identity nodes",
			graph(chain(2000)...), "MG902"},
		{"path const whose 1025-byte name shares its first 1024 bytes with a benign one",
			graph(constNode(strings.Repeat("n", 1024)+"a", "ok"), constNode(strings.Repeat("n", 1024)+"b", "/etc/cron.d/x"),
				nodeDef("save", "SaveV2", strings.Repeat("n", 1024)+"b", "names", "slices")), "MG902"},
		{"benign: 40 plain strings into a dataset",
			graph(constNode("files", make([]string, 41)...), nodeDef("ds", "TFRecordDataset", "files")), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newEngine(t).ScanReaderAt(context.Background(), "graph.pb", bytes.NewReader(tc.g), int64(len(tc.g)))
			got := summary(r)
			for _, u := range r.Unscanned {
				got += "," + u.RuleID
			}
			if (tc.want == "" && got != "") || !strings.Contains(got, tc.want) {
				t.Fatalf("got %q, want %q (formats %v)", got, tc.want, r.Formats)
			}
		})
	}
}

// TestTextMatchPastCommentedHead: the text format allows # comments
// anywhere, so comments filling the head (or one longer than a scanner
// line) must not leave saved_model.pbtxt unclaimed, to pass as plain text.
func TestTextMatchPastCommentedHead(t *testing.T) {
	body := "saved_model_schema_version: 1\nmeta_graphs {\n  graph_def {\n    node {\n      name: \"p\"\n      op: \"PyFunc\"\n    }\n  }\n}\n"
	cases := []struct {
		name, data string
		want       bool
	}{
		{"plain", body, true},
		{"comments filling the head", strings.Repeat("# "+strings.Repeat("c", 60)+"\n", 100) + body, true},
		{"one comment longer than a line buffer", "# " + strings.Repeat("c", 2<<20) + "\n" + body, true},
		{"comments then prose", strings.Repeat("# c\n", 2000) + "hello world\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.data)
			in := &engine.Input{R: bytes.NewReader(data), Size: int64(len(data)), Head: data[:min(len(data), engine.HeadSize)]}
			if got := (tfsavedmodel.SavedModelText{}).Match(in); got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}
}
