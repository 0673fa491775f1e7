// Package reporttest builds the sample report that every report writer's
// golden tests render, from core/report/testdata/files.json.
package reporttest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
)

// Sample returns the shared report, made by version and relative to root,
// with fixed times so golden files are stable.
func Sample(t testing.TB, version, root string) *report.Report {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "testdata", "files.json"))
	if err != nil {
		t.Fatal(err)
	}
	var files []finding.FileResult
	if err := json.Unmarshal(b, &files); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rep := report.Build(files, report.Options{
		Tool:       report.Tool{Name: "modelgate", Version: version, URI: "https://github.com/modelgate/modelgate"},
		Root:       root,
		FailOn:     finding.SeverityHigh,
		ExitCode:   1,
		Verdict:    "3 findings at or above high",
		StartedAt:  start,
		FinishedAt: start.Add(1500 * time.Millisecond),
	})
	rep.Policy = report.PolicyInfo{Source: "built-in"}
	rep.Detectors = []report.Detector{{Name: "pickle", Version: "1.0.0"}, {Name: "pytorch-zip", Version: "1.0.0"}}
	return rep
}
