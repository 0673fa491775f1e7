package gitlab

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
)

// LogOptions control the job log.
type LogOptions struct {
	// Color enables ANSI colours. GitLab's job log renders them; the CLI
	// turns them on inside a GitLab job (see RunnerShowsColor) and on a
	// terminal, never when writing to a file or with NO_COLOR set.
	Color bool
}

// LogWriter renders a report for a GitLab job log: per-file detail in
// collapsed sections (GitLab's section_start/section_end markers), the
// counts and the verdict outside them, so that the verdict is what the
// log shows without expanding anything.
type LogWriter struct {
	opts LogOptions
}

var _ report.Writer = (*LogWriter)(nil)

// NewLog returns a job-log writer.
func NewLog(opts LogOptions) *LogWriter { return &LogWriter{opts: opts} }

// Name implements report.Writer.
func (*LogWriter) Name() string { return "gitlab-log" }

// RunnerShowsColor reports whether output goes to a GitLab job log, which
// renders ANSI colours although it is not a terminal. getenv is
// os.Getenv.
func RunnerShowsColor(getenv func(string) string) bool {
	return getenv("GITLAB_CI") == "true" && getenv("NO_COLOR") == ""
}

// ANSI SGR sequences and GitLab's section marker prefix.
const (
	sgrReset   = "\x1b[0m"
	sgrBold    = "\x1b[1m"
	sgrRed     = "\x1b[31m"
	sgrBoldRed = "\x1b[1;31m"
	sgrGreen   = "\x1b[1;32m"
	sgrYellow  = "\x1b[33m"
	sgrCyan    = "\x1b[36m"
	sgrMagenta = "\x1b[35m"
	eraseLine  = "\x1b[0K"
)

// maxCleanListed bounds the clean-file list of one log.
const maxCleanListed = 500

type logPrinter struct {
	buf   bytes.Buffer
	color bool
	ts    int64
	n     int
}

func (p *logPrinter) paint(sgr, s string) string {
	if !p.color || sgr == "" {
		return s
	}
	return sgr + s + sgrReset
}

func (p *logPrinter) line(format string, args ...any) {
	fmt.Fprintf(&p.buf, format, args...)
	p.buf.WriteByte('\n')
}

// section opens a collapsed section. Names are generated (modelgate_N),
// never taken from scanned content; the header is escaped, so a hostile
// file name cannot close or forge a section.
func (p *logPrinter) section(header string) string {
	p.n++
	name := "modelgate_" + strconv.Itoa(p.n)
	fmt.Fprintf(&p.buf, "%ssection_start:%d:%s[collapsed=true]\r%s%s\n", eraseLine, p.ts, name, eraseLine, header)
	return name
}

func (p *logPrinter) end(name string) {
	fmt.Fprintf(&p.buf, "%ssection_end:%d:%s\r%s\n", eraseLine, p.ts, name, eraseLine)
}

// Write implements report.Writer.
func (w *LogWriter) Write(ctx context.Context, out io.Writer, r *report.Report) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := &logPrinter{color: w.opts.Color}
	if !r.FinishedAt.IsZero() {
		p.ts = r.FinishedAt.Unix()
	}
	cat := r.Catalogue()
	tool := firstNonEmpty(r.Tool.Name, "modelgate")
	if r.Tool.Version != "" {
		tool += " " + r.Tool.Version
	}
	p.line("%s: policy %s, fail-on %s", p.paint(sgrBold, report.Printable(tool)), report.Printable(firstNonEmpty(r.Policy.Source, "built-in")), r.FailOn)

	var clean []string
	for i := range r.Files {
		f := &r.Files[i]
		if report.Clean(f) {
			clean = append(clean, f.Path)
			continue
		}
		name := p.section(p.fileHeader(f))
		for j := range f.Findings {
			p.finding(&f.Findings[j], cat.Get)
		}
		for _, u := range f.Unscanned {
			p.unscanned(u)
		}
		if report.UnreportedError(f) {
			p.line("  %s  %s", p.paint(sgrBoldRed, "ERROR"), report.Clip(f.Error, 1000))
		}
		p.end(name)
	}
	if len(clean) > 0 {
		name := p.section(fmt.Sprintf("%d file(s) with nothing to report", len(clean)))
		for i, c := range clean {
			if i == maxCleanListed {
				p.line("  … and %d more", len(clean)-maxCleanListed)
				break
			}
			p.line("  %s", report.Clip(c, 1000))
		}
		p.end(name)
	}
	for _, wn := range r.Warnings {
		p.line("%s %s", p.paint(sgrYellow, "policy warning:"), report.Clip(wn.Message, 1000))
	}
	p.summary(r)
	_, err := out.Write(p.buf.Bytes())
	return err
}

