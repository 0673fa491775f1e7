// Package report is the result model every writer renders: the files
// scanned, what was found in them, what could not be scanned, and the
// verdict. Writers live in subpackages, one per output format.
package report

import (
	"context"
	"io"
	"time"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/rules"
)

// SchemaVersion is the version of the JSON report schema (docs/json-report.md).
// Bump the major part on incompatible changes.
const SchemaVersion = "1.1"

// Tool identifies the producer of a report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	URI     string `json:"information_uri"`
}

// Summary counts what a report holds.
type Summary struct {
	Files      int            `json:"files"`
	Scanned    int            `json:"scanned"`
	Skipped    int            `json:"skipped"`
	NotScanned int            `json:"not_scanned"`
	Findings   int            `json:"findings"`
	Suppressed int            `json:"suppressed"`
	BySeverity map[string]int `json:"by_severity"`
}

// Report is the complete outcome of one scan.
type Report struct {
	SchemaVersion string    `json:"schema_version"`
	Tool          Tool      `json:"tool"`
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	// Root is the directory report paths are relative to.
	Root string `json:"root"`
	// FailOn is the severity threshold of the gate.
	FailOn finding.Severity `json:"fail_on"`
	// ExitCode is the process exit code the verdict maps to: 0 pass, 1
	// findings at or above FailOn, 2 unscanned content the policy fails on.
	ExitCode int `json:"exit_code"`
	// Verdict explains ExitCode in one sentence.
	Verdict string `json:"verdict"`
	// PolicyFile is the policy file the scan used ("" for the built-in one).
	PolicyFile string `json:"policy_file,omitempty"`
	// Warnings are configuration problems that did not stop the scan, such
	// as suppressions that expired or match no scanned file.
	Warnings []finding.Warning    `json:"warnings,omitempty"`
	Files    []finding.FileResult `json:"files"`
	Summary  Summary              `json:"summary"`
	// Rules is the catalogue the findings refer to.
	Rules *rules.Catalogue `json:"-"`
}

// Findings returns every finding in file order.
func (r *Report) Findings() []finding.Finding {
	var out []finding.Finding
	for _, f := range r.Files {
		out = append(out, f.Findings...)
	}
	return out
}

// Writer renders a report in one output format.
type Writer interface {
	// Name is the --format value, e.g. "sarif".
	Name() string
	Write(ctx context.Context, w io.Writer, r *Report) error
}
