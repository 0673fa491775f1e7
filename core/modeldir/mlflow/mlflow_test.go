package mlflow_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ulikunitz/xz"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/scan"
)

// Hand-assembled pickles: an int (plain data) and os.system (protocol 0).
var (
	plainPickle = []byte("\x80\x04K\x01.")
	evilPickle  = []byte("cos\nsystem\n(S'touch /tmp/modelgate-marker'\ntR.")
)

// xzBytes is what lzma.open (python_model_compression: lzma) writes.
func xzBytes(b []byte) []byte {
	var buf bytes.Buffer
	w, err := xz.NewWriter(&buf)
	if err != nil {
		panic(err)
	}
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

const sklearnMLmodel = `artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.2
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.2.1
mlflow_version: 2.12.1
model_uuid: 0f9b2c
run_id: 3a5d
utc_time_created: '2026-11-30 10:00:00.000000'
`

func pyfuncMLmodel(extra string) string {
	return `flavors:
  python_function:
    cloudpickle_version: 2.1.0
    code: code
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.pyfunc.model
    python_model: python_model.pkl
    python_version: 3.11.2
` + extra + `mlflow_version: 2.12.1
`
}

// partial is an fs.FS source that lists only some files but looks up all,
// as a git diff source does.
type partial struct {
	scan.Source
	all scan.Source
}

func (p partial) Lookup(ctx context.Context, path string) (scan.Entry, bool) {
	return p.all.(scan.Lookuper).Lookup(ctx, path)
}

func run(t *testing.T, src scan.Source, strict bool) *report.Report {
	t.Helper()
	opts := scan.Options{FailOn: "high"}
	if strict {
		pol, err := policy.Parse([]byte("strict: true\n"), "strict.yaml", timeNow())
		if err != nil {
			t.Fatal(err)
		}
		opts.Policy = pol
	}
	rep, err := scan.Run(context.Background(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

type want struct {
	rule, path string
	sev        finding.Severity
}

func TestMLflowDirectories(t *testing.T) {
	tests := []struct {
		name      string
		files     fstest.MapFS
		strict    bool
		want      []want
		unscanned []want // sev unused
		framework string
		clean     bool // nothing at medium or above, nothing unscanned
	}{
		{
			name: "benign sklearn",
			files: fstest.MapFS{
				"models/churn/MLmodel":    {Data: []byte(sklearnMLmodel)},
				"models/churn/model.pkl":  {Data: plainPickle},
				"models/churn/conda.yaml": {Data: []byte("name: mlflow-env\n")},
			},
			framework: "sklearn", clean: true,
		},
		{
			name: "loader_module outside MLflow",
			files: fstest.MapFS{
				"m/MLmodel":   {Data: []byte(strings.Replace(sklearnMLmodel, "loader_module: mlflow.sklearn", "loader_module: evil_loader", 1))},
				"m/model.pkl": {Data: plainPickle},
			},
			want: []want{{"MG1001", "m/MLmodel", finding.SeverityCritical}},
		},
		{
			name: "code shadows the standard library, other code is reviewed",
			files: fstest.MapFS{
				"m/MLmodel":                  {Data: []byte(pyfuncMLmodel(""))},
				"m/python_model.pkl":         {Data: plainPickle},
				"m/code/os.py":               {Data: []byte("import subprocess\n")},
				"m/code/sklearn/__init__.py": {Data: []byte("x = 1\n")},
				"m/code/helpers.py":          {Data: []byte("def f(): pass\n")},
				"m/code/test.py":             {Data: []byte("def test(): pass\n")},
			},
			want: []want{
				{"MG1003", "m/code/test.py", finding.SeverityMedium},
				{"MG1002", "m/code/sklearn/__init__.py", finding.SeverityCritical},
				{"MG1002", "m/code/os.py", finding.SeverityCritical},
				{"MG1003", "m/code/helpers.py", finding.SeverityMedium},
			},
		},
		{
			name: "strict raises bundled code to high",
			files: fstest.MapFS{
				"m/MLmodel":          {Data: []byte(pyfuncMLmodel(""))},
				"m/python_model.pkl": {Data: plainPickle},
				"m/code/helpers.py":  {Data: []byte("def f(): pass\n")},
			},
			strict: true,
			want:   []want{{"MG1003", "m/code/helpers.py", finding.SeverityHigh}},
		},
		{
			name: "models from code",
			files: fstest.MapFS{
				"m/MLmodel":  {Data: []byte("flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n    model_code_path: /home/u/project/agent.py\nmlflow_version: 2.17.0\n")},
				"m/agent.py": {Data: []byte("import mlflow\n")},
			},
			want: []want{{"MG1003", "m/agent.py", finding.SeverityMedium}},
		},
		{
			name: "gzip-compressed python_model",
			files: fstest.MapFS{
				"m/MLmodel":          {Data: []byte(pyfuncMLmodel(""))},
				"m/python_model.pkl": {Data: gz(evilPickle)},
			},
			want: []want{{"MG101", "m/python_model.pkl", finding.SeverityCritical}},
		},
		{
			name: "lzma-compressed python_model",
			files: fstest.MapFS{
				"m/MLmodel":          {Data: []byte(pyfuncMLmodel("    python_model_compression: lzma\n"))},
				"m/python_model.pkl": {Data: xzBytes(evilPickle)},
			},
			want: []want{{"MG101", "m/python_model.pkl", finding.SeverityCritical}},
		},
		{
			name: "path escaping the model directory",
			files: fstest.MapFS{
				"m/MLmodel": {Data: []byte(strings.Replace(sklearnMLmodel, "pickled_model: model.pkl", "pickled_model: ../../shared/model.pkl", 1))},
			},
			want: []want{{"MG1004", "m/MLmodel", finding.SeverityHigh}},
		},
		{
			name: "missing flavor file",
			files: fstest.MapFS{
				"m/MLmodel": {Data: []byte(pyfuncMLmodel(""))},
			},
			unscanned: []want{{rule: "MG907", path: "m/MLmodel"}},
		},
		{
			name: "duplicate keys fail closed",
			files: fstest.MapFS{
				"m/MLmodel": {Data: []byte("flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    loader_module: evil\n")},
			},
			unscanned: []want{{rule: "MG905", path: "m/MLmodel"}},
		},
		{
			name: "alias bomb is bounded",
			files: fstest.MapFS{
				"m/MLmodel": {Data: []byte(aliasBomb())},
			},
			unscanned: []want{{rule: "MG902", path: "m/MLmodel"}},
		},
		{
			name: "keras_module outside keras",
			files: fstest.MapFS{
				"m/MLmodel":       {Data: []byte("flavors:\n  keras:\n    data: data\n    keras_module: evil.keras\n    save_format: h5\n")},
				"m/data/model.h5": {Data: []byte("not really")},
			},
			want: []want{{"MG1001", "m/MLmodel", finding.SeverityCritical}},
		},
		{
			name: "pytorch data directory with extra files",
			files: fstest.MapFS{
				"m/MLmodel":                     {Data: []byte("flavors:\n  pytorch:\n    model_data: data\n    pytorch_version: 1.13.1\n  python_function:\n    data: data\n    loader_module: mlflow.pytorch\n")},
				"m/data/model.pth":              {Data: plainPickle},
				"m/data/pickle_module_info.txt": {Data: []byte("mlflow.pytorch.pickle_module")},
				"m/data/extra_files/labels.txt": {Data: []byte("cat\ndog\n")},
				"m/data/requirements.txt":       {Data: []byte("torch\n")},
			},
			framework: "pytorch", clean: true,
		},
		{
			name: "pytorch model.pth that no format recognises, foreign pickle module",
			files: fstest.MapFS{
				"m/MLmodel":                     {Data: []byte("flavors:\n  pytorch:\n    model_data: data\n")},
				"m/data/model.pth":              {Data: []byte("plain text where a pickle should be\n")},
				"m/data/pickle_module_info.txt": {Data: []byte("evil_pickle")},
			},
			want:      []want{{"MG1001", "m/data/pickle_module_info.txt", finding.SeverityCritical}},
			unscanned: []want{{rule: "MG901", path: "m/data/model.pth"}},
		},
		{
			name: "python_model that is Python source",
			files: fstest.MapFS{
				"m/MLmodel":  {Data: []byte("flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n    python_model: model.py\n")},
				"m/model.py": {Data: []byte("import mlflow\nmlflow.models.set_model(None)\n")},
			},
			want: []want{{"MG1003", "m/model.py", finding.SeverityMedium}},
		},
		{
			name: "code directory outside the model",
			files: fstest.MapFS{
				"m/MLmodel": {Data: []byte("flavors:\n  python_function:\n    code: ../../site-packages\n    loader_module: mlflow.pyfunc.model\n    python_model: p.pkl\n")},
				"m/p.pkl":   {Data: plainPickle},
			},
			want: []want{{"MG1004", "m/MLmodel", finding.SeverityHigh}},
		},
		{
			name: "binary file named MLmodel is not MLflow's",
			files: fstest.MapFS{
				"m/MLmodel": {Data: []byte{0, 1, 2, 3, 0xff, 0xfe, 0, 0}},
			},
			clean: true,
		},
		{
			name: "not an MLmodel",
			files: fstest.MapFS{
				"notes/MLmodel": {Data: []byte("just: some yaml\n")},
			},
			clean: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := run(t, scan.FS(tt.files, ""), tt.strict)
			for _, w := range tt.want {
				if !hasFinding(rep, w) {
					t.Errorf("missing %s at %s on %s; findings: %s", w.rule, w.sev, w.path, dump(rep))
				}
			}
			for _, w := range tt.unscanned {
				if !hasUnscanned(rep, w) {
					t.Errorf("missing not-scanned %s on %s; report: %s", w.rule, w.path, dump(rep))
				}
			}
			if tt.clean {
				for _, f := range rep.Findings() {
					if f.Severity >= finding.SeverityMedium {
						t.Errorf("benign: %s %s %s: %s", f.RuleID, f.Severity, f.Path, f.Message)
					}
				}
				for _, fr := range rep.Files {
					if len(fr.Unscanned) > 0 {
						t.Errorf("benign: %s not scanned: %+v", fr.Path, fr.Unscanned)
					}
				}
			}
			if tt.clean && tt.framework == "" && len(rep.Models) != 0 {
				t.Errorf("not an MLflow model, yet models = %+v", rep.Models)
			}
			if tt.framework != "" {
				if len(rep.Models) != 1 || rep.Models[0].Kind != "mlflow" || rep.Models[0].Framework != tt.framework {
					t.Errorf("models = %+v, want one mlflow %s", rep.Models, tt.framework)
				}
			}
		})
	}
}

// TestPartialSourceLooksUp: a diff that lists only the MLmodel still gets
// the unchanged pickle it names scanned, and nothing called missing.
func TestPartialSourceLooksUp(t *testing.T) {
	all := fstest.MapFS{
		"m/MLmodel":          {Data: []byte(pyfuncMLmodel(""))},
		"m/python_model.pkl": {Data: evilPickle},
	}
	src := partial{Source: scan.FS(all, "", "m/MLmodel"), all: scan.FS(all, "")}
	rep := run(t, src, false)
	if !hasFinding(rep, want{"MG101", "m/python_model.pkl", finding.SeverityCritical}) {
		t.Errorf("looked-up pickle not scanned: %s", dump(rep))
	}
	if hasUnscanned(rep, want{rule: "MG907", path: "m/MLmodel"}) {
		t.Errorf("a file Lookup finds was called missing: %s", dump(rep))
	}
	if len(rep.Models) != 1 || len(rep.Models[0].Files) != 2 {
		t.Errorf("models = %+v", rep.Models)
	}
}

func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n")
	return b.String()
}

func hasFinding(rep *report.Report, w want) bool {
	for _, f := range rep.Findings() {
		if f.RuleID == w.rule && f.Path == w.path && f.Severity == w.sev {
			return true
		}
	}
	return false
}

func hasUnscanned(rep *report.Report, w want) bool {
	for _, fr := range rep.Files {
		if fr.Path != w.path {
			continue
		}
		for _, u := range fr.Unscanned {
			if u.RuleID == w.rule {
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
			b.WriteString("\n  " + f.RuleID + " " + f.Severity.String() + " " + f.Path + ": " + f.Message)
		}
		for _, u := range fr.Unscanned {
			b.WriteString("\n  unscanned " + u.RuleID + " " + fr.Path + ": " + u.Reason)
		}
	}
	return b.String()
}

// TestPartialSourceFindsMLmodelAbove: a diff that changes only the bundled
// code file is still judged with the unchanged MLmodel above it.
func TestPartialSourceFindsMLmodelAbove(t *testing.T) {
	all := fstest.MapFS{
		"models/churn/MLmodel":          {Data: []byte(pyfuncMLmodel(""))},
		"models/churn/python_model.pkl": {Data: plainPickle},
		"models/churn/code/json.py":     {Data: []byte("import os\n")},
	}
	src := partial{Source: scan.FS(all, "", "models/churn/code/json.py"), all: scan.FS(all, "")}
	rep := run(t, src, false)
	if !hasFinding(rep, want{"MG1002", "models/churn/code/json.py", finding.SeverityCritical}) {
		t.Errorf("shadowing not found from a diff of the code file alone: %s", dump(rep))
	}
	if len(rep.Models) != 1 || rep.Models[0].Path != "models/churn" {
		t.Errorf("models = %+v", rep.Models)
	}
}

// TestBundledCodeAllowedByPath: a reviewed models-from-code file is
// accepted by a policy suppression for its path; the finding stays in the
// report, suppressed, and no longer fails a medium gate.
func TestBundledCodeAllowedByPath(t *testing.T) {
	files := fstest.MapFS{
		"m/MLmodel":  {Data: []byte("flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n    model_code_path: agent.py\n")},
		"m/agent.py": {Data: []byte("import mlflow\n")},
	}
	pol, err := policy.Parse([]byte("suppressions:\n  - {path: \"m/agent.py\", rule: MG1003, reason: reviewed}\n"), "p.yaml", timeNow())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := scan.Run(context.Background(), scan.FS(files, ""), scan.Options{Policy: pol, FailOn: "medium"})
	if err != nil {
		t.Fatal(err)
	}
	var got *finding.Finding
	for _, f := range rep.Findings() {
		if f.RuleID == "MG1003" && f.Path == "m/agent.py" {
			got = &f
		}
	}
	if got == nil || got.Suppression == nil {
		t.Fatalf("want a suppressed MG1003 on m/agent.py: %s", dump(rep))
	}
	if rep.Outcome != report.OutcomePass {
		t.Errorf("outcome %s, want pass", rep.Outcome)
	}
}
