package gitlab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
)

// CodeQualityWriter renders a GitLab Code Quality report
// (gl-code-quality-report.json): the CodeClimate subset GitLab reads. The
// merge-request Code Quality widget shows it on every tier, where the
// security widget needs Ultimate.
type CodeQualityWriter struct{}

var _ report.Writer = CodeQualityWriter{}

// NewCodeQuality returns a Code Quality writer.
func NewCodeQuality() CodeQualityWriter { return CodeQualityWriter{} }

// Name implements report.Writer.
func (CodeQualityWriter) Name() string { return "codequality" }

// Write implements report.Writer. The document is always a JSON array
// (empty when there is nothing to report), without a byte order mark.
func (CodeQualityWriter) Write(ctx context.Context, out io.Writer, r *report.Report) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(BuildCodeQuality(r))
}

// Issue is one Code Quality entry.
type Issue struct {
	Type        string     `json:"type"`
	CheckName   string     `json:"check_name"`
	Description string     `json:"description"`
	Content     *Content   `json:"content,omitempty"`
	Categories  []string   `json:"categories"`
	Severity    string     `json:"severity"`
	Fingerprint string     `json:"fingerprint"`
	Location    CQLocation `json:"location"`
	EngineName  string     `json:"engine_name"`
}

// Content is the Markdown body CodeClimate tools may show.
type Content struct {
	Body string `json:"body"`
}

// CQLocation is the file and line of an issue.
type CQLocation struct {
	Path  string `json:"path"`
	Lines Lines  `json:"lines"`
}

// Lines holds the first line (synthetic 1 for binary model files).
type Lines struct {
	Begin int `json:"begin"`
}

// CodeQualitySeverity maps a modelgate severity to Code Quality's scale.
func CodeQualitySeverity(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical:
		return "blocker"
	case finding.SeverityHigh:
		return "critical"
	case finding.SeverityMedium:
		return "major"
	case finding.SeverityLow:
		return "minor"
	}
	return "info"
}

// BuildCodeQuality converts r into Code Quality issues, with the same
// fingerprints as the SAST report.
func BuildCodeQuality(r *report.Report) []Issue {
	c := collect(r)
	out := make([]Issue, 0, len(c.items))
	for i := range c.items {
		it := &c.items[i]
		sev := "minor"
		switch {
		case it.finding != nil:
			sev = CodeQualitySeverity(it.finding.Severity)
		case it.unscanned.ModelLike:
			sev = "major"
		}
		out = append(out, Issue{
			Type:        "issue",
			CheckName:   it.ruleID(),
			Description: report.Limit(cqDescription(it), 2000),
			Content:     &Content{Body: report.Limit(description(it), 1<<16)},
			Categories:  []string{"Security"},
			Severity:    sev,
			Fingerprint: it.fp,
			Location:    CQLocation{Path: it.file.Path, Lines: Lines{Begin: 1}},
			EngineName:  AnalyzerID,
		})
	}
	return out
}

// cqDescription is the one line the widget shows: rule, title, and the
// instance (global or call, member) in plain text.
func cqDescription(it *item) string {
	s := fmt.Sprintf("%s %s", it.ruleID(), it.title())
	if fd := it.finding; fd != nil {
		if what := firstNonEmpty(fd.Global, fd.Call); what != "" {
			s += ": " + report.Clip(what, 200)
		}
	} else {
		s += ": " + report.Clip(it.unscanned.Reason, 200)
	}
	if m := it.member(); m != "" {
		s += " (member " + report.Clip(m, 300) + ")"
	}
	return s
}
