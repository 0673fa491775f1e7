package policy

import (
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/finding"
)

// TestApplyDecide pins how suppressions, severity overrides and
// fail_on_unscanned turn results into the exit-code contract.
func TestApplyDecide(t *testing.T) {
	now := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	critical := finding.Finding{RuleID: "MG101", Severity: finding.SeverityCritical, Path: "models/a.pkl", Global: "posix.system"}
	unknown := finding.Finding{RuleID: "MG103", Severity: finding.SeverityMedium, Path: "models/a.pkl", Global: "mylib.Head"}
	encrypted := finding.Unscanned{RuleID: "MG903", Reason: "member is encrypted", ModelLike: true}
	notModel := finding.Unscanned{RuleID: "MG901", Reason: "unrecognised", ModelLike: false}
	file := func(fs []finding.Finding, us []finding.Unscanned) []finding.FileResult {
		return []finding.FileResult{{Path: "models/a.pkl", Findings: fs, Unscanned: us}}
	}
	tests := []struct {
		name   string
		cfg    Config
		files  []finding.FileResult
		failOn finding.Severity
		want   int
	}{
		{"clean", Config{}, file(nil, nil), finding.SeverityHigh, ExitClean},
		{"critical fails", Config{}, file([]finding.Finding{critical}, nil), finding.SeverityHigh, ExitFindings},
		{"medium below threshold", Config{}, file([]finding.Finding{unknown}, nil), finding.SeverityHigh, ExitClean},
		{"severity override raises", Config{Severity: map[string]finding.Severity{"MG103": finding.SeverityHigh}},
			file([]finding.Finding{unknown}, nil), finding.SeverityHigh, ExitFindings},
		{"suppressed by rule and global", Config{Suppressions: []Suppression{{Path: "models/*.pkl", Rule: "MG101", Global: "posix.system", Reason: "r"}}},
			file([]finding.Finding{critical}, nil), finding.SeverityHigh, ExitClean},
		{"suppression for another global", Config{Suppressions: []Suppression{{Path: "models/*.pkl", Rule: "MG101", Global: "os.system", Reason: "r"}}},
			file([]finding.Finding{critical}, nil), finding.SeverityHigh, ExitFindings},
		{"expired suppression", Config{Suppressions: []Suppression{{Path: "**/a.pkl", Rule: "MG101", Reason: "r", Expires: "2026-01-01"}}},
			file([]finding.Finding{critical}, nil), finding.SeverityHigh, ExitFindings},
		{"unscanned model fails closed", Config{}, file(nil, []finding.Unscanned{encrypted}), finding.SeverityHigh, ExitUnscanned},
		{"unscanned non-model passes", Config{}, file(nil, []finding.Unscanned{notModel}), finding.SeverityHigh, ExitClean},
		{"fail_on_unscanned all", Config{FailOnUnscanned: "all"}, file(nil, []finding.Unscanned{notModel}), finding.SeverityHigh, ExitUnscanned},
		{"fail_on_unscanned never", Config{FailOnUnscanned: "never"}, file(nil, []finding.Unscanned{encrypted}), finding.SeverityHigh, ExitClean},
		{"unscanned suppressed", Config{Suppressions: []Suppression{{Path: "models/a.pkl", Rule: "MG903", Reason: "vendor archive, reviewed"}}},
			file(nil, []finding.Unscanned{encrypted}), finding.SeverityHigh, ExitClean},
		{"global-specific suppression never accepts unscanned", Config{Suppressions: []Suppression{{Path: "models/a.pkl", Rule: "MG903", Global: "x.y", Reason: "r"}}},
			file(nil, []finding.Unscanned{encrypted}), finding.SeverityHigh, ExitUnscanned},
		{"findings win over unscanned", Config{}, file([]finding.Finding{critical}, []finding.Unscanned{encrypted}), finding.SeverityHigh, ExitFindings},
		{"fail-on never", Config{}, file([]finding.Finding{critical}, nil), finding.SeverityNone, ExitClean},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.cfg, now)
			if err != nil {
				t.Fatal(err)
			}
			p.Apply(tt.files)
			if got, verdict := p.Decide(tt.files, tt.failOn); got != tt.want {
				t.Errorf("exit %d (%s), want %d", got, verdict, tt.want)
			}
		})
	}
}

// TestNewRejects covers the policy mistakes that must be usage errors.
func TestNewRejects(t *testing.T) {
	for name, cfg := range map[string]Config{
		"suppression without reason": {Suppressions: []Suppression{{Path: "a", Rule: "MG101"}}},
		"suppression without path":   {Suppressions: []Suppression{{Rule: "MG101", Reason: "r"}}},
		"bad expiry":                 {Suppressions: []Suppression{{Path: "a", Reason: "r", Expires: "next year"}}},
		"bad fail_on_unscanned":      {FailOnUnscanned: "sometimes"},
	} {
		if _, err := New(cfg, time.Now()); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
