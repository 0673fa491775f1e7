package list_test

import (
	"context"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/modelgate/modelgate/core/scan"
)

// BenchmarkModelDirectories measures a scan of 200 MLflow and 200 Hugging
// Face directories (2,000 files) through scan.Run, with and without the
// model-directory analyzers, so their cost shows next to the per-file scan.
func BenchmarkModelDirectories(b *testing.B) {
	fsys := fstest.MapFS{}
	for i := range 200 {
		d := fmt.Sprintf("mlflow/m%03d", i)
		fsys[d+"/MLmodel"] = &fstest.MapFile{Data: []byte("flavors:\n  python_function:\n    code: code\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: cloudpickle\nmlflow_version: 2.12.1\n")}
		fsys[d+"/model.pkl"] = &fstest.MapFile{Data: []byte("\x80\x04K\x01.")}
		fsys[d+"/conda.yaml"] = &fstest.MapFile{Data: []byte("name: env\n")}
		h := fmt.Sprintf("hf/r%03d", i)
		fsys[h+"/config.json"] = &fstest.MapFile{Data: []byte(`{"model_type": "bert", "architectures": ["BertModel"]}`)}
		fsys[h+"/model.safetensors.index.json"] = &fstest.MapFile{Data: []byte(`{"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}}`)}
		fsys[h+"/s1.safetensors"] = &fstest.MapFile{Data: []byte("\x08\x00\x00\x00\x00\x00\x00\x00{}      ")}
		fsys[h+"/s2.safetensors"] = &fstest.MapFile{Data: []byte("\x08\x00\x00\x00\x00\x00\x00\x00{}      ")}
		fsys[h+"/tokenizer_config.json"] = &fstest.MapFile{Data: []byte(`{"tokenizer_class": "BertTokenizer"}`)}
		fsys[h+"/chat_template.jinja"] = &fstest.MapFile{Data: []byte("{% for m in messages %}{{ m['content'] }}{% endfor %}")}
	}
	for _, off := range []bool{false, true} {
		b.Run(fmt.Sprintf("NoModelDirs=%v", off), func(b *testing.B) {
			for b.Loop() {
				rep, err := scan.Run(context.Background(), scan.FS(fsys, ""), scan.Options{NoModelDirs: off})
				if err != nil {
					b.Fatal(err)
				}
				if !off && len(rep.Models) != 400 {
					b.Fatalf("models = %d", len(rep.Models))
				}
			}
		})
	}
}
