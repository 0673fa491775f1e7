package report_test

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
)

func loadFiles(t *testing.T) []finding.FileResult {
	t.Helper()
	b, err := os.ReadFile("testdata/files.json")
	if err != nil {
		t.Fatal(err)
	}
	var files []finding.FileResult
	if err := json.Unmarshal(b, &files); err != nil {
		t.Fatal(err)
	}
	return files
}

func TestBuild(t *testing.T) {
	files := loadFiles(t)
	orig := loadFiles(t)
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	r := report.Build(files, report.Options{
		Tool:       report.Tool{Name: "modelgate", Version: "1.2.3"},
		Root:       "/repo",
		FailOn:     finding.SeverityHigh,
		ExitCode:   1,
		Verdict:    "2 findings at or above high",
		StartedAt:  start,
		FinishedAt: start.Add(time.Second),
	})

	if !reflect.DeepEqual(files, orig) {
		t.Error("Build modified its input")
	}
	if r.SchemaVersion != report.SchemaVersion {
		t.Errorf("schema version %q", r.SchemaVersion)
	}
	if r.StartedAt.Location() != time.UTC || !r.StartedAt.Equal(start) {
		t.Errorf("StartedAt = %v, want %v in UTC", r.StartedAt, start)
	}
	if r.Rules == nil {
		t.Error("Rules not defaulted")
	}

	var paths []string
	for _, f := range r.Files {
		paths = append(paths, f.Path)
	}
	wantPaths := []string{"README.md", "broken.bin", "clean/model.safetensors", "lfs/big.safetensors", "models/evil model.pkl", "weights/модель.pt"}
	if !reflect.DeepEqual(paths, wantPaths) {
		t.Errorf("paths = %q, want %q", paths, wantPaths)
	}

	type key struct {
		rule   string
		member string
		offset int64
	}
	tests := []struct {
		path string
		want []key
	}{
		{"models/evil model.pkl", []key{{"MG101", "", 42}, {"MG102", "", 10}, {"MG103", "", 250}, {"MG103", "", 300}, {"MG108", "", 412}}},
		{"weights/модель.pt", []key{{"MG101", "archive/data.pkl", 77}, {"MG201", "archive/data.pkl", 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var got []key
			for _, f := range r.Files {
				if f.Path == tt.path {
					for _, fd := range f.Findings {
						got = append(got, key{fd.RuleID, fd.Member, fd.Offset})
					}
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("order = %v, want %v", got, tt.want)
			}
		})
	}

	want := report.Summary{
		Files: 6, Scanned: 2, Skipped: 1, NotScanned: 3,
		Findings: 6, Suppressed: 1,
		BySeverity: map[string]int{"critical": 2, "high": 1, "medium": 2, "low": 1},
	}
	if !reflect.DeepEqual(r.Summary, want) {
		t.Errorf("summary = %+v, want %+v", r.Summary, want)
	}

	ids := r.RuleIDs()
	wantIDs := []string{"MG101", "MG102", "MG103", "MG108", "MG201", "MG903", "MG904", "MG905"}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Errorf("RuleIDs = %v, want %v", ids, wantIDs)
	}
}

func TestSummarizeEmpty(t *testing.T) {
	s := report.Summarize(nil)
	if s.Files != 0 || s.Findings != 0 || len(s.BySeverity) != 4 {
		t.Errorf("empty summary = %+v", s)
	}
	r := report.Build(nil, report.Options{Rules: rules.Default()})
	if r.Files == nil {
		t.Error("Files is nil; want empty slice so JSON has []")
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		name string
		f    finding.FileResult
		want bool
	}{
		{"scanned", finding.FileResult{Status: finding.StatusScanned}, true},
		{"skipped", finding.FileResult{Status: finding.StatusSkipped}, true},
		{"not scanned", finding.FileResult{Status: finding.StatusNotScanned}, false},
		{"finding", finding.FileResult{Status: finding.StatusScanned, Findings: []finding.Finding{{RuleID: "MG101"}}}, false},
		{"unscanned member", finding.FileResult{Status: finding.StatusScanned, Unscanned: []finding.Unscanned{{RuleID: "MG903"}}}, false},
		{"error", finding.FileResult{Status: finding.StatusScanned, Error: "boom"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := report.Clean(&tt.f); got != tt.want {
				t.Errorf("Clean = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUnreportedError(t *testing.T) {
	tests := []struct {
		name string
		f    finding.FileResult
		want bool
	}{
		{"no error", finding.FileResult{}, false},
		{"error alone", finding.FileResult{Error: "boom"}, true},
		{"with MG905", finding.FileResult{Error: "boom", Unscanned: []finding.Unscanned{{RuleID: rules.NotScannedError, Reason: "open: boom"}}}, false},
		{"same reason", finding.FileResult{Error: "boom", Unscanned: []finding.Unscanned{{RuleID: rules.NotScannedLimit, Reason: "boom"}}}, false},
		{"member item only", finding.FileResult{Error: "boom", Unscanned: []finding.Unscanned{{RuleID: rules.NotScannedError, Member: "a", Reason: "x"}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := report.UnreportedError(&tt.f); got != tt.want {
				t.Errorf("UnreportedError = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain/path.pkl", "plain/path.pkl"},
		{"модель ü 模型.pt", "модель ü 模型.pt"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"line\nbreak\ttab", `line\nbreak\ttab`},
		{"bidi\u202eexe.pkl", `bidi\u202eexe.pkl`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"real \ufffd kept", "real \ufffd kept"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := report.Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
