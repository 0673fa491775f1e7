// Package finding defines what a scan reports: severities, findings and the
// per-file record of how completely a file was scanned.
package finding

import (
	"fmt"
	"strings"
)

// Severity orders findings. The zero value is SeverityNone so that an unset
// severity never accidentally fails a gate.
type Severity int

// Severities from least to most serious.
const (
	SeverityNone Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"none", "low", "medium", "high", "critical"}

// String returns the lower-case name used in every report format.
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity accepts the lower-case names (and "never", which maps to
// SeverityNone and therefore can never be reached by a finding).
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return SeverityCritical, nil
	case "high":
		return SeverityHigh, nil
	case "medium":
		return SeverityMedium, nil
	case "low":
		return SeverityLow, nil
	case "never", "none":
		return SeverityNone, nil
	}
	return SeverityNone, fmt.Errorf("unknown severity %q (want critical, high, medium, low or never)", s)
}

// MarshalText makes severities render as names in JSON and YAML.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Finding is one instance of a rule firing. Rule documentation (what, why,
// how to fix) lives in package rules; only instance data lives here.
type Finding struct {
	RuleID   string   `json:"rule_id"`
	Severity Severity `json:"severity"`
	// Path is the scanned file, relative to the report root, '/'-separated.
	Path string `json:"path"`
	// Member locates the finding inside containers, outermost first, joined
	// by "!" (e.g. "archive/data.pkl" or "inner.zip!archive/data.pkl").
	Member string `json:"member,omitempty"`
	// Offset is the byte offset inside the innermost member (or the file),
	// or -1 when it is not meaningful.
	Offset int64 `json:"offset"`
	// Global is the fully qualified name involved, e.g. "os.system".
	Global string `json:"global,omitempty"`
	// Call renders the invocation with its constant arguments, when known.
	Call    string `json:"call,omitempty"`
	Message string `json:"message"`
	// Evidence is a short excerpt supporting the finding.
	Evidence string `json:"evidence,omitempty"`
	Fix      string `json:"fix,omitempty"`
	// SHA256 is the hex digest of the top-level file.
	SHA256 string `json:"sha256,omitempty"`
	// Suppression is set when the policy suppressed this finding; suppressed
	// findings are reported but never fail the gate.
	Suppression *Suppression `json:"suppression,omitempty"`
}

// Location renders path and member the way humans read it.
func (f *Finding) Location() string {
	if f.Member == "" {
		return f.Path
	}
	return f.Path + " member " + f.Member
}

// Suppression records why a reviewed finding is accepted.
type Suppression struct {
	Reason  string `json:"reason"`
	Expires string `json:"expires,omitempty"`
}

// Warning is a problem with the configuration that did not stop the scan
// but that a user must see, such as a suppression that expired.
type Warning struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// Warning kinds.
const (
	// WarnSuppressionExpired: a suppression's expiry date has passed.
	WarnSuppressionExpired = "suppression-expired"
	// WarnSuppressionUnmatched: a suppression's path matches no scanned file.
	WarnSuppressionUnmatched = "suppression-unmatched"
)

// Status says how completely a file (or member) was scanned.
type Status string

// Statuses. Skipped means the content is recognised as not a model (plain
// text, source code) and needs no scan; NotScanned means it might be a model
// but could not be scanned completely, which policy may treat as failure.
const (
	StatusScanned    Status = "scanned"
	StatusSkipped    Status = "skipped"
	StatusNotScanned Status = "not-scanned"
)

// Unscanned explains why content could not be fully scanned.
type Unscanned struct {
	RuleID string `json:"rule_id"`
	Member string `json:"member,omitempty"`
	Reason string `json:"reason"`
	// ModelLike is true when the name or content suggests a model; the
	// default policy only fails on model-like unscanned content.
	ModelLike bool `json:"model_like"`
	// Suppression is set when a policy suppression accepted this item
	// (reviewed data that no format understands, say); it then never
	// fails the gate but is still reported.
	Suppression *Suppression `json:"suppression,omitempty"`
	// FailsGate is set by the policy: true when this item, under the
	// policy's fail_on_unscanned and suppressions, fails the gate. Writers
	// that give a per-item or per-model verdict read it instead of
	// re-deriving the policy from ModelLike.
	FailsGate bool `json:"fails_gate"`
}

// JoinMember nests a member name inside a parent member path.
func JoinMember(parent, child string) string {
	switch {
	case parent == "":
		return child
	case child == "":
		return parent
	}
	return parent + "!" + child
}

// FileResult is everything learned about one top-level file.
type FileResult struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256,omitempty"`
	Size   int64  `json:"size"`
	// Formats lists every format recognised in the file and its members.
	Formats   []string    `json:"formats,omitempty"`
	Status    Status      `json:"status"`
	Findings  []Finding   `json:"findings,omitempty"`
	Unscanned []Unscanned `json:"unscanned,omitempty"`
	// Error is set when the file could not be read at all.
	Error string `json:"error,omitempty"`
	// Properties are what the headers say without loading weights (GGUF
	// architecture, safetensors tensor count, ONNX opset ...), keyed
	// "<format>:<name>", for inventories.
	Properties map[string]string `json:"properties,omitempty"`
}
