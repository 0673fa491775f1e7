package jsonreport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/report/jsonreport"
	"github.com/modelgate/modelgate/core/report/reporttest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sample builds the report shared by the writer tests from
// core/report/testdata/files.json.
func sample(t *testing.T) *report.Report { return reporttest.Sample(t, "1.2.3", "/repo") }

func write(t *testing.T, r *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := jsonreport.New()
	if w.Name() != "json" {
		t.Errorf("Name = %q", w.Name())
	}
	if err := w.Write(context.Background(), &buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decoded is the JSON document as a consumer reads it.
type decoded struct {
	SchemaVersion string               `json:"schema_version"`
	Files         []finding.FileResult `json:"files"`
	Summary       report.Summary       `json:"summary"`
	Rules         []jsonreport.Rule    `json:"rules"`
}

func TestWrite(t *testing.T) {
	manual := &report.Report{ // not made by Build: no summary, no files
		Tool: report.Tool{Name: "modelgate", Version: "dev"},
	}
	tests := []struct {
		name   string
		r      *report.Report
		golden string
		rules  []string
	}{
		{"sample", sample(t), "sample.json", []string{"MG101", "MG102", "MG103", "MG108", "MG201", "MG903", "MG904", "MG905"}},
		{"manual", manual, "manual.json", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.r
			got := write(t, tt.r)
			if !reflect.DeepEqual(before, *tt.r) {
				t.Error("Write modified the report")
			}
			golden(t, tt.golden, got)

			var d decoded
			if err := json.Unmarshal(got, &d); err != nil {
				t.Fatal(err)
			}
			if d.SchemaVersion != report.SchemaVersion {
				t.Errorf("schema_version = %q", d.SchemaVersion)
			}
			if d.Files == nil || d.Rules == nil || d.Summary.BySeverity == nil {
				t.Error("files, rules or summary.by_severity is null")
			}
			ids := []string{}
			byID := map[string]jsonreport.Rule{}
			for _, r := range d.Rules {
				ids = append(ids, r.ID)
				byID[r.ID] = r
			}
			if !reflect.DeepEqual(ids, tt.rules) {
				t.Errorf("rules = %v, want %v", ids, tt.rules)
			}
			for _, f := range d.Files {
				for _, fd := range f.Findings {
					if r, ok := byID[fd.RuleID]; !ok || r.Title == "" || r.Fix == "" {
						t.Errorf("finding rule %s not documented in rules", fd.RuleID)
					}
				}
				for _, u := range f.Unscanned {
					if r, ok := byID[u.RuleID]; !ok || !r.NotScanned {
						t.Errorf("unscanned rule %s not documented as not_scanned", u.RuleID)
					}
				}
			}
		})
	}
}

func TestUnknownRule(t *testing.T) {
	r := report.Build([]finding.FileResult{{
		Path: "x.pkl", Status: finding.StatusScanned,
		Findings: []finding.Finding{{RuleID: "XP001", Severity: finding.SeverityHigh, Path: "x.pkl", Message: "plugin finding"}},
	}}, report.Options{})
	d := jsonreport.NewDocument(r)
	if len(d.Rules) != 1 || d.Rules[0].ID != "XP001" || d.Rules[0].Severity != finding.SeverityHigh || d.Rules[0].Title == "" {
		t.Errorf("rules = %+v", d.Rules)
	}
}

// TestDocumented checks that docs/json-report.md mentions every key the
// writer emits, as `key`.
func TestDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/json-report.md")
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(write(t, sample(t)), &v); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	var walk func(v any, parent string)
	walk = func(v any, parent string) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				if parent != "by_severity" {
					keys[k] = true
				}
				walk(c, k)
			}
		case []any:
			for _, c := range v {
				walk(c, parent)
			}
		}
	}
	walk(v, "")
	var missing []string
	for k := range keys {
		if !strings.Contains(string(doc), "`"+k+"`") {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("docs/json-report.md does not document %v", missing)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := jsonreport.New().Write(ctx, &bytes.Buffer{}, sample(t)); err == nil {
		t.Error("Write ignored a cancelled context")
	}
}

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