func (p *logPrinter) fileHeader(f *finding.FileResult) string {
	var parts []string
	active, suppressed := 0, 0
	worst := finding.SeverityNone
	for _, fd := range f.Findings {
		if fd.Suppression != nil {
			suppressed++
			continue
		}
		active++
		worst = max(worst, fd.Severity)
	}
	if active > 0 {
		parts = append(parts, p.paint(severityColor(worst), fmt.Sprintf("%d finding(s), worst %s", active, worst)))
	}
	if suppressed > 0 {
		parts = append(parts, fmt.Sprintf("%d suppressed", suppressed))
	}
	unscanned := len(f.Unscanned)
	if report.UnreportedError(f) {
		unscanned++
	}
	if unscanned > 0 {
		parts = append(parts, p.paint(sgrMagenta, fmt.Sprintf("%d not scanned", unscanned)))
	}
	return p.paint(sgrBold, report.Clip(f.Path, 500)) + ": " + strings.Join(parts, ", ")
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

func (p *logPrinter) finding(fd *finding.Finding, get func(string) (rules.Rule, bool)) {
	rule, known := get(fd.RuleID)
	title := fd.Message
	if known && rule.Title != "" {
		title = rule.Title
	}
	sev := fmt.Sprintf("%-8s", strings.ToUpper(fd.Severity.String()))
	tag := ""
	if fd.Suppression != nil {
		sev = fmt.Sprintf("%-8s", "ACCEPTED")
		tag = " [suppressed: " + report.Clip(fd.Suppression.Reason, 300) + "]"
	} else {
		sev = p.paint(severityColor(fd.Severity), sev)
	}
	p.line("  %s  %s  %s%s", sev, p.paint(sgrBold, report.Clip(fd.RuleID, 50)), report.Clip(title, 300), tag)
	detail := func(label, value string) {
		if value != "" {
			p.line("            %-9s %s", label, value)
		}
	}
	if fd.Message != "" && fd.Message != title {
		p.line("            %s", report.Clip(fd.Message, 300))
	}
	var at []string
	if fd.Member != "" {
		at = append(at, "member "+report.Clip(fd.Member, 300))
	}
	if fd.Offset >= 0 {
		at = append(at, "offset "+strconv.FormatInt(fd.Offset, 10))
	}
	detail("at", strings.Join(at, ", "))
	if fd.Call != "" {
		detail("call", report.Clip(fd.Call, 300))
	} else {
		detail("global", report.Clip(fd.Global, 300))
	}
	detail("evidence", report.Clip(fd.Evidence, 300))
	if fd.Suppression == nil {
		detail("fix", report.Clip(firstNonEmpty(fd.Fix, rule.Fix), 500))
	}
}

func (p *logPrinter) unscanned(u finding.Unscanned) {
	what := report.Clip(u.Reason, 500)
	if u.Member != "" {
		what = report.Clip(u.Member, 300) + ": " + what
	}
	label := "NOT SCANNED"
	if u.Suppression != nil {
		what += " [accepted: " + report.Clip(u.Suppression.Reason, 300) + "]"
	}
	p.line("  %s  %s  %s", p.paint(sgrMagenta, label), p.paint(sgrBold, report.Clip(u.RuleID, 50)), what)
}

func (p *logPrinter) summary(r *report.Report) {
	s := r.Summary
	p.line("Files: %d (%d scanned, %d skipped as not models, %d not scanned)", s.Files, s.Scanned, s.Skipped, s.NotScanned)
	var sev []string
	for _, name := range []string{"critical", "high", "medium", "low"} {
		sev = append(sev, fmt.Sprintf("%d %s", s.BySeverity[name], name))
	}
	line := fmt.Sprintf("Findings: %d (%s)", s.Findings, strings.Join(sev, ", "))
	if s.Suppressed > 0 {
		line += fmt.Sprintf("; %d suppressed", s.Suppressed)
	}
	p.line("%s", line)
	verdict := report.Clip(r.Verdict, 500)
	label, sgr := "PASS", sgrGreen
	if r.ExitCode != 0 {
		label, sgr = "FAIL", sgrBoldRed
		if verdict == "" {
			verdict = "the policy failed the scan"
		}
	} else if verdict == "" {
		verdict = "nothing at or above the threshold"
	}
	p.line("%s %s (exit %d)", p.paint(sgr, label+":"), verdict, r.ExitCode)
}
