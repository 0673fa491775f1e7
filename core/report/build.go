package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/rules"
)

// Options is everything about a report that is not a scan result. The
// policy decides ExitCode and Verdict; they may also be set on the Report
// after Build when the policy needs the built report to decide.
type Options struct {
	Tool Tool
	// Rules is the catalogue findings refer to; nil means rules.Default().
	Rules *rules.Catalogue
	// Root is the directory the file paths are relative to.
	Root     string
	FailOn   finding.Severity
	ExitCode int
	Verdict  string
	// PolicyFile and Warnings are copied to the report (see Report).
	PolicyFile string
	Warnings   []finding.Warning
	StartedAt  time.Time
	FinishedAt time.Time
}

// Build assembles a Report from scan results. It is a pure function: files
// and their slices are copied, never modified. In the result, files are
// sorted by path, findings inside a file by severity (most serious first),
// member, offset, rule id and global, unscanned items by member and rule id,
// and Summary is filled in. Times are converted to UTC.
func Build(files []finding.FileResult, opts Options) *Report {
	cat := opts.Rules
	if cat == nil {
		cat = rules.Default()
	}
	out := make([]finding.FileResult, len(files))
	for i, f := range files {
		f.Findings = slices.Clone(f.Findings)
		f.Unscanned = slices.Clone(f.Unscanned)
		f.Formats = slices.Clone(f.Formats)
		SortFindings(f.Findings)
		slices.SortStableFunc(f.Unscanned, func(a, b finding.Unscanned) int {
			if c := strings.Compare(a.Member, b.Member); c != 0 {
				return c
			}
			return strings.Compare(a.RuleID, b.RuleID)
		})
		out[i] = f
	}
	slices.SortStableFunc(out, func(a, b finding.FileResult) int { return strings.Compare(a.Path, b.Path) })
	return &Report{
		SchemaVersion: SchemaVersion,
		Tool:          opts.Tool,
		StartedAt:     opts.StartedAt.UTC(),
		FinishedAt:    opts.FinishedAt.UTC(),
		Root:          opts.Root,
		FailOn:        opts.FailOn,
		ExitCode:      opts.ExitCode,
		Verdict:       opts.Verdict,
		Outcome:       OutcomeForExitCode(opts.ExitCode),
		PolicyFile:    opts.PolicyFile,
		Warnings:      slices.Clone(opts.Warnings),
		Files:         out,
		Summary:       Summarize(out),
		Rules:         cat,
	}
}

// SortFindings sorts findings in place in report order: severity (most
// serious first), then member, offset, rule id and global.
func SortFindings(fs []finding.Finding) {
	slices.SortStableFunc(fs, compareFindings)
}

func compareFindings(a, b finding.Finding) int {
	if a.Severity != b.Severity {
		if a.Severity > b.Severity {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.Member, b.Member); c != 0 {
		return c
	}
	if a.Offset != b.Offset {
		if a.Offset < b.Offset {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.RuleID, b.RuleID); c != 0 {
		return c
	}
	return strings.Compare(a.Global, b.Global)
}

// Summarize counts files by status and findings by severity. Findings and
// BySeverity count active findings only (those that can fail the gate);
// suppressed findings are counted in Suppressed alone, so the total number
// of findings reported is Findings+Suppressed. BySeverity always has the
// keys critical, high, medium and low; other severities appear only when
// non-zero.
func Summarize(files []finding.FileResult) Summary {
	s := Summary{
		Files: len(files),
		BySeverity: map[string]int{
			finding.SeverityCritical.String(): 0,
			finding.SeverityHigh.String():     0,
			finding.SeverityMedium.String():   0,
			finding.SeverityLow.String():      0,
		},
	}
	for _, f := range files {
		switch f.Status {
		case finding.StatusScanned:
			s.Scanned++
		case finding.StatusSkipped:
			s.Skipped++
		case finding.StatusNotScanned:
			s.NotScanned++
		}
		for _, fd := range f.Findings {
			if fd.Suppression != nil {
				s.Suppressed++
				continue
			}
			s.Findings++
			s.BySeverity[fd.Severity.String()]++
		}
	}
	return s
}

// Clean reports whether a file has nothing to show: it was scanned or
// skipped, has no findings (active or suppressed), no unscanned content and
// no error.
func Clean(f *finding.FileResult) bool {
	return (f.Status == finding.StatusScanned || f.Status == finding.StatusSkipped) &&
		len(f.Findings) == 0 && len(f.Unscanned) == 0 && f.Error == ""
}

// Catalogue returns the report's rule catalogue, or the default one when
// the report has none.
func (r *Report) Catalogue() *rules.Catalogue {
	if r.Rules != nil {
		return r.Rules
	}
	return rules.Default()
}

// RuleIDs returns the ids of every rule the report refers to, from findings
// (suppressed ones included) and from unscanned items, sorted and unique.
func (r *Report) RuleIDs() []string {
	seen := map[string]bool{}
	var ids []string
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, f := range r.Files {
		for _, fd := range f.Findings {
			add(fd.RuleID)
		}
		for _, u := range f.Unscanned {
			add(u.RuleID)
		}
	}
	slices.Sort(ids)
	return ids
}

// UnreportedError reports whether f.Error is set but not already told by an
// unscanned item: the engine records a read error both as Error and as an
// MG905 item for the file itself, with a reason worded differently.
func UnreportedError(f *finding.FileResult) bool {
	if f.Error == "" {
		return false
	}
	for _, u := range f.Unscanned {
		if u.Member == "" && (u.RuleID == rules.NotScannedError || u.Reason == f.Error) {
			return false
		}
	}
	return true
}

// Printable makes s safe to print on a terminal or in a one-line message: control and format
// characters (including ESC and bidi overrides) and invalid UTF-8 are
// shown as Go escapes, everything printable is kept.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// Clip makes a value from a scanned file fit in a one-line message:
// control characters are escaped (Printable) and the value is shortened to
// n runes, the last one an ellipsis.
func Clip(s string, n int) string {
	s = Printable(s)
	if utf8.RuneCountInString(s) > n {
		r := []rune(s)
		s = string(r[:n-1]) + "…"
	}
	return s
}

// Limit cuts s to at most n bytes on a rune boundary.
func Limit(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
