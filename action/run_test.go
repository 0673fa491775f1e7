package action

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/report/cyclonedx/cyclonedxtest"
	"github.com/modelgate/modelgate/core/rules"
)

const (
	evilFixture  = "malicious/posix_system_reduce_p2.pkl"
	cleanFixture = "benign/sklearn_logreg.pkl"
)

func run(f *fakeRunner) Result {
	return Run(context.Background(), Env{Getenv: f.getenv, Stdout: &f.stdout})
}

func TestRunBlocksMaliciousModel(t *testing.T) {
	f := newFakeRunner(t)
	f.copyModel(evilFixture, "models/evil.pkl")
	f.copyModel(cleanFixture, "models/clean.pkl")
	f.input("path", "models/")
	f.input("upload-sarif", "false")
	res := run(f)
	if res.ExitCode != 1 {
		t.Fatalf("exit code %d, want 1\n%s", res.ExitCode, f.stdout.String())
	}
	out := f.outputs()
	want := map[string]string{"verdict": "fail", "findings": "1", "critical": "1", "high": "0", "medium": "0", "low": "0",
		"not-scanned": "0", "exit-code": "1",
		"sarif-file": filepath.Join(f.workspace, "modelgate.sarif"), "json-file": filepath.Join(f.temp, "modelgate-report.json")}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("output %s = %q, want %q", k, out[k], v)
		}
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
			} `json:"results"`
		} `json:"runs"`
	}
	data, err := os.ReadFile(out["sarif-file"])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &log); err != nil || len(log.Runs) != 1 || len(log.Runs[0].Results) != 1 || log.Runs[0].Results[0].RuleID != rules.DangerousCall {
		t.Errorf("SARIF file: %v %+v", err, log)
	}
	if _, err := os.Stat(out["json-file"]); err != nil {
		t.Errorf("JSON report: %v", err)
	}
	sum := f.summaryText()
	for _, s := range []string{"❌ modelgate blocked", "### Blocked files", "`models/evil.pkl`", "critical", "MG101",
		"`posix.system(", "Do not load this file", "suppressions:", `path: "models/evil.pkl"`, `global: "posix.system"`} {
		if !strings.Contains(sum, s) {
			t.Errorf("summary lacks %q:\n%s", s, sum)
		}
	}
	if strings.Contains(sum, "clean.pkl") {
		t.Errorf("summary names the clean file:\n%s", sum)
	}
	errs := f.commands("error")
	if len(errs) != 1 || !strings.HasPrefix(errs[0], "::error file=models/evil.pkl,line=1,title=MG101 ") || !strings.Contains(errs[0], "posix.system") {
		t.Errorf("error annotations = %q", errs)
	}
}

func TestRunPassesCleanModels(t *testing.T) {
	f := newFakeRunner(t)
	f.copyModel(cleanFixture, "models/clean.pkl")
	f.input("path", "models/*.pkl")
	f.input("upload-sarif", "false")
	res := run(f)
	if res.ExitCode != 0 {
		t.Fatalf("exit code %d\n%s", res.ExitCode, f.stdout.String())
	}
	out := f.outputs()
	if out["verdict"] != "pass" || out["findings"] != "0" || out["exit-code"] != "0" {
		t.Errorf("outputs %v", out)
	}
	if n := len(f.commands("error")) + len(f.commands("warning")); n != 0 {
		t.Errorf("%d annotations on a clean scan:\n%s", n, f.stdout.String())
	}
	if !strings.Contains(f.summaryText(), "✅ modelgate passed") {
		t.Errorf("summary:\n%s", f.summaryText())
	}
}

func TestRunFailsClosedOnBadPaths(t *testing.T) {
	for _, p := range []string{"missing/", "models/*.nothing", "../outside"} {
		t.Run(p, func(t *testing.T) {
			f := newFakeRunner(t)
			f.copyModel(cleanFixture, "models/clean.pkl")
			f.input("path", p)
			res := run(f)
			if res.ExitCode != 2 {
				t.Fatalf("exit code %d, want 2", res.ExitCode)
			}
			if out := f.outputs(); out["verdict"] != "fail" || out["exit-code"] != "2" {
				t.Errorf("outputs %v", out)
			}
			if len(f.commands("error")) != 1 || !strings.Contains(f.summaryText(), "could not run") {
				t.Errorf("stdout:\n%s\nsummary:\n%s", f.stdout.String(), f.summaryText())
			}
		})
	}
}

