// Package jsonreport renders a report as one indented JSON document that
// stands alone: besides the scan results it carries the documentation of
// every rule the results refer to. The format is described, field by field,
// in docs/json-report.md and versioned by its schema_version field
// (report.SchemaVersion).
package jsonreport

import (
	"context"
	"encoding/json"
	"io"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
)

// Writer renders the JSON format.
type Writer struct{}

var _ report.Writer = (*Writer)(nil)

// New returns a JSON writer.
func New() *Writer { return &Writer{} }

// Name implements report.Writer.
func (*Writer) Name() string { return "json" }

// Rule is the documentation of one rule, as written in the "rules" array.
type Rule struct {
	ID       string           `json:"id"`
	Name     string           `json:"name,omitempty"`
	Title    string           `json:"title"`
	Severity finding.Severity `json:"severity"`
	What     string           `json:"what,omitempty"`
	Why      string           `json:"why,omitempty"`
	Fix      string           `json:"fix,omitempty"`
	Tags     []string         `json:"tags,omitempty"`
	// NotScanned marks rules that describe content that could not be
	// scanned (the MG9xx rules) rather than something found in it.
	NotScanned bool `json:"not_scanned,omitempty"`
	// Plugin names the detector plugin that declared the rule.
	Plugin string `json:"plugin,omitempty"`
}

// Document is the top-level JSON object: every field of report.Report
// followed by the rules it refers to.
type Document struct {
	*report.Report
	Rules []Rule `json:"rules"`
}

// NewDocument prepares the document for r without modifying r: it fills
// in a missing schema version, files array and summary, and collects the
// rules referenced by findings and unscanned items, sorted by id.
func NewDocument(r *report.Report) *Document {
	c := *r
	if c.SchemaVersion == "" {
		c.SchemaVersion = report.SchemaVersion
	}
	if c.Files == nil {
		c.Files = []finding.FileResult{}
	}
	if c.Summary.BySeverity == nil {
		c.Summary = report.Summarize(c.Files)
	}
	cat := c.Catalogue()
	firstSeverity := map[string]finding.Severity{}
	for _, f := range c.Files {
		for _, fd := range f.Findings {
			if _, ok := firstSeverity[fd.RuleID]; !ok {
				firstSeverity[fd.RuleID] = fd.Severity
			}
		}
	}
	rs := []Rule{}
	for _, id := range c.RuleIDs() {
		rule, ok := cat.Get(id)
		if !ok {
			// Not in the catalogue (a plugin's rule, or a newer engine):
			// keep the entry so that every rule_id resolves.
			rs = append(rs, Rule{ID: id, Title: "Unknown rule " + id, Severity: firstSeverity[id]})
			continue
		}
		rs = append(rs, Rule{
			ID: rule.ID, Name: rule.Name, Title: rule.Title, Severity: rule.Severity,
			What: rule.What, Why: rule.Why, Fix: rule.Fix, Tags: rule.Tags,
			NotScanned: rule.Unscanned,
		})
	}
	return &Document{Report: &c, Rules: rs}
}

// Write implements report.Writer. The output is indented with two spaces,
// does not escape <, > and &, and ends with a newline.
func (*Writer) Write(ctx context.Context, w io.Writer, r *report.Report) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(NewDocument(r))
}
