package test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/scan"
)

// modelDirFixture is one entry of fixtures/modeldirs-manifest.json, which
// test/gen_modeldir_fixtures.py writes.
type modelDirFixture struct {
	Dir       string `json:"dir"`
	Label     string `json:"label"`
	Technique string `json:"technique"`
	Expect    struct {
		Rule      string `json:"rule"`
		Severity  string `json:"severity"`
		Path      string `json:"path"`
		Unscanned string `json:"unscanned"`
		Model     string `json:"model"`
		Framework string `json:"framework"`
	} `json:"expect"`
	Proven bool `json:"proven"`
}

func loadModelDirManifest(t *testing.T) []modelDirFixture {
	t.Helper()
	data, err := os.ReadFile("fixtures/modeldirs-manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var out []modelDirFixture
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("empty model-directory manifest")
	}
	return out
}

// scanModelDir scans one fixture directory through the one entry point,
// with report paths relative to the directory.
func scanModelDir(t *testing.T, dir string) *report.Report {
	t.Helper()
	root := filepath.Join("fixtures", filepath.FromSlash(dir))
	rep, err := scan.Run(context.Background(), scan.Paths([]string{root}, root), scan.Options{FailOn: "high"})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestModelDirFixtures is the acceptance criterion of the model-directory
// analyzers: every malicious directory is reported with the rule, severity
// and file the manifest states; every benign one is recognised as its
// model kind and passes with nothing at medium or above and nothing left
// unscanned.
func TestModelDirFixtures(t *testing.T) {
	var detected, malicious, clean, benign int
	for _, fx := range loadModelDirManifest(t) {
		t.Run(strings.ReplaceAll(fx.Dir, "/", "_"), func(t *testing.T) {
			rep := scanModelDir(t, fx.Dir)
			switch fx.Label {
			case "malicious":
				malicious++
				ok := false
				if fx.Expect.Unscanned != "" {
					ok = unscannedOn(rep, fx.Expect.Unscanned, fx.Expect.Path) && rep.Outcome == report.OutcomeFailUnscanned
				} else {
					sev, err := finding.ParseSeverity(fx.Expect.Severity)
					if err != nil {
						t.Fatal(err)
					}
					ok = findingOn(rep, fx.Expect.Rule, sev, fx.Expect.Path)
					if sev >= finding.SeverityHigh && !rep.Outcome.Failed() {
						ok = false
					}
				}
				if !ok {
					t.Errorf("%s (%s): want %+v; outcome %s; got %s", fx.Dir, fx.Technique, fx.Expect, rep.Outcome, describeReport(rep))
					return
				}
				if len(rep.Models) == 0 {
					t.Errorf("%s: no model directory recognised", fx.Dir)
					return
				}
				detected++
			case "benign":
				benign++
				bad := false
				for _, f := range rep.Findings() {
					if f.Severity >= finding.SeverityMedium {
						bad = true
					}
				}
				for _, fr := range rep.Files {
					if len(fr.Unscanned) > 0 {
						bad = true
					}
				}
				if bad || rep.Outcome != report.OutcomePass {
					t.Errorf("%s: benign directory got %s: %s", fx.Dir, rep.Outcome, describeReport(rep))
					return
				}
				if len(rep.Models) != 1 || rep.Models[0].Kind != fx.Expect.Model ||
					(fx.Expect.Framework != "" && rep.Models[0].Framework != fx.Expect.Framework) {
					t.Errorf("%s: models %+v, want one %s %s", fx.Dir, rep.Models, fx.Expect.Model, fx.Expect.Framework)
					return
				}
				clean++
			}
		})
	}
	t.Logf("model directories: malicious reported as stated %d/%d; benign clean %d/%d", detected, malicious, clean, benign)
}

func findingOn(rep *report.Report, rule string, sev finding.Severity, path string) bool {
	for _, f := range rep.Findings() {
		if f.RuleID == rule && f.Severity == sev && f.Path == path {
			return true
		}
	}
	return false
}

func unscannedOn(rep *report.Report, rule, path string) bool {
	for _, fr := range rep.Files {
		for _, u := range fr.Unscanned {
			if fr.Path == path && u.RuleID == rule {
				return true
			}
		}
	}
	return false
}

func describeReport(rep *report.Report) string {
	var b strings.Builder
	for _, fr := range rep.Files {
		for _, f := range fr.Findings {
			b.WriteString("\n  " + f.RuleID + " " + f.Severity.String() + " " + f.Path + ": " + f.Message)
		}
		for _, u := range fr.Unscanned {
			b.WriteString("\n  not scanned " + u.RuleID + " " + fr.Path + ": " + u.Reason)
		}
	}
	return b.String()
}
