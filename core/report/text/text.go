// Package text renders a report for people reading a terminal or a CI log:
// one block per file with something to say, then a summary and the verdict.
//
// Everything taken from scanned files (paths, member names, globals,
// evidence) is escaped so that hostile names cannot emit terminal control
// sequences.
package text

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
)

// Options control the rendering.
type Options struct {
	// Color enables ANSI colours. The caller decides; the CLI enables it
	// when stdout is a terminal and NO_COLOR is unset.
	Color bool
	// Verbose lists clean and skipped files, full hashes, and does not
	// shorten long calls, evidence or messages.
	Verbose bool
	// Quiet writes the verdict line only.
	Quiet bool
}

// Writer renders the text format.
type Writer struct {
	opts Options
}

var _ report.Writer = (*Writer)(nil)

// New returns a text writer.
func New(opts Options) *Writer { return &Writer{opts: opts} }

// Name implements report.Writer.
func (*Writer) Name() string { return "text" }

// maxField is the number of runes of a call, evidence or message shown
// outside verbose mode.
const maxField = 160

// indent aligns detail lines under the rule id.
const indent = "            "

// ANSI SGR sequences.
const (
	sgrReset   = "\x1b[0m"
	sgrBold    = "\x1b[1m"
	sgrDim     = "\x1b[2m"
	sgrRed     = "\x1b[31m"
	sgrBoldRed = "\x1b[1;31m"
	sgrGreen   = "\x1b[1;32m"
	sgrYellow  = "\x1b[33m"
	sgrCyan    = "\x1b[36m"
	sgrMagenta = "\x1b[35m"
)

type printer struct {
	buf     bytes.Buffer
	color   bool
	verbose bool
	cat     *rules.Catalogue
}

// paint wraps s in an SGR sequence when colour is on.
func (p *printer) paint(sgr, s string) string {
	if !p.color || sgr == "" {
		return s
	}
	return sgr + s + sgrReset
}

func (p *printer) line(sgr, format string, args ...any) {
	p.buf.WriteString(p.paint(sgr, fmt.Sprintf(format, args...)))
	p.buf.WriteByte('\n')
}

// Write implements report.Writer.
func (w *Writer) Write(ctx context.Context, out io.Writer, r *report.Report) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := &printer{color: w.opts.Color, verbose: w.opts.Verbose, cat: r.Catalogue()}
	if w.opts.Quiet {
		p.verdict(r)
		_, err := out.Write(p.buf.Bytes())
		return err
	}
	clean := 0
	for i := range r.Files {
		f := &r.Files[i]
		if report.Clean(f) {
			clean++
			if p.verbose {
				p.cleanFile(f)
			}
			continue
		}
		p.file(f)
	}
	if len(r.Files) == 0 {
		p.line("", "No files scanned.")
	}
	if p.buf.Len() > 0 && len(r.Files) > 0 {
		p.buf.WriteByte('\n')
	}
	p.models(r)
	p.summary(r, clean)
	_, err := out.Write(p.buf.Bytes())
	return err
}

func (p *printer) cleanFile(f *finding.FileResult) {
	state := "clean"
	if f.Status == finding.StatusSkipped {
		state = "skipped, not a model"
	}
	p.line("", "%s  %s", p.header(f), p.paint(sgrGreen, state))
}

// header renders "path  sha256:abcdef012345  formats".
func (p *printer) header(f *finding.FileResult) string {
	s := p.paint(sgrBold, report.Printable(f.Path))
	if f.SHA256 != "" {
		sum := f.SHA256
		if !p.verbose && len(sum) > 12 {
			sum = sum[:12]
		}
		s += "  " + p.paint(sgrDim, "sha256:"+report.Printable(sum))
	}
	if len(f.Formats) > 0 {
		s += "  " + p.paint(sgrDim, report.Printable(strings.Join(f.Formats, ", ")))
	}
	return s
}

func (p *printer) file(f *finding.FileResult) {
	p.line("", "%s", p.header(f))
	for i := range f.Findings {
		p.finding(&f.Findings[i])
	}
	for _, u := range f.Unscanned {
		p.unscanned(u)
	}
	if report.UnreportedError(f) {
		p.line("", "  %s  %s", p.paint(sgrBoldRed, "ERROR"), report.Printable(f.Error))
	}
}

func severityColor(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical:
		return sgrBoldRed
	case finding.SeverityHigh:
		return sgrRed
	case finding.SeverityMedium:
		return sgrYellow
	case finding.SeverityLow:
		return sgrCyan
	}
	return ""
}

func (p *printer) finding(fd *finding.Finding) {
	rule, known := p.cat.Get(fd.RuleID)
	title := rule.Title
	if !known || title == "" {
		title = fd.Message
	}
	sev := strings.ToUpper(fd.Severity.String())
	var lines []string
	detail := func(label, value string) {
		if value != "" {
			lines = append(lines, fmt.Sprintf("%s%-9s %s", indent, label, value))
		}
	}

	if fd.Message != "" && fd.Message != title {
		lines = append(lines, indent+p.field(fd.Message))
	}
	detail("at", location(fd))
	if fd.Call != "" {
		detail("call", p.field(fd.Call))
		if fd.Global != "" && !strings.Contains(fd.Call, fd.Global) {
			detail("global", report.Printable(fd.Global))
		}
	} else {
		detail("global", report.Printable(fd.Global))
	}
	detail("evidence", p.field(fd.Evidence))

	if s := fd.Suppression; s != nil {
		reason := report.Printable(s.Reason)
		if s.Expires != "" {
			reason += " (expires " + report.Printable(s.Expires) + ")"
		}
		if reason == "" {
			reason = "no reason given"
		}
		detail("reason", reason)
		// The whole block is dimmed; nested colours would end the dim early.
		p.line(sgrDim, "  %-8s  %s  %s  [suppressed]", sev, report.Printable(fd.RuleID), report.Printable(title))
		for _, l := range lines {
			p.line(sgrDim, "%s", l)
		}
		return
	}

	fix := fd.Fix
	if fix == "" {
		fix = rule.Fix
	}
	detail("fix", report.Printable(fix))
	p.line("", "  %s  %s  %s", p.paint(severityColor(fd.Severity), fmt.Sprintf("%-8s", sev)),
		p.paint(sgrBold, report.Printable(fd.RuleID)), report.Printable(title))
	for _, l := range lines {
		p.line("", "%s", l)
	}
}

