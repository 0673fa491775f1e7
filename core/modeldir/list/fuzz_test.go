package list_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/modelgate/modelgate/core/scan"
)

// FuzzAnalyzers feeds one hostile byte string to every analyzer at once (as
// an MLmodel, a config.json, a tokenizer config and a weight map in one
// directory) through scan.Run. Analyzer panics are recovered and reported
// as not scanned; here any such report is a bug.
func FuzzAnalyzers(f *testing.F) {
	f.Add([]byte("flavors:\n  python_function:\n    code: code\n    loader_module: x\n    python_model: ../p.pkl\n"))
	f.Add([]byte(`{"model_type": "x", "auto_map": {"AutoModel": ["a.B", null]}, "weight_map": {"t": "s.safetensors"}}`))
	f.Add([]byte(`{"custom_pipelines": {"t": {"impl": "..x"}}, "auto_map": {"A": "r--m.C"}, "weight_map": {"a": ""}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{
			"m/MLmodel":                      {Data: data},
			"m/config.json":                  {Data: data},
			"m/tokenizer_config.json":        {Data: data},
			"m/model.safetensors.index.json": {Data: data},
			"m/chat_template.jinja":          {Data: data},
			"m/code/os.py":                   {Data: []byte("x = 1\n")},
		}
		rep, err := scan.Run(context.Background(), scan.FS(fsys, ""), scan.Options{Jobs: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, fr := range rep.Files {
			for _, u := range fr.Unscanned {
				if strings.Contains(u.Reason, "panic") {
					t.Fatalf("%s: %s", fr.Path, u.Reason)
				}
			}
		}
	})
}
