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
