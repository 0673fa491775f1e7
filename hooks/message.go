package hooks

import (
	"fmt"
	"io"
	"strings"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
)

// MessageOptions tunes the block message.
type MessageOptions struct {
	// PolicyFile is the policy the scan used ("" for the built-in one).
	PolicyFile string
	// Staged says the scan read the index, so unstaging is the way out.
	Staged bool
	// InCommit says a git commit or merge is running the hook (git sets
	// GIT_INDEX_FILE for its hooks); otherwise something else ran the
	// check, such as `pre-commit run --all-files`, and no commit is blocked.
	InCommit bool
}

// snippet is one suggested suppression.
type snippet struct{ path, rule, global string }

// WriteBlockMessage explains, briefly and without jargon, why a commit was
// stopped: each file with the rules that fired, the call and its
// arguments, how to fix them and whether an expired suppression used to
// accept them, then a suppression snippet for every blocked item. It
// writes nothing when the report passes.
func WriteBlockMessage(w io.Writer, rep *report.Report, pol *policy.Policy, opts MessageOptions) error {
	if rep.ExitCode == 0 {
		return nil
	}
	var b strings.Builder
	if opts.InCommit {
		b.WriteString("\nmodelgate blocked this commit: ")
	} else {
		b.WriteString("\nmodelgate check failed: ")
	}
	b.WriteString(rep.Verdict + ".\n")
	var snippets []snippet
	seen := map[snippet]bool{}
	add := func(s snippet) {
		if !seen[s] {
			seen[s] = true
			snippets = append(snippets, s)
		}
	}
	for _, f := range rep.Files {
		var lines []string
		for _, fd := range f.Findings {
			if fd.Suppression != nil || rep.FailOn == finding.SeverityNone || fd.Severity < rep.FailOn {
				continue
			}
			add(snippet{f.Path, fd.RuleID, fd.Global})
			where := ""
			if fd.Member != "" {
				where = " in " + fd.Member
			}
			lines = append(lines, fmt.Sprintf("    %s (%s)%s: %s", fd.RuleID, fd.Severity, where, oneLine(fd.Message)))
			switch {
			case fd.Call != "":
				lines = append(lines, "      call: "+oneLine(fd.Call))
			case fd.Evidence != "":
				lines = append(lines, "      evidence: "+oneLine(fd.Evidence))
			}
			if fix := fixFor(rep, fd.RuleID, fd.Fix); fix != "" {
				lines = append(lines, "      fix: "+fix)
			}
			if s, ok := pol.ExpiredSuppression(fd.RuleID, fd.Global, f.Path); ok {
				lines = append(lines, expiredLine(s))
			}
		}
		for _, u := range f.Unscanned {
			if u.Suppression != nil || !pol.FailsOnUnscanned(u) {
				continue
			}
			add(snippet{f.Path, u.RuleID, ""})
			where := ""
			if u.Member != "" {
				where = " in " + u.Member
			}
			lines = append(lines, fmt.Sprintf("    %s (not scanned)%s: %s", u.RuleID, where, oneLine(u.Reason)))
			if fix := fixFor(rep, u.RuleID, ""); fix != "" {
				lines = append(lines, "      fix: "+fix)
			}
			if s, ok := pol.ExpiredSuppression(u.RuleID, "", f.Path); ok {
				lines = append(lines, expiredLine(s))
			}
		}
		if len(lines) == 0 {
			continue
		}
		b.WriteString("\n  " + oneLine(f.Path) + "\n")
		b.WriteString(strings.Join(lines, "\n") + "\n")
	}
	if opts.Staged {
		b.WriteString("\nTo commit without a file, unstage it: git restore --staged <file>\n")
	}
	if len(snippets) > 0 {
		where := "your policy file (.modelgate.yaml at the top of the repository is used automatically)"
		if opts.PolicyFile != "" {
			where = opts.PolicyFile
		}
		fmt.Fprintf(&b, "\nIf you have reviewed a file and it is safe, accept it in %s,\nstating who reviewed it, when and why (the template reason is refused):\n\n", where)
		b.WriteString("  suppressions:\n")
		for _, s := range snippets {
			fmt.Fprintf(&b, "    - path: %q\n", oneLine(s.path))
			fmt.Fprintf(&b, "      rule: %s\n", s.rule)
			if s.global != "" {
				fmt.Fprintf(&b, "      global: %q\n", oneLine(s.global))
			}
			b.WriteString("      reason: \"Reviewed YYYY-MM-DD by NAME: why this file is safe\"\n")
		}
		b.WriteString("\nSuppression paths are relative to the policy file's directory.\n")
	}
	b.WriteString("\nWhat each rule means: modelgate rules\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func expiredLine(s policy.Suppression) string {
	return fmt.Sprintf("      suppression expired on %s (%s): review the file again and renew or remove it", s.Expires, oneLine(s.Reason))
}

// WriteCleanSummary is the hook's output for a passing report: one line
// when model files were checked (saying what was suppressed, with the
// reasons), nothing when there were none.
func WriteCleanSummary(w io.Writer, rep *report.Report) error {
	var reasons []string
	n := 0
	for _, f := range rep.Files {
		for _, fd := range f.Findings {
			if fd.Suppression != nil {
				n++
				reasons = appendUnique(reasons, oneLine(fd.Suppression.Reason))
			}
		}
		for _, u := range f.Unscanned {
			if u.Suppression != nil {
				n++
				reasons = appendUnique(reasons, oneLine(u.Suppression.Reason))
			}
		}
	}
	if rep.Summary.Scanned == 0 && n == 0 {
		return nil
	}
	line := fmt.Sprintf("modelgate: %d model file(s) checked", rep.Summary.Scanned)
	switch {
	case n == 1:
		line += fmt.Sprintf(", 1 finding suppressed (%s)", strings.Join(reasons, "; "))
	case n > 1:
		line += fmt.Sprintf(", %d findings suppressed (%s)", n, strings.Join(reasons, "; "))
	default:
		line += ", nothing found"
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

// WorthFullReport reports whether a passing report holds something a
// committer should read in full: findings below the gate or not-scanned
// items that are not suppressed.
func WorthFullReport(rep *report.Report) bool {
	for _, f := range rep.Files {
		for _, fd := range f.Findings {
			if fd.Suppression == nil {
				return true
			}
		}
		for _, u := range f.Unscanned {
			if u.Suppression == nil {
				return true
			}
		}
	}
	return false
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func fixFor(rep *report.Report, id, fix string) string {
	if fix != "" {
		return oneLine(fix)
	}
	if rep.Rules != nil {
		if r, ok := rep.Rules.Get(id); ok {
			return oneLine(r.Fix)
		}
	}
	return ""
}

// oneLine keeps a message to one short line: evidence can hold newlines
// and long constants taken from the file.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' ' // no terminal escapes from file content
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	const max = 200
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}