// A checkout without lfs: true leaves pointer files: the summary and an
// error annotation say how to fix the checkout, and the gate fails closed.
func TestRunLFSPointerSaysCheckOutWithLFS(t *testing.T) {
	f := newFakeRunner(t)
	ptr := "version https://git-lfs.github.com/spec/v1\noid sha256:" + strings.Repeat("4", 64) + "\nsize 12345\n"
	if err := os.MkdirAll(filepath.Join(f.workspace, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.workspace, "models", "model.pt"), []byte(ptr), 0o644); err != nil {
		t.Fatal(err)
	}
	f.input("path", "models")
	f.input("upload-sarif", "false")
	res := run(f)
	if res.ExitCode != 2 {
		t.Fatalf("exit code %d, want 2 (fail closed)\n%s", res.ExitCode, f.stdout.String())
	}
	if !strings.Contains(f.summaryText(), "check out with `lfs: true`") {
		t.Errorf("summary:\n%s", f.summaryText())
	}
	errs := f.commands("error")
	if len(errs) != 1 || !strings.Contains(errs[0], "file=models/model.pt") || !strings.Contains(errs[0], "lfs: true") {
		t.Errorf("error annotations %q", errs)
	}
	if out := f.outputs(); out["not-scanned"] != "1" || out["verdict"] != "fail" {
		t.Errorf("outputs %v", out)
	}
}

// The text report goes to the log between stop-commands markers, so that
// nothing a model file holds can act as a workflow command.
func TestRunLogStopsCommands(t *testing.T) {
	f := newFakeRunner(t)
	f.copyModel(evilFixture, "models/evil.pkl")
	f.input("upload-sarif", "false")
	run(f)
	lines := strings.Split(f.stdout.String(), "\n")
	if !strings.HasPrefix(lines[0], "::stop-commands::") {
		t.Fatalf("first line %q", lines[0])
	}
	token := strings.TrimPrefix(lines[0], "::stop-commands::")
	end := -1
	for i, l := range lines {
		if l == "::"+token+"::" {
			end = i
		}
	}
	if len(token) < 32 || end < 0 || !strings.Contains(strings.Join(lines[:end], "\n"), "posix.system") {
		t.Errorf("report not fenced by the stop-commands token:\n%s", f.stdout.String())
	}
}

func TestRunChangedOnlyScansOnlyTheChange(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("SKIPPED: git is not installed")
	}
	f := newFakeRunner(t)
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = f.workspace
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	f.copyModel(evilFixture, "models/old-evil.pkl") // already on the base: not this push's doing
	git("add", ".")
	git("commit", "-qm", "base")
	before := git("rev-parse", "HEAD")
	f.copyModel(cleanFixture, "models/new.pkl")
	git("add", ".")
	git("commit", "-qm", "add a clean model")
	after := git("rev-parse", "HEAD")
	f.event("push", fmt.Sprintf(`{"before": %q, "after": %q}`, before, after))
	f.input("changed-only", "true")
	f.input("path", "models/")
	f.input("upload-sarif", "false")
	res := run(f)
	if res.ExitCode != 0 {
		t.Fatalf("exit code %d, want 0: only models/new.pkl changed\n%s", res.ExitCode, f.stdout.String())
	}
	if len(res.Report.Files) != 1 || res.Report.Files[0].Path != "models/new.pkl" {
		t.Errorf("scanned %+v, want only models/new.pkl", res.Report.Files)
	}
	if !strings.Contains(f.summaryText(), "files changed in "+before+".."+after) {
		t.Errorf("summary scope:\n%s", f.summaryText())
	}
}

func synthetic(files []finding.FileResult, failOn finding.Severity) *report.Report {
	pol := policy.Default()
	code, verdict := pol.Decide(files, failOn)
	return report.Build(files, report.Options{FailOn: failOn, ExitCode: code, Verdict: verdict})
}

func TestAnnotationsCapAndCount(t *testing.T) {
	var fs []finding.Finding
	for i := range 15 {
		fs = append(fs, finding.Finding{RuleID: rules.DangerousCall, Severity: finding.SeverityCritical, Path: fmt.Sprintf("m/c%02d.pkl", i), Message: "calls os.system"})
	}
	for i := range 12 {
		fs = append(fs, finding.Finding{RuleID: rules.UnknownGlobal, Severity: finding.SeverityMedium, Path: fmt.Sprintf("m/w%02d.pkl", i), Message: "imports x.y"})
	}
	fs = append(fs, finding.Finding{RuleID: rules.UnknownGlobal, Severity: finding.SeverityHigh, Path: "m/high.pkl", Message: "high one"})
	fs = append(fs, finding.Finding{RuleID: rules.UnknownGlobal, Severity: finding.SeverityLow, Path: "m/low.pkl", Message: "low one"})
	rep := synthetic([]finding.FileResult{{Path: "m", Status: finding.StatusScanned, Findings: fs}}, finding.SeverityHigh)
	anns := Annotations(rep, policy.Default())
	count := map[string]int{}
	for _, a := range anns {
		count[a.Level]++
	}
	if count["error"] != 10 || count["warning"] != 10 || count["notice"] != 1 {
		t.Fatalf("levels %v", count)
	}
	for _, a := range anns[:10] {
		if a.sev != finding.SeverityCritical {
			t.Errorf("annotated %s before the criticals ran out", a.sev)
		}
	}
	// 6 errors (5 critical + 1 high) and 2 warnings did not fit.
	if last := anns[len(anns)-1]; !strings.Contains(last.Message, "8 more finding(s)") {
		t.Errorf("notice %q", last.Message)
	}
}

