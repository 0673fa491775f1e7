package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/finding"
)

func TestLoadErrorsAndAudit(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for body, want := range map[string]string{
		"strict: true\nfail_on_unscaned: all\n":                     `p.yaml:2:1: unknown key "fail_on_unscaned" (did you mean "fail_on_unscanned"?)`,
		"suppressions:\n  - path: a\n    reason: x\n    globl: y\n": `p.yaml:4:5: unknown key "globl" (did you mean "global"?)`,
		"zzz: 1\n": `unknown key "zzz" (valid keys: allow_code_sha256, allow_globals, deny_globals,`,
		"suppressions:\n  - path: a\n    reason: \"Reviewed YYYY-MM-DD by NAME: why this file is safe\"\n": "still the template",
		"strict: [\n": "parse policy",
	} {
		_, err := Load(write("p.yaml", body), now)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", body, err, want)
		}
	}
	p, err := Load(write("p.yaml", `suppressions:
  - path: models/a.pkl
    reason: reviewed by Ana on 2026-11-30
  - path: models/b.pkl
    reason: reviewed by Ana on 2020-01-01
    expires: "2020-02-01"
  - path: nosuch/*.pkl
    reason: reviewed by Ana on 2026-11-30
`), now)
	if err != nil {
		t.Fatal(err)
	}
	// Report paths relative to a subdirectory of the policy's directory.
	sub := filepath.Join(dir, "models")
	p = p.ForRoot(sub)
	files := []finding.FileResult{
		{Path: "a.pkl", Findings: []finding.Finding{{RuleID: "MG101", Severity: finding.SeverityCritical}}},
		{Path: "b.pkl", Findings: []finding.Finding{{RuleID: "MG101", Severity: finding.SeverityCritical}}},
	}
	p.Apply(files)
	if files[0].Findings[0].Suppression == nil || files[1].Findings[0].Suppression != nil {
		t.Errorf("suppressions: a %v, b %v", files[0].Findings[0].Suppression, files[1].Findings[0].Suppression)
	}
	if _, ok := p.ExpiredSuppression("MG101", "", "b.pkl"); !ok {
		t.Error("expired suppression of b.pkl not found")
	}
	ws := p.Audit(files)
	if len(ws) != 2 || ws[0].Kind != finding.WarnSuppressionExpired || !strings.Contains(ws[0].Message, "1 finding(s)") ||
		ws[1].Kind != finding.WarnSuppressionUnmatched || !strings.Contains(ws[1].Message, "suppression 3") {
		t.Errorf("audit: %+v", ws)
	}
}