func (p *printer) unscanned(u finding.Unscanned) {
	what := report.Printable(u.Reason)
	if u.Member != "" {
		what = report.Printable(u.Member) + ": " + what
	}
	p.line("", "  %s  %s  %s", p.paint(sgrMagenta, "NOT SCANNED"), p.paint(sgrBold, report.Printable(u.RuleID)), what)
	if s := u.Suppression; s != nil {
		p.line("", "            suppressed: %s", report.Printable(s.Reason))
	}
}

// location renders member and offset, or "" when neither is known.
func location(fd *finding.Finding) string {
	var parts []string
	if fd.Member != "" {
		parts = append(parts, "member "+report.Printable(fd.Member))
	}
	if fd.Offset >= 0 {
		parts = append(parts, "offset "+strconv.FormatInt(fd.Offset, 10))
	}
	return strings.Join(parts, ", ")
}

// field sanitizes and, outside verbose mode, shortens a value.
func (p *printer) field(s string) string {
	s = report.Printable(s)
	if !p.verbose && utf8.RuneCountInString(s) > maxField {
		r := []rune(s)
		s = string(r[:maxField-1]) + "…"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func (p *printer) summary(r *report.Report, clean int) {
	s := r.Summary
	files := fmt.Sprintf("%s: %d scanned, %d skipped, %d not scanned",
		plural(s.Files, "file", "files"), s.Scanned, s.Skipped, s.NotScanned)
	if clean > 0 {
		files += "; " + plural(clean, "file", "files") + " with nothing to report"
		if !p.verbose {
			files += " not listed (verbose lists them)"
		}
	}
	p.line("", "%s", files)

	var sev []string
	for _, name := range []string{"critical", "high", "medium", "low"} {
		sev = append(sev, fmt.Sprintf("%d %s", s.BySeverity[name], name))
	}
	findings := plural(s.Findings, "finding", "findings")
	if s.Findings > 0 {
		findings += ": " + strings.Join(sev, ", ")
	}
	if s.Suppressed > 0 {
		findings += "; " + strconv.Itoa(s.Suppressed) + " suppressed"
	}
	p.line("", "%s", findings)
	p.verdict(r)
}

// verdict writes the last line: PASS or FAIL, why, and the exit code.
func (p *printer) verdict(r *report.Report) {
	verdict := report.Printable(r.Verdict)
	label, sgr := "PASS", sgrGreen
	if r.ExitCode != 0 {
		label, sgr = "FAIL", sgrBoldRed
		if verdict == "" {
			verdict = "the policy failed the scan"
		}
	} else if verdict == "" {
		verdict = "nothing at or above the threshold"
	}
	p.line("", "%s %s (fail-on %s, exit %d)", p.paint(sgr, label+":"), verdict, r.FailOn, r.ExitCode)
}

// kindNames are how model-directory kinds read in a sentence.
var kindNames = map[string]string{
	"mlflow":        "MLflow",
	"huggingface":   "Hugging Face",
	"tf-savedmodel": "TensorFlow SavedModel",
	"onnx":          "ONNX",
}

// models prints one line per model directory:
// model `models/churn` (MLflow, sklearn flavor): 3 files, blocked.
func (p *printer) models(r *report.Report) {
	if len(r.Models) == 0 {
		return
	}
	byPath := map[string]*finding.FileResult{}
	for i := range r.Files {
		byPath[r.Files[i].Path] = &r.Files[i]
	}
	for _, m := range r.Models {
		kind := kindNames[m.Kind]
		if kind == "" {
			kind = m.Kind
		}
		desc := kind
		if m.Framework != "" {
			fw := m.Framework
			if m.Kind == "mlflow" {
				fw += " flavor"
			}
			desc += ", " + fw
		}
		state, sgr := p.modelState(r, m, byPath)
		p.line("", "model `%s` (%s): %s, %s", report.Printable(m.Path), report.Printable(desc),
			plural(len(m.Files), "file", "files"), p.paint(sgr, state))
	}
	p.buf.WriteByte('\n')
}

// modelState sums up a model's files: blocked by a finding at or above the
// threshold, not fully scanned, findings below the threshold, or clean.
func (p *printer) modelState(r *report.Report, m report.Model, byPath map[string]*finding.FileResult) (string, string) {
	blocked, unscanned, below := false, false, 0
	for _, path := range m.Files {
		f := byPath[path]
		if f == nil {
			continue
		}
		for _, fd := range f.Findings {
			if fd.Suppression != nil {
				continue
			}
			if r.FailOn != finding.SeverityNone && fd.Severity >= r.FailOn {
				blocked = true
			} else {
				below++
			}
		}
		for _, u := range f.Unscanned {
			if u.Suppression == nil {
				unscanned = true
			}
		}
	}
	switch {
	case blocked:
		return "blocked", sgrBoldRed
	case unscanned:
		return "not fully scanned", sgrYellow
	case below > 0:
		return plural(below, "finding", "findings") + " below the threshold", sgrYellow
	}
	return "clean", sgrGreen
}
