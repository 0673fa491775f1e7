package action

import (
	"fmt"
	"strings"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
)

// MaxSummaryBytes is what GitHub accepts from one step's summary (1 MiB);
// a larger one is rejected whole, so the summary is cut before it.
const MaxSummaryBytes = 1 << 20

// summaryReserve is kept free for the closing sections and the
// truncation note.
const summaryReserve = 16 << 10

// SummaryInfo is what the summary says beyond the report.
type SummaryInfo struct {
	PolicyFile string
	SARIFFile  string
	JSONFile   string
	// Scope says what was scanned, e.g. "files changed in abc...def".
	Scope string
	// Upload is the code-scanning upload's outcome in one sentence.
	Upload string
	// Limit overrides MaxSummaryBytes (tests).
	Limit int
}

// Summary renders the job summary: the verdict, a table of the files that
// block with severity, rule, call and fix, what was not scanned and why,
// Git LFS pointers, and how to accept a reviewed false positive. It never
// exceeds the limit: rows that do not fit are counted in a closing note.
func Summary(rep *report.Report, pol *policy.Policy, info SummaryInfo) string {
	limit := info.Limit
	if limit <= 0 {
		limit = MaxSummaryBytes
	}
	var b strings.Builder
	icon, word := "✅", "passed"
	if rep.Outcome.Failed() {
		icon, word = "❌", "blocked"
	}
	fmt.Fprintf(&b, "## %s modelgate %s: %s\n\n", icon, word, md(rep.Verdict))
	s := rep.Summary
	fmt.Fprintf(&b, "%d file(s) (%d scanned, %d not models, %d not scanned), %d active finding(s), %d suppressed. Policy: %s; fail-on: %s.",
		s.Files, s.Scanned, s.Skipped, s.NotScanned, s.Findings, s.Suppressed, md(rep.Policy.Source), rep.FailOn)
	if info.Scope != "" {
		b.WriteString(" Scope: " + md(info.Scope) + ".")
	}
	b.WriteString("\n\n")
	if s.Files == 0 {
		b.WriteString("> [!WARNING]\n> Nothing was scanned: the paths hold no files for this event.\n\n")
	}

	cat := rep.Catalogue()
	rows, dropped := 0, 0
	budget := func(row string) bool {
		if b.Len()+len(row) > limit-summaryReserve {
			dropped++
			return false
		}
		b.WriteString(row)
		rows++
		return true
	}

	blocking, below := splitFindings(rep)
	if len(blocking) > 0 {
		b.WriteString("### Blocked files\n\n| File | Severity | Rule | Call | Evidence | Fix |\n| --- | --- | --- | --- | --- | --- |\n")
		for _, fd := range blocking {
			budget(findingRow(cat, fd))
		}
		b.WriteString("\n")
	}
	if len(below) > 0 {
		fmt.Fprintf(&b, "### Below the threshold (%s), not blocking\n\n| File | Severity | Rule | Call | Evidence | Fix |\n| --- | --- | --- | --- | --- | --- |\n", rep.FailOn)
		for _, fd := range below {
			budget(findingRow(cat, fd))
		}
		b.WriteString("\n")
	}

	var lfsFiles []string
	wroteHeader := false
	for _, f := range rep.Files {
		for _, u := range f.Unscanned {
			if u.RuleID == rules.NotScannedLFS && u.Member == "" {
				lfsFiles = append(lfsFiles, f.Path)
			}
			if !wroteHeader {
				b.WriteString("### Not scanned\n\n| File | Rule | Why | Blocks the merge |\n| --- | --- | --- | --- |\n")
				wroteHeader = true
			}
			blocks := "no"
			if u.Suppression != nil {
				blocks = "no (suppressed: " + md(u.Suppression.Reason) + ")"
			} else if pol.FailsOnUnscanned(u) {
				blocks = "**yes** (the policy fails closed)"
			}
			where := f.Path
			if u.Member != "" {
				where += " › " + u.Member
			}
			budget(fmt.Sprintf("| `%s` | %s | %s | %s |\n", code(where), u.RuleID, md(u.Reason), blocks))
		}
	}
	if wroteHeader {
		b.WriteString("\n")
	}
	if len(lfsFiles) > 0 {
		fmt.Fprintf(&b, "> [!CAUTION]\n> %d file(s) are Git LFS pointers, not the models themselves: **check out with `lfs: true`** "+
			"(`actions/checkout` defaults to `lfs: false`), so that modelgate reads the real bytes.\n\n", len(lfsFiles))
	}
	if dropped > 0 {
		fmt.Fprintf(&b, "> [!NOTE]\n> This summary was cut at GitHub's 1 MiB limit: %d more row(s) are in the JSON report and the SARIF log.\n\n", dropped)
	}

	if fd, ok := firstSuppressible(blocking); ok {
		where := "a policy file"
		if info.PolicyFile != "" {
			where = "`" + code(info.PolicyFile) + "`"
		}
		fmt.Fprintf(&b, "<details><summary>Accepting a reviewed false positive</summary>\n\nAdd a suppression to %s, stating why, and pass it with the `policy` input:\n\n```yaml\nsuppressions:\n  - path: %q\n    rule: %s\n",
			where, fence(fd.Path), fd.RuleID)
		if fd.Global != "" {
			fmt.Fprintf(&b, "    global: %q\n", fence(fd.Global))
		}
		b.WriteString("    reason: \"Reviewed YYYY-MM-DD by NAME: why this file is safe\"\n```\n\n</details>\n\n")
	}
	var reports []string
	if info.SARIFFile != "" {
		reports = append(reports, "SARIF `"+code(info.SARIFFile)+"`")
	}
	if info.JSONFile != "" {
		reports = append(reports, "JSON `"+code(info.JSONFile)+"`")
	}
	if len(reports) > 0 {
		b.WriteString("Reports: " + strings.Join(reports, ", ") + ".")
	}
	if info.Upload != "" {
		b.WriteString(" Code scanning: " + md(info.Upload))
	}
	b.WriteString("\n")
	out := b.String()
	if len(out) > limit {
		// Only very long closing sections could get here; keep it valid.
		out = out[:limit-len(truncNote)] + truncNote
	}
	return out
}

