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
const SchemaVersion = "1.2"

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
	// Outcome is the verdict as a value, so an adapter never parses exit
	// codes or sentences to tell "blocked by a finding" from "could not
	// scan".
	Outcome Outcome `json:"outcome"`
	// Policy says which policy judged the scan.
	Policy PolicyInfo `json:"policy"`
	// Detectors are the formats and plugins the scan ran, with versions.
	Detectors []Detector `json:"detectors,omitempty"`
	// Models are the model directories recognised in the scanned tree.
	Models []Model `json:"models,omitempty"`
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

// Outcome is a typed verdict.
type Outcome string

// Outcomes. The CLI maps them to the exit-code contract: 0, 1 and 2.
const (
	// OutcomePass: nothing at or above the threshold, nothing unscanned
	// that the policy fails closed on.
	OutcomePass Outcome = "pass"
	// OutcomeFailFindings: at least one active finding at or above the
	// threshold (findings win over unscanned content).
	OutcomeFailFindings Outcome = "fail-findings"
	// OutcomeFailUnscanned: content could not be scanned and the policy
	// fails closed on it.
	OutcomeFailUnscanned Outcome = "fail-unscanned"
)

// OutcomeForExitCode maps a policy exit code to its outcome.
func OutcomeForExitCode(code int) Outcome {
	switch code {
	case 0:
		return OutcomePass
	case 1:
		return OutcomeFailFindings
	}
	return OutcomeFailUnscanned
}

// ExitCode maps an outcome to the exit-code contract.
func (o Outcome) ExitCode() int {
	switch o {
	case OutcomePass:
		return 0
	case OutcomeFailFindings:
		return 1
	}
	return 2
}

// Failed reports whether the outcome fails the gate.
func (o Outcome) Failed() bool { return o != OutcomePass }

// PolicyInfo describes the policy a scan applied.
type PolicyInfo struct {
	// Source is the policy file's path, or "built-in", or a caller's label
	// for a policy given as bytes or a struct.
	Source string `json:"source"`
}

// Detector is one format or plugin that took part in a scan.
type Detector struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Plugin is set for out-of-process detectors.
	Plugin bool `json:"plugin,omitempty"`
}

// Model is a model directory: files that a loader reads together (an
// MLflow MLmodel directory, a Hugging Face repository, a SavedModel).
type Model struct {
	// Path is the directory, relative to the report root ("." for the
	// root itself).
	Path string `json:"path"`
	// Kind is the layout: "mlflow", "huggingface", "tf-savedmodel" ...
	Kind string `json:"kind"`
	// Framework names the flavor or library, e.g. "sklearn".
	Framework string `json:"framework,omitempty"`
	// Files are the report paths of the model's files.
	Files []string `json:"files"`
	// Properties are what the headers say (versions, flavors), namespaced
	// keys to string values.
	Properties map[string]string `json:"properties,omitempty"`
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
