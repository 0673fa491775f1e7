package gitlab_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/report/reporttest"
	"github.com/modelgate/modelgate/gitlab"
)

var (
	sectionStart = regexp.MustCompile(`^\x1b\[0Ksection_start:(\d+):([A-Za-z0-9_.-]+)\[collapsed=true\]\r\x1b\[0K(.*)$`)
	sectionEnd   = regexp.MustCompile(`^\x1b\[0Ksection_end:(\d+):([A-Za-z0-9_.-]+)\r\x1b\[0K$`)
)

// logSections parses a job log into its sections, failing t on unbalanced
// or nested markers, and returns the lines outside any section.
func logSections(t *testing.T, log string) (headers []string, outside []string) {
	t.Helper()
	open := ""
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		if m := sectionStart.FindStringSubmatch(line); m != nil {
			if open != "" {
				t.Errorf("section %s opened inside %s", m[2], open)
			}
			if seen[m[2]] {
				t.Errorf("section name %s used twice", m[2])
			}
			seen[m[2]], open = true, m[2]
			headers = append(headers, m[3])
			continue
		}
		if m := sectionEnd.FindStringSubmatch(line); m != nil {
			if m[2] != open {
				t.Errorf("section_end %s closes %q", m[2], open)
			}
			open = ""
			continue
		}
		if strings.Contains(line, "section_") && strings.Contains(line, "\x1b") {
			t.Errorf("malformed or forged section marker: %q", line)
		}
		if open == "" {
			outside = append(outside, line)
		}
	}
	if open != "" {
		t.Errorf("section %s never closed", open)
	}
	return headers, outside
}

func TestJobLogSectionsAndVerdict(t *testing.T) {
	r := reporttest.Sample(t, "v1.2.3", "/home/ci/my repo")
	log := string(render(t, gitlab.NewLog(gitlab.LogOptions{}), r))
	headers, outside := logSections(t, log)
	notClean := 0
	for i := range r.Files {
		if !report.Clean(&r.Files[i]) {
			notClean++
		}
	}
	// One section per file with something to say, one for the clean files.
	if len(headers) != notClean+1 {
		t.Errorf("%d sections, want %d: %q", len(headers), notClean+1, headers)
	}
	joined := strings.Join(outside, "\n")
	for _, want := range []string{"Files: ", "Findings: ", "FAIL: 3 findings at or above high (exit 1)"} {
		if !strings.Contains(joined, want) {
			t.Errorf("outside the sections, %q is missing:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "MG101") {
		t.Errorf("per-finding detail leaked outside the sections:\n%s", joined)
	}
	if last := outside[len(outside)-1]; !strings.HasPrefix(last, "FAIL:") {
		t.Errorf("last line %q, want the verdict", last)
	}
	if strings.Contains(log, "\x1b[1;31m") {
		t.Error("colour without Color")
	}
	colored := string(render(t, gitlab.NewLog(gitlab.LogOptions{Color: true}), r))
	logSections(t, colored)
	if !strings.Contains(colored, "\x1b[1;31mFAIL:") {
		t.Error("Color: the verdict is not red")
	}
}

// TestJobLogEscapesHostileNames: a file name carrying a carriage return
// and ANSI sequences must not close the section or forge a new one.
func TestJobLogEscapesHostileNames(t *testing.T) {
	evil := "m.pkl\r\x1b[0Ksection_end:1:modelgate_1\r\x1b[0K\nPASS: all clean"
	r := report.Build([]finding.FileResult{{Path: evil, Status: finding.StatusScanned, Findings: []finding.Finding{{
		RuleID: "MG101", Severity: finding.SeverityCritical, Path: evil, Offset: 3, Global: "os.system\x1b[2J", Message: "calls os.system",
	}}}}, report.Options{Tool: tool, FailOn: finding.SeverityHigh, ExitCode: 1, Verdict: "1 finding at or above high"})
	log := string(render(t, gitlab.NewLog(gitlab.LogOptions{}), r))
	headers, outside := logSections(t, log)
	if len(headers) != 1 {
		t.Errorf("sections %q", headers)
	}
	for _, l := range outside {
		if strings.HasPrefix(l, "PASS") {
			t.Errorf("a file name forged a verdict line: %q", l)
		}
	}
	if strings.Contains(log, "\x1b[2J") || strings.Count(log, "\r") != 2 {
		t.Errorf("control characters from the scanned file reached the log: %q", log)
	}
}

func TestRunnerShowsColor(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	if !gitlab.RunnerShowsColor(env(map[string]string{"GITLAB_CI": "true"})) {
		t.Error("no colour in a GitLab job")
	}
	if gitlab.RunnerShowsColor(env(map[string]string{"GITLAB_CI": "true", "NO_COLOR": "1"})) {
		t.Error("colour despite NO_COLOR")
	}
	if gitlab.RunnerShowsColor(env(nil)) {
		t.Error("colour outside GitLab")
	}
}
