package gitsource

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelgate/modelgate/core/scan"
)

// TestDiffSourceModelDirectory: a real git repository where the second
// commit adds only models/churn/code/json.py. The diff lists that file
// alone; the MLmodel and the pickle it names come from Lookup on HEAD, so
// the shadowing is found and nothing unchanged is called missing.
func TestDiffSourceModelDirectory(t *testing.T) {
	dir := t.TempDir()
	clearGitEnv(t, dir)
	gitInit(t, dir, "init", "-q", "-b", "main")
	write := func(p, data string) {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("models/churn/MLmodel", "flavors:\n  python_function:\n    code: code\n    loader_module: mlflow.pyfunc.model\n    python_model: python_model.pkl\nmlflow_version: 2.12.1\n")
	write("models/churn/python_model.pkl", "\x80\x04K\x01.")
	gitInit(t, dir, "add", ".")
	gitInit(t, dir, "commit", "-q", "-m", "model")
	write("models/churn/code/json.py", "import os\n")
	gitInit(t, dir, "add", ".")
	gitInit(t, dir, "commit", "-q", "-m", "helper")
	l, err := Locate(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(l)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src, err := r.DiffSource(ctx, "HEAD~1..HEAD", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := scan.Run(ctx, src, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range rep.Findings() {
		if f.RuleID == "MG1002" && f.Path == "models/churn/code/json.py" {
			found = true
		}
	}
	if !found {
		t.Errorf("code/json.py shadowing not found in the diff: %+v", rep.Files)
	}
	for _, fr := range rep.Files {
		for _, u := range fr.Unscanned {
			t.Errorf("%s: not scanned %s: %s", fr.Path, u.RuleID, u.Reason)
		}
	}
	if len(rep.Models) != 1 || rep.Models[0].Path != "models/churn" || rep.Models[0].Kind != "mlflow" {
		t.Errorf("models %+v", rep.Models)
	}
}
