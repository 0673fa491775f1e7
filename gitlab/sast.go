package gitlab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
)

// Schema versions of GitLab's security report format that the SAST writer
// can declare. Nothing the writer fills needs the 15.1/15.2 additions, so
// the default is the lowest supported one: GitLab silently drops a report whose
// declared version the instance does not vendor, and older self-managed
// instances vendor 15.0.x but not the 15.2 line (GitLab's own secrets
// analyzer pins 15.0.7 for that reason). 15.2.4 is for instances that
// want the newer line; GitLab validates it against its latest vendored
// 15.2 patch.
const (
	SchemaVersion1507 = "15.0.7"
	SchemaVersion1524 = "15.2.4"
	// DefaultSchemaVersion is what --gitlab-schema-version defaults to.
	DefaultSchemaVersion = SchemaVersion1507
)

// SchemaVersions lists the supported schema versions, oldest first. The
// tests validate the writer's output against each one's official schema.
func SchemaVersions() []string { return []string{SchemaVersion1507, SchemaVersion1524} }

// IdentifierType is the vendor identifier type of the primary identifier,
// the modelgate rule id. GitLab tracks a vulnerability by its first
// identifier and its location, so the rule id comes first and is stable.
const IdentifierType = "modelgate_rule"

// SignatureAlgorithm is the tracking signature algorithm the SAST report
// uses for modelgate's fingerprint ("hash" is one GitLab knows).
const SignatureAlgorithm = "hash"

// Vendor and analyzer identity.
const (
	AnalyzerID   = "modelgate"
	AnalyzerName = "modelgate"
	VendorName   = "modelgate"
	DefaultURL   = "https://github.com/modelgate/modelgate"
)

// timeLayout is the schema's start_time/end_time pattern: UTC, no zone,
// no fraction.
const timeLayout = "2006-01-02T15:04:05"

// SASTOptions control the security report.
type SASTOptions struct {
	// SchemaVersion is one of SchemaVersions(); "" means
	// DefaultSchemaVersion.
	SchemaVersion string
}

// SASTWriter renders GitLab's SAST security report (gl-sast-report.json).
type SASTWriter struct {
	version string
}

var _ report.Writer = (*SASTWriter)(nil)

// NewSAST returns a SAST writer, or an error for a schema version it does
// not support.
func NewSAST(opts SASTOptions) (*SASTWriter, error) {
	v := opts.SchemaVersion
	if v == "" {
		v = DefaultSchemaVersion
	}
	if !slices.Contains(SchemaVersions(), v) {
		return nil, fmt.Errorf("unsupported GitLab security report schema version %q (supported: %s)", v, strings.Join(SchemaVersions(), ", "))
	}
	return &SASTWriter{version: v}, nil
}

// Name implements report.Writer.
func (*SASTWriter) Name() string { return "gitlab-sast" }

// SchemaVersion is the version the writer declares.
func (w *SASTWriter) SchemaVersion() string { return w.version }

// Write implements report.Writer.
func (w *SASTWriter) Write(ctx context.Context, out io.Writer, r *report.Report) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(BuildSAST(r, w.version))
}

// SAST is the security report document.
type SAST struct {
	Version         string          `json:"version"`
	Schema          string          `json:"schema"`
	Scan            Scan            `json:"scan"`
	Vulnerabilities []Vulnerability `json:"vulnerabilities"`
}

// Scan describes the run.
type Scan struct {
	Type      string    `json:"type"`
	Status    string    `json:"status"`
	StartTime string    `json:"start_time"`
	EndTime   string    `json:"end_time"`
	Analyzer  Component `json:"analyzer"`
	Scanner   Component `json:"scanner"`
	Messages  []Message `json:"messages,omitempty"`
	// PrimaryIdentifiers lists every rule the analyzer can report, so
	// that GitLab can tell "no longer detected" from "rule not run".
	PrimaryIdentifiers []Identifier `json:"primary_identifiers,omitempty"`
}

