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
}

// WriteBlockMessage explains, briefly and without jargon, why a commit was
// stopped: each file with the rules that fired and how to fix them, then
// how to accept a reviewed false positive. It writes nothing when the
// report passes.
func WriteBlockMessage(w io.Writer, rep *report.Report, pol *policy.Policy, opts MessageOptions) error {
	if rep.ExitCode == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("\nmodelgate blocked this commit: ")
	b.WriteString(rep.Verdict + ".\n")
	var suppressible []finding.Finding
	for _, f := range rep.Files {
		var lines []string
		for _, fd := range f.Findings {
			if fd.Suppression != nil || rep.FailOn == finding.SeverityNone || fd.Severity < rep.FailOn {
				continue
			}
			suppressible = append(suppressible, fd)
			where := ""
			if fd.Member != "" {
				where = " in " + fd.Member
			}
			lines = append(lines, fmt.Sprintf("    %s (%s)%s: %s", fd.RuleID, fd.Severity, where, oneLine(fd.Message)))
			if fix := fixFor(rep, fd.RuleID, fd.Fix); fix != "" {
				lines = append(lines, "      fix: "+fix)
			}
		}
		for _, u := range f.Unscanned {
			if !pol.FailsOnUnscanned(u) {
				continue
			}
			where := ""
			if u.Member != "" {
				where = " in " + u.Member
			}
			lines = append(lines, fmt.Sprintf("    %s (not scanned)%s: %s", u.RuleID, where, oneLine(u.Reason)))
			if fix := fixFor(rep, u.RuleID, ""); fix != "" {
				lines = append(lines, "      fix: "+fix)
			}
		}
		if len(lines) == 0 {
			continue
		}
		b.WriteString("\n  " + f.Path + "\n")
		b.WriteString(strings.Join(lines, "\n") + "\n")
	}
	if opts.Staged {
		b.WriteString("\nTo commit without a file, unstage it: git restore --staged <file>\n")
	}
	if len(suppressible) > 0 {
		fd := suppressible[0]
		where := "your policy file"
		if opts.PolicyFile != "" {
			where = opts.PolicyFile
		}
		fmt.Fprintf(&b, "\nIf you have reviewed a finding and it is a false positive, accept it in %s,\nstating why:\n\n", where)
		b.WriteString("  suppressions:\n")
		fmt.Fprintf(&b, "    - path: %q\n", fd.Path)
		fmt.Fprintf(&b, "      rule: %s\n", fd.RuleID)
		if fd.Global != "" {
			fmt.Fprintf(&b, "      global: %q\n", fd.Global)
		}
		b.WriteString("      reason: \"Reviewed YYYY-MM-DD by NAME: why this file is safe\"\n")
		if opts.PolicyFile == "" {
			b.WriteString("\nand pass the file to modelgate with --policy FILE (modelgate hook install --policy FILE,\nor args: [--policy, FILE] in .pre-commit-config.yaml).\n")
		}
	}
	b.WriteString("\nWhat each rule means: modelgate rules\n")
	_, err := io.WriteString(w, b.String())
	return err
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