const truncNote = "\n\n(summary cut at GitHub's 1 MiB limit)\n"

// splitFindings returns the active findings at or above the threshold and
// those below it, most severe first.
func splitFindings(rep *report.Report) (blocking, below []finding.Finding) {
	for _, fd := range sortedFindings(rep) {
		if fd.Suppression != nil {
			continue
		}
		if rep.FailOn != finding.SeverityNone && fd.Severity >= rep.FailOn {
			blocking = append(blocking, fd)
		} else {
			below = append(below, fd)
		}
	}
	return blocking, below
}

func firstSuppressible(fs []finding.Finding) (finding.Finding, bool) {
	if len(fs) == 0 {
		return finding.Finding{}, false
	}
	return fs[0], true
}

func findingRow(cat *rules.Catalogue, fd finding.Finding) string {
	where := fd.Path
	if fd.Member != "" {
		where += " › " + fd.Member
	}
	rule := fd.RuleID
	fix := fd.Fix
	if r, ok := cat.Get(fd.RuleID); ok {
		rule += " " + md(r.Title)
		if fix == "" {
			fix = r.Fix
		}
	}
	call := fd.Call
	if call == "" {
		call = fd.Global
	}
	return fmt.Sprintf("| `%s` | %s | %s | %s | %s | %s |\n",
		code(where), fd.Severity, rule, codeOrDash(call), codeOrDash(fd.Evidence), md(fix))
}

// clip keeps table cells short: evidence comes from the file.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// md makes text from a report safe inside a Markdown table cell: model
// content must not inject HTML, links, mentions or table structure.
func md(s string) string {
	s = clip(report.Printable(s), 400)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '|':
			b.WriteString(`\|`)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\n', '\r':
			b.WriteString(" ")
		case '\\', '`', '*', '_', '[', ']', '@', '#', '!', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// code makes text safe inside a one-backtick code span in a table cell.
func code(s string) string {
	s = clip(report.Printable(s), 200)
	s = strings.NewReplacer("`", "'", "|", `\|`, "\n", " ", "\r", " ").Replace(s)
	return s
}

func codeOrDash(s string) string {
	if s == "" {
		return "—"
	}
	return "`" + code(s) + "`"
}

// fence keeps a value safe inside a fenced YAML block (%q quotes it).
func fence(s string) string { return strings.ReplaceAll(report.Printable(s), "```", "'''") }