// Component is the analyzer or the scanner.
type Component struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	URL     string `json:"url,omitempty"`
	Version string `json:"version"`
	Vendor  Vendor `json:"vendor"`
}

// Vendor names who maintains a component.
type Vendor struct {
	Name string `json:"name"`
}

// Message is a scan message: info, warn or fatal.
type Message struct {
	Level string `json:"level"`
	Value string `json:"value"`
}

// Vulnerability is one entry of the report.
type Vulnerability struct {
	ID          string                `json:"id"`
	Name        string                `json:"name"`
	Description string                `json:"description"`
	Severity    string                `json:"severity"`
	Solution    string                `json:"solution,omitempty"`
	Identifiers []Identifier          `json:"identifiers"`
	Location    Location              `json:"location"`
	Details     map[string]NamedField `json:"details,omitempty"`
	Tracking    *Tracking             `json:"tracking,omitempty"`
}

// Identifier names a vulnerability in a catalogue.
type Identifier struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	Value string `json:"value"`
	URL   string `json:"url,omitempty"`
}

// Location is where GitLab shows a vulnerability. Model files are binary,
// so the line is a synthetic 1; the member and offset are in the details.
type Location struct {
	File      string `json:"file"`
	StartLine int    `json:"start_line"`
	EndLine   int    `json:"end_line"`
}

// NamedField is one named detail: text, code or a value.
type NamedField struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// Tracking carries the source tracking signature.
type Tracking struct {
	Type  string         `json:"type"`
	Items []TrackingItem `json:"items"`
}

// TrackingItem ties signatures to a location.
type TrackingItem struct {
	File       string      `json:"file"`
	StartLine  int         `json:"start_line"`
	EndLine    int         `json:"end_line"`
	Signatures []Signature `json:"signatures"`
}

// Signature is one tracking signature.
type Signature struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}

// SchemaURL is the schema document a version's report points to.
func SchemaURL(version string) string {
	return "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v" + version + "/dist/sast-report-format.json"
}

// BuildSAST converts r into a security report declaring version. It does
// not modify r.
func BuildSAST(r *report.Report, version string) *SAST {
	c := collect(r)
	comp := component(r.Tool)
	doc := &SAST{
		Version: version,
		Schema:  SchemaURL(version),
		Scan: Scan{
			Type:      "sast",
			Status:    "success",
			StartTime: scanTime(r.StartedAt, r.FinishedAt),
			EndTime:   scanTime(r.FinishedAt, r.StartedAt),
			Analyzer:  comp,
			Scanner:   comp,
			Messages:  messages(r, c),
		},
		Vulnerabilities: make([]Vulnerability, 0, len(c.items)),
	}
	if c.incomplete() {
		doc.Scan.Status = "failure"
	}
	seen := map[string]bool{}
	for _, rule := range r.Catalogue().All() {
		seen[rule.ID] = true
		doc.Scan.PrimaryIdentifiers = append(doc.Scan.PrimaryIdentifiers, primaryIdentifier(rule.ID))
	}
	for _, it := range c.items {
		if id := it.ruleID(); !seen[id] {
			seen[id] = true
			doc.Scan.PrimaryIdentifiers = append(doc.Scan.PrimaryIdentifiers, primaryIdentifier(id))
		}
	}
	for i := range c.items {
		doc.Vulnerabilities = append(doc.Vulnerabilities, vulnerability(&c.items[i]))
	}
	return doc
}

func component(t report.Tool) Component {
	version := t.Version
	if version == "" {
		version = "unknown"
	}
	url := t.URI
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		url = DefaultURL
	}
	name := firstNonEmpty(t.Name, AnalyzerName)
	return Component{ID: AnalyzerID, Name: name, URL: url, Version: version, Vendor: Vendor{Name: VendorName}}
}

// scanTime renders t, falling back to alt and then to the Unix epoch: the
// schema requires both times.
func scanTime(t, alt time.Time) string {
	if t.IsZero() {
		t = alt
	}
	if t.IsZero() {
		t = time.Unix(0, 0)
	}
	return t.UTC().Format(timeLayout)
}

