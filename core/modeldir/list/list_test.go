package list_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/modeldir/list"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/scan"
)

func fixture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "test", "fixtures", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func run(t *testing.T, fsys fstest.MapFS, strict bool) *report.Report {
	t.Helper()
	opts := scan.Options{}
	if strict {
		pol, err := policy.Parse([]byte("strict: true\n"), "strict.yaml", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		opts.Policy = pol
	}
	rep, err := scan.Run(context.Background(), scan.FS(fsys, ""), opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

type item struct {
	rule, path string
	sev        finding.Severity // SeverityNone: a not-scanned item
	modelLike  bool
}

func has(rep *report.Report, w item) bool {
	for _, fr := range rep.Files {
		if fr.Path != w.path {
			continue
		}
		if w.sev == finding.SeverityNone {
			for _, u := range fr.Unscanned {
				if u.RuleID == w.rule && u.ModelLike == w.modelLike {
					return true
				}
			}
			continue
		}
		for _, f := range fr.Findings {
			if f.RuleID == w.rule && f.Severity == w.sev {
				return true
			}
		}
	}
	return false
}

func dump(rep *report.Report) string {
	var b strings.Builder
	for _, fr := range rep.Files {
		for _, f := range fr.Findings {
			b.WriteString("\n  " + f.RuleID + " " + f.Severity.String() + " " + fr.Path + ": " + f.Message)
		}
		for _, u := range fr.Unscanned {
			b.WriteString("\n  not scanned " + u.RuleID + " " + fr.Path + ": " + u.Reason)
		}
	}
	for _, m := range rep.Models {
		b.WriteString("\n  model " + m.Kind + " " + m.Path)
	}
	return b.String()
}

func TestAnalyzers(t *testing.T) {
	st := fixture(t, "benign/modeldirs/hf_sharded_bert/model-00001-of-00002.safetensors")
	torchZip := fixture(t, "malicious/modeldirs/hf_disguised_shard/model-00002-of-00002.safetensors")
	config := `{"model_type": "bert", "architectures": ["BertModel"]}`
	tests := []struct {
		name   string
		files  fstest.MapFS
		strict bool
		want   []item
		kind   string
	}{
		{
			name: "auto_map under strict is high, remote code named on the config",
			files: fstest.MapFS{
				"r/config.json":   {Data: []byte(`{"model_type": "x", "auto_map": {"AutoModel": "modeling_x.XModel", "AutoTokenizer": ["other/repo--tok.T", null]}}`)},
				"r/modeling_x.py": {Data: []byte("import os\n")},
			},
			strict: true,
			want: []item{
				{rule: "MG1005", path: "r/modeling_x.py", sev: finding.SeverityHigh},
				{rule: "MG1005", path: "r/config.json", sev: finding.SeverityHigh},
			},
			kind: "huggingface",
		},
		{
			name: "custom pipeline code",
			files: fstest.MapFS{
				"r/config.json": {Data: []byte(`{"model_type": "x", "custom_pipelines": {"text-classification": {"impl": "pipe_x.XPipeline", "pt": ["AutoModel"]}}}`)},
				"r/pipe_x.py":   {Data: []byte("import os\n")},
			},
			want: []item{{rule: "MG1005", path: "r/pipe_x.py", sev: finding.SeverityMedium}},
			kind: "huggingface",
		},
		{
			name: "auto_map naming a missing file",
			files: fstest.MapFS{
				"r/config.json": {Data: []byte(`{"model_type": "x", "auto_map": {"AutoModel": "modeling_x.XModel"}}`)},
			},
			want: []item{{rule: "MG907", path: "r/config.json", modelLike: true}},
			kind: "huggingface",
		},
		{
			name: "weight map escaping the repository, bin shard that is safetensors",
			files: fstest.MapFS{
				"r/config.json":                      {Data: []byte(config)},
				"r/pytorch_model.bin.index.json":     {Data: []byte(`{"weight_map": {"a": "../../x.bin", "b": "pytorch_model-00001-of-00001.bin"}}`)},
				"r/pytorch_model-00001-of-00001.bin": {Data: st},
			},
			want: []item{
				{rule: "MG1004", path: "r/pytorch_model.bin.index.json", sev: finding.SeverityHigh},
				{rule: "MG1006", path: "r/pytorch_model-00001-of-00001.bin", sev: finding.SeverityHigh},
			},
			kind: "huggingface",
		},
		{
			name: "safetensors shard that is a torch zip",
			files: fstest.MapFS{
				"r/model.safetensors.index.json": {Data: []byte(`{"weight_map": {"a": "model-1.safetensors"}}`)},
				"r/model-1.safetensors":          {Data: torchZip},
			},
			want: []item{{rule: "MG1006", path: "r/model-1.safetensors", sev: finding.SeverityHigh}},
			kind: "huggingface",
		},
		{
			name: "LFS pointer shard is judged per file, not as a disguise",
			files: fstest.MapFS{
				"r/model.safetensors.index.json": {Data: []byte(`{"weight_map": {"a": "model-1.safetensors"}}`)},
				"r/model-1.safetensors":          {Data: []byte("version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n")},
			},
			want: []item{{rule: "MG904", path: "r/model-1.safetensors", modelLike: true}},
			kind: "huggingface",
		},
		{
			name: "weight_map of the wrong type",
			files: fstest.MapFS{
				"r/model.safetensors.index.json": {Data: []byte(`{"weight_map": [1, 2]}`)},
			},
			want: []item{{rule: "MG1007", path: "r/model.safetensors.index.json", sev: finding.SeverityMedium}},
			kind: "huggingface",
		},
		{
			name: "SavedModel asset and checkpoint shard missing",
			files: fstest.MapFS{
				"sm/saved_model.pb":                          {Data: fixture(t, "benign/tensorflow/vocab_table/saved_model.pb")},
				"sm/variables/variables.data-00000-of-00002": {Data: []byte{1, 2, 3, 4}},
			},
			want: []item{
				{rule: "MG907", path: "sm/saved_model.pb"},
			},
			kind: "tf-savedmodel",
		},
		{
			name: "ONNX external data missing",
			files: fstest.MapFS{
				"o/mlp.onnx": {Data: fixture(t, "benign/onnx/mlp_external_data.onnx")},
			},
			want: []item{{rule: "MG907", path: "o/mlp.onnx"}},
			kind: "onnx",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := run(t, tt.files, tt.strict)
			for _, w := range tt.want {
				if !has(rep, w) {
					t.Errorf("missing %+v in:%s", w, dump(rep))
				}
			}
			if strings.HasPrefix(tt.name, "LFS") {
				for _, f := range rep.Findings() {
					if f.RuleID == "MG1006" {
						t.Errorf("LFS pointer reported as a disguised shard: %s", f.Message)
					}
				}
			}
			if len(rep.Models) == 0 || rep.Models[0].Kind != tt.kind {
				t.Errorf("models %+v, want %s", rep.Models, tt.kind)
			}
		})
	}
}

// TestCompleteDirectoriesAreQuiet: the same layouts with every file present
// add nothing.
func TestCompleteDirectoriesAreQuiet(t *testing.T) {
	fsys := fstest.MapFS{
		"o/mlp_external_data.onnx":      {Data: fixture(t, "benign/onnx/mlp_external_data.onnx")},
		"o/mlp_external_data.onnx.data": {Data: fixture(t, "benign/onnx/mlp_external_data.onnx.data")},
		"sm/saved_model.pb":             {Data: fixture(t, "benign/tensorflow/dense_module/saved_model.pb")},
		"sm/keras_metadata.pb":          {Data: fixture(t, "benign/tensorflow/dense_module/keras_metadata.pb")},
	}
	rep := run(t, fsys, false)
	for _, fr := range rep.Files {
		if len(fr.Unscanned) > 0 {
			t.Errorf("%s: %+v", fr.Path, fr.Unscanned)
		}
		for _, f := range fr.Findings {
			if f.Severity >= finding.SeverityMedium {
				t.Errorf("%s: %s %s", fr.Path, f.RuleID, f.Message)
			}
		}
	}
	if len(rep.Models) != 2 {
		t.Errorf("models %+v", rep.Models)
	}
}

func TestRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range list.Default() {
		if a.Name() == "" || seen[a.Name()] {
			t.Errorf("analyzer name %q empty or repeated", a.Name())
		}
		seen[a.Name()] = true
	}
}

// TestWeightMapPastShardBound: a weight map checks a bounded number of
// shard files, so padding it with thousands of present shards must not
// hide a shard path that leaves the repository, and the shards past the
// bound must be reported as not scanned.
func TestWeightMapPastShardBound(t *testing.T) {
	const present = 1<<14 + 1 // one past huggingface.maxShards
	fsys := fstest.MapFS{}
	var wm strings.Builder
	wm.WriteString(`{"weight_map": {`)
	for i := range present {
		name := fmt.Sprintf("s%05d.txt", i)
		fsys["r/"+name] = &fstest.MapFile{Data: []byte("x")}
		fmt.Fprintf(&wm, `"t%d": %q, `, i, name)
	}
	wm.WriteString(`"last": "z/../../../etc/passwd"}}`)
	fsys["r/model.safetensors.index.json"] = &fstest.MapFile{Data: []byte(wm.String())}
	rep := run(t, fsys, false)
	for _, w := range []item{
		{rule: "MG1004", path: "r/model.safetensors.index.json", sev: finding.SeverityHigh},
		{rule: "MG902", path: "r/model.safetensors.index.json", modelLike: true},
	} {
		if !has(rep, w) {
			t.Errorf("missing %+v", w)
		}
	}
}

// TestOversizedMetadataNotScanned: transformers reads a config or weight
// map of any size; one larger than modelgate reads must be reported as not
// scanned (MG902), not dropped or reported at a lower severity than what
// it may hide.
func TestOversizedMetadataNotScanned(t *testing.T) {
	pad := func(prefix string, size int) []byte {
		b := []byte(prefix + `, "pad": "`)
		b = append(b, bytes.Repeat([]byte("x"), size)...)
		return append(b, `"}`...)
	}
	tests := []struct {
		name  string
		files fstest.MapFS
		want  item
	}{
		{"config.json over 64 MiB naming remote code",
			fstest.MapFS{"r/config.json": {Data: pad(`{"model_type": "x", "auto_map": {"AutoModel": "../../evil.Model"}`, 64<<20)}},
			item{rule: "MG902", path: "r/config.json", modelLike: true}},
		{"weight map over 32 MiB",
			fstest.MapFS{"r/model.safetensors.index.json": {Data: pad(`{"weight_map": {"a": "/etc/passwd"}`, 32<<20)}},
			item{rule: "MG902", path: "r/model.safetensors.index.json", modelLike: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := run(t, tt.files, false)
			if !has(rep, tt.want) {
				t.Errorf("missing %+v", tt.want)
			}
		})
	}
}
