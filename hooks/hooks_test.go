package hooks

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
)

func TestScript(t *testing.T) {
	s := Script("/opt/it's here/modelgate", []string{"--policy", "a b.yaml"}, "pre-commit", true)
	for _, want := range []string{
		"#!/bin/sh\n",
		marker,
		`modelgate='/opt/it'\''s here/modelgate'`,
		`scan --staged --hook '--policy' 'a b.yaml'`,
		"pre-commit" + chainedSuffix,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(Script("/x", nil, "pre-commit", false), chainedSuffix) {
		t.Error("unchained script runs a chained hook")
	}
	if sh, err := exec.LookPath("sh"); err == nil {
		f := filepath.Join(t.TempDir(), "hook")
		if err := os.WriteFile(f, []byte(s), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(sh, "-n", f).CombinedOutput(); err != nil {
			t.Errorf("sh -n: %v\n%s", err, out)
		}
	}
}

func TestWriteBlockMessage(t *testing.T) {
	files := []finding.FileResult{
		{Path: "models/evil.pkl", Findings: []finding.Finding{
			{RuleID: "MG101", Severity: finding.SeverityCritical, Path: "models/evil.pkl", Global: "posix.system",
				Message: "calls posix.system\x1b[2J when loaded"},
			{RuleID: "MG103", Severity: finding.SeverityMedium, Path: "models/evil.pkl", Message: "below the gate"},
		}},
		{Path: "ok.pkl", Findings: []finding.Finding{
			{RuleID: "MG101", Severity: finding.SeverityCritical, Path: "ok.pkl", Message: "reviewed",
				Suppression: &finding.Suppression{Reason: "ours"}},
		}},
		{Path: "cat.png", Unscanned: []finding.Unscanned{{RuleID: "MG904", Reason: "image pointer", ModelLike: false}}},
		{Path: "w.bin", Unscanned: []finding.Unscanned{{RuleID: "MG904", Reason: "object missing", ModelLike: true}}},
	}
	pol := policy.Default()
	code, verdict := pol.Decide(files, finding.SeverityHigh)
	rep := report.Build(files, report.Options{Rules: rules.Default(), FailOn: finding.SeverityHigh, ExitCode: code, Verdict: verdict})
	var buf bytes.Buffer
	if err := WriteBlockMessage(&buf, rep, pol, MessageOptions{PolicyFile: ".modelgate.yaml", Staged: true}); err != nil {
		t.Fatal(err)
	}
	msg := buf.String()
	for _, want := range []string{"models/evil.pkl", "MG101 (critical)", "fix: ", "w.bin", "MG904 (not scanned)",
		".modelgate.yaml", `path: "models/evil.pkl"`, `global: "posix.system"`, "reason:", "git restore --staged"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	for _, unwanted := range []string{"ok.pkl", "cat.png", "below the gate", "\x1b"} {
		if strings.Contains(msg, unwanted) {
			t.Errorf("message should not contain %q:\n%s", unwanted, msg)
		}
	}

	buf.Reset()
	clean := report.Build(nil, report.Options{Rules: rules.Default(), FailOn: finding.SeverityHigh})
	if err := WriteBlockMessage(&buf, clean, pol, MessageOptions{}); err != nil || buf.Len() != 0 {
		t.Errorf("passing report printed %q (err %v)", buf.String(), err)
	}
}

// TestBlockMessageEveryItem: every blocked file gets its evidence (the
// call with its argument) and its own suppression snippet, not-scanned
// items included; the heading says a commit was blocked only when a
// commit ran the hook.
func TestBlockMessageEveryItem(t *testing.T) {
	files := []finding.FileResult{
		{Path: "a.pkl", Findings: []finding.Finding{{RuleID: "MG101", Severity: finding.SeverityCritical, Path: "a.pkl",
			Global: "posix.system", Call: `posix.system("touch /tmp/x")`, Message: "calls posix.system when loaded"}}},
		{Path: "b.pt", Findings: []finding.Finding{{RuleID: "MG102", Severity: finding.SeverityHigh, Path: "b.pt",
			Global: "builtins.eval", Evidence: "GLOBAL builtins eval", Message: "imports builtins.eval"}}},
		{Path: "c.bin", Unscanned: []finding.Unscanned{{RuleID: "MG901", Reason: "unrecognised", ModelLike: true}}},
	}
	pol := policy.Default()
	code, verdict := pol.Decide(files, finding.SeverityHigh)
	rep := report.Build(files, report.Options{Rules: rules.Default(), FailOn: finding.SeverityHigh, ExitCode: code, Verdict: verdict})
	for _, inCommit := range []bool{true, false} {
		var buf bytes.Buffer
		if err := WriteBlockMessage(&buf, rep, pol, MessageOptions{InCommit: inCommit}); err != nil {
			t.Fatal(err)
		}
		msg := buf.String()
		for _, want := range []string{`call: posix.system("touch /tmp/x")`, "evidence: GLOBAL builtins eval",
			`path: "a.pkl"`, `path: "b.pt"`, `global: "builtins.eval"`, `path: "c.bin"`, "rule: MG901"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message lacks %q:\n%s", want, msg)
			}
		}
		if got := strings.Contains(msg, "blocked this commit"); got != inCommit {
			t.Errorf("InCommit=%v but 'blocked this commit' present=%v:\n%s", inCommit, got, msg)
		}
	}
}

// TestCleanSummary: a suppressed finding is named with its reason, a
// clean check is one line, and no model staged prints nothing.
func TestCleanSummary(t *testing.T) {
	cases := []struct {
		name  string
		files []finding.FileResult
		want  string
		full  bool
	}{
		{"suppressed", []finding.FileResult{{Path: "a.pkl", Status: finding.StatusScanned, Findings: []finding.Finding{{RuleID: "MG101",
			Severity: finding.SeverityCritical, Suppression: &finding.Suppression{Reason: "fixture, reviewed by Ana"}}}}},
			"modelgate: 1 model file(s) checked, 1 finding suppressed (fixture, reviewed by Ana)\n", false},
		{"suppressed not scanned", []finding.FileResult{{Path: "w.bin", Status: finding.StatusNotScanned, Unscanned: []finding.Unscanned{{RuleID: "MG901",
			ModelLike: true, Suppression: &finding.Suppression{Reason: "our own format"}}}}},
			"modelgate: 0 model file(s) checked, 1 finding suppressed (our own format)\n", false},
		{"clean", []finding.FileResult{{Path: "a.pkl", Status: finding.StatusScanned}}, "modelgate: 1 model file(s) checked, nothing found\n", false},
		{"no model", []finding.FileResult{{Path: "README.md", Status: finding.StatusSkipped}}, "", false},
		{"below the gate", []finding.FileResult{{Path: "a.pkl", Status: finding.StatusScanned, Findings: []finding.Finding{{RuleID: "MG103", Severity: finding.SeverityMedium}}}}, "", true},
	}
	for _, tc := range cases {
		rep := report.Build(tc.files, report.Options{Rules: rules.Default(), FailOn: finding.SeverityHigh})
		if got := WorthFullReport(rep); got != tc.full {
			t.Errorf("%s: WorthFullReport = %v, want %v", tc.name, got, tc.full)
		}
		if tc.full {
			continue
		}
		var buf bytes.Buffer
		if err := WriteCleanSummary(&buf, rep); err != nil {
			t.Fatal(err)
		}
		if buf.String() != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, buf.String(), tc.want)
		}
	}
}