// maxUnscannedMessages bounds the scan messages about content that could
// not be scanned; the vulnerabilities list every one of them.
const maxUnscannedMessages = 50

func messages(r *report.Report, c *collected) []Message {
	var ms []Message
	add := func(level, format string, args ...any) {
		ms = append(ms, Message{Level: level, Value: fmt.Sprintf(format, args...)})
	}
	if r.Verdict != "" {
		add("info", "modelgate verdict: %s (fail-on %s, exit %d).", report.Printable(r.Verdict), r.FailOn, r.ExitCode)
	}
	listed, more := 0, 0
	for _, it := range c.items {
		if it.unscanned == nil {
			continue
		}
		if listed == maxUnscannedMessages {
			more++
			continue
		}
		listed++
		add("warn", "%s was not scanned: %s (%s).", where(it.file.Path, it.unscanned.Member), report.Clip(it.unscanned.Reason, 500), it.unscanned.RuleID)
	}
	if more > 0 {
		add("warn", "%d more item(s) were not scanned; each is listed as a vulnerability of severity Unknown.", more)
	}
	if c.suppressedFindings > 0 {
		add("info", "%d finding(s) accepted by policy suppressions are not listed; the JSON and SARIF reports have them.", c.suppressedFindings)
	}
	if c.suppressedUnscanned > 0 {
		add("warn", "%d item(s) that could not be scanned were accepted by policy suppressions; the JSON and SARIF reports have them.", c.suppressedUnscanned)
	}
	for _, w := range c.policyWarnings {
		add("warn", "policy: %s", report.Clip(w, 500))
	}
	return ms
}

func where(path, member string) string {
	s := report.Clip(path, 500)
	if member != "" {
		s += " (member " + report.Clip(member, 300) + ")"
	}
	return s
}

// Severity maps a modelgate severity to GitLab's.
func Severity(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical:
		return "Critical"
	case finding.SeverityHigh:
		return "High"
	case finding.SeverityMedium:
		return "Medium"
	case finding.SeverityLow:
		return "Low"
	}
	return "Info"
}

func vulnerability(it *item) Vulnerability {
	id := it.ruleID()
	v := Vulnerability{
		ID:          uuid(it.fp),
		Name:        report.Limit(it.title(), 255),
		Description: report.Limit(description(it), 1<<20),
		Solution:    report.Limit(solution(it), 7000),
		Identifiers: identifiers(it),
		Location:    Location{File: it.file.Path, StartLine: 1, EndLine: 1},
		Details:     details(it),
		Tracking: &Tracking{Type: "source", Items: []TrackingItem{{
			File: it.file.Path, StartLine: 1, EndLine: 1,
			Signatures: []Signature{{Algorithm: SignatureAlgorithm, Value: it.fp}},
		}}},
	}
	if it.finding != nil {
		v.Severity = Severity(it.finding.Severity)
	} else {
		// Whether unscanned content is dangerous is unknown by definition.
		v.Severity = "Unknown"
	}
	if v.Name == "" {
		v.Name = id
	}
	return v
}

func primaryIdentifier(ruleID string) Identifier {
	return Identifier{Type: IdentifierType, Name: "modelgate " + ruleID, Value: ruleID}
}

func identifiers(it *item) []Identifier {
	ids := []Identifier{primaryIdentifier(it.ruleID())}
	for _, n := range cweIDs(it.rule.Tags) {
		ids = append(ids, Identifier{Type: "cwe", Name: "CWE-" + n, Value: n, URL: "https://cwe.mitre.org/data/definitions/" + n + ".html"})
	}
	if len(ids) > 20 {
		ids = ids[:20]
	}
	return ids
}