func TestSummaryStaysUnderGitHubLimit(t *testing.T) {
	var files []finding.FileResult
	for i := range 30000 {
		files = append(files, finding.FileResult{Path: fmt.Sprintf("models/m%05d.pkl", i), Status: finding.StatusScanned,
			Findings: []finding.Finding{{RuleID: rules.DangerousCall, Severity: finding.SeverityCritical, Path: fmt.Sprintf("models/m%05d.pkl", i),
				Global: "os.system", Call: "os.system('echo pwned')", Evidence: strings.Repeat("E", 100), Message: "calls os.system"}}})
	}
	rep := synthetic(files, finding.SeverityHigh)
	sum := Summary(rep, policy.Default(), SummaryInfo{})
	if len(sum) > MaxSummaryBytes {
		t.Fatalf("summary is %d bytes, over %d", len(sum), MaxSummaryBytes)
	}
	if !strings.Contains(sum, "cut at GitHub's 1 MiB limit") || !strings.Contains(sum, "suppressions:") {
		t.Errorf("summary tail:\n%s", sum[len(sum)-2000:])
	}
}

func TestSummaryEscapesModelContent(t *testing.T) {
	hostile := "a|b <img src=x onerror=alert(1)> @everyone [x](http://evil) `tick`\n| new row"
	rep := synthetic([]finding.FileResult{{Path: "m.pkl", Status: finding.StatusScanned, Findings: []finding.Finding{{
		RuleID: rules.DangerousCall, Severity: finding.SeverityCritical, Path: "m.pkl", Call: hostile, Evidence: hostile, Fix: hostile, Message: "x"}}}},
		finding.SeverityHigh)
	sum := Summary(rep, policy.Default(), SummaryInfo{})
	// Inside code spans GitHub renders text literally; outside them no
	// HTML, link, mention or new table row may survive.
	outside := regexp.MustCompile("`[^`]*`").ReplaceAllString(sum, "")
	for _, bad := range []string{"<img", "\n| new row", "[x](http", " @everyone"} {
		if strings.Contains(outside, bad) {
			t.Errorf("summary keeps %q outside code spans:\n%s", bad, sum)
		}
	}
	for _, line := range strings.Split(sum, "\n") {
		if strings.HasPrefix(line, "| `m.pkl`") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 7 {
			t.Errorf("row has extra cells: %s", line)
		}
	}
}

// Without a base to compare with (a push creating a branch), changed-only
// scans everything and says so: it never passes silently.
func TestRunChangedOnlyWithoutBaseScansEverything(t *testing.T) {
	f := newFakeRunner(t)
	f.copyModel(evilFixture, "models/evil.pkl")
	f.event("push", `{"before": "`+zeroSHA+`", "after": "`+strings.Repeat("a", 40)+`"}`)
	f.input("changed-only", "true")
	f.input("upload-sarif", "false")
	res := run(f)
	if res.ExitCode != 1 {
		t.Fatalf("exit %d, want 1", res.ExitCode)
	}
	n := f.commands("notice")
	if len(n) != 1 || !strings.Contains(n[0], "changed-only: the push creates a branch") {
		t.Errorf("notices %q", n)
	}
}

// A pull request whose base commit is not in a shallow checkout fails
// closed with a message that names the fix.
func TestRunChangedOnlyShallowCheckout(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("SKIPPED: git is not installed")
	}
	f := newFakeRunner(t)
	cmd := exec.Command("git", "init", "-q", f.workspace)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	f.copyModel(cleanFixture, "models/m.pkl")
	cmd = exec.Command("git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-C", f.workspace, "commit", "-qm", "x", "--allow-empty")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	prEvent(f, "octo/models")
	f.input("changed-only", "true")
	f.input("upload-sarif", "false")
	res := run(f)
	if res.ExitCode != 2 {
		t.Fatalf("exit %d, want 2", res.ExitCode)
	}
	if e := f.commands("error"); len(e) != 1 || !strings.Contains(e[0], "fetch-depth: 0") {
		t.Errorf("errors %q", e)
	}
}

// TestRunWritesCycloneDX: with cyclonedx-file the action also writes the
// models' ML-BOM, valid CycloneDX 1.6, for actions/upload-artifact.
func TestRunWritesCycloneDX(t *testing.T) {
	f := newFakeRunner(t)
	f.copyModel(evilFixture, "models/evil.pkl")
	f.copyModel(cleanFixture, "models/clean.pkl")
	f.input("path", "models/")
	f.input("upload-sarif", "false")
	f.input("cyclonedx-file", "out/models.cdx.json")
	if res := run(f); res.ExitCode != 1 {
		t.Fatalf("exit code %d", res.ExitCode)
	}
	out := f.outputs()
	if want := filepath.Join(f.workspace, "out", "models.cdx.json"); out["cyclonedx-file"] != want {
		t.Fatalf("cyclonedx-file output %q, want %q", out["cyclonedx-file"], want)
	}
	data, err := os.ReadFile(out["cyclonedx-file"])
	if err != nil {
		t.Fatal(err)
	}
	cyclonedxtest.Validate(t, "1.6", data)
	for _, want := range []string{`"model:models/evil.pkl"`, `"model:models/clean.pkl"`, `"SHA-256"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("BOM lacks %s", want)
		}
	}
}