// description is GitLab-flavoured Markdown: what was found and where in
// the file, then what the rule is about. Values from the scanned file are
// shown as code so that they cannot render as links or markup.
func description(it *item) string {
	var b strings.Builder
	if fd := it.finding; fd != nil {
		msg := fd.Message
		if msg == "" {
			msg = it.title()
		}
		b.WriteString(mdText(report.Clip(msg, 1000)))
		b.WriteString("\n\n")
		if fd.Member != "" {
			fmt.Fprintf(&b, "- Container member: %s\n", mdCode(report.Clip(fd.Member, 1000)))
		}
		if fd.Offset >= 0 {
			fmt.Fprintf(&b, "- Byte offset: %d\n", fd.Offset)
		}
		if fd.Global != "" {
			fmt.Fprintf(&b, "- Global: %s\n", mdCode(report.Clip(fd.Global, 1000)))
		}
		if fd.Call != "" {
			fmt.Fprintf(&b, "- Call: %s\n", mdCode(report.Clip(fd.Call, 2000)))
		}
		if fd.Evidence != "" {
			fmt.Fprintf(&b, "- Evidence: %s\n", mdCode(report.Clip(fd.Evidence, 2000)))
		}
	} else {
		u := it.unscanned
		fmt.Fprintf(&b, "This content could not be scanned completely, so nothing is known about what loading it does: %s\n\n", mdText(report.Clip(u.Reason, 1000)))
		if u.Member != "" {
			fmt.Fprintf(&b, "- Container member: %s\n", mdCode(report.Clip(u.Member, 1000)))
		}
		fmt.Fprintf(&b, "- Model-like content: %t\n", u.ModelLike)
	}
	if it.file.SHA256 != "" {
		fmt.Fprintf(&b, "- File SHA-256: %s\n", mdCode(it.file.SHA256))
	}
	if it.known {
		if it.rule.What != "" {
			fmt.Fprintf(&b, "\n%s\n", mdText(it.rule.What))
		}
		if it.rule.Why != "" {
			fmt.Fprintf(&b, "\n%s\n", mdText(it.rule.Why))
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func solution(it *item) string {
	if it.finding != nil && it.finding.Fix != "" {
		return report.Printable(it.finding.Fix)
	}
	return it.rule.Fix
}

// details holds the instance data GitLab shows in the vulnerability page
// (the schema's details object: named fields by key):
// the container member lives here, never in the location, so that the
// location fingerprint stays the file's.
func details(it *item) map[string]NamedField {
	items := map[string]NamedField{}
	text := func(key, name, value string) {
		if value != "" {
			items[key] = NamedField{Name: name, Type: "text", Value: report.Clip(value, 4000)}
		}
	}
	code := func(key, name, value string) {
		if value != "" {
			items[key] = NamedField{Name: name, Type: "code", Value: report.Clip(value, 4000)}
		}
	}
	text("rule", "Rule", it.ruleID())
	text("fingerprint", "modelgate fingerprint", it.fp)
	text("sha256", "File SHA-256", it.file.SHA256)
	if len(it.file.Formats) > 0 {
		text("formats", "Formats", strings.Join(it.file.Formats, ", "))
	}
	if fd := it.finding; fd != nil {
		text("member", "Container member", fd.Member)
		text("global", "Global", fd.Global)
		code("call", "Call", fd.Call)
		code("evidence", "Evidence", fd.Evidence)
		if fd.Offset >= 0 {
			items["offset"] = NamedField{Name: "Byte offset", Type: "value", Value: fd.Offset}
		}
	} else {
		text("member", "Container member", it.unscanned.Member)
		text("reason", "Why it was not scanned", it.unscanned.Reason)
		items["model_like"] = NamedField{Name: "Model-like", Type: "value", Value: it.unscanned.ModelLike}
	}
	return items
}

var mdSpecial = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "<", `\<`, ">", `\>`, "[", `\[`, "]", `\]`, "#", `\#`, "|", `\|`, "!", `\!`)

func mdText(s string) string { return mdSpecial.Replace(report.Printable(s)) }

// mdCode renders s as inline code with a fence longer than any run of
// backticks inside it.
func mdCode(s string) string {
	s = report.Printable(s)
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	return fence + " " + s + " " + fence
}
