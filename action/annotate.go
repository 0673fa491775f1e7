package action

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
)

// MaxAnnotationsPerKind is how many error (and warning) annotations GitHub
// shows for one step; the rest are dropped without a word, so the action
// emits the most severe and says how many more there are.
const MaxAnnotationsPerKind = 10

// Annotation is one workflow command on a file.
type Annotation struct {
	Level   string // error, warning or notice
	File    string
	Title   string
	Message string
	sev     finding.Severity
}

// sortedFindings returns the report's findings most severe first, then by
// path, so that the annotated ones are the ones that matter.
func sortedFindings(rep *report.Report) []finding.Finding {
	fs := rep.Findings()
	slices.SortStableFunc(fs, func(a, b finding.Finding) int {
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		return strings.Compare(a.Path, b.Path)
	})
	return fs
}

// Annotations picks what to annotate: errors for critical and high
// findings and for content the policy fails closed on (Git LFS pointers
// among them), warnings for medium findings, each capped at
// MaxAnnotationsPerKind; then one notice counting what was left out.
func Annotations(rep *report.Report, pol *policy.Policy) []Annotation {
	cat := rep.Catalogue()
	var errs, warns []Annotation
	for _, fd := range sortedFindings(rep) {
		if fd.Suppression != nil {
			continue
		}
		a := Annotation{File: fd.Path, Title: fd.RuleID, sev: fd.Severity}
		if r, ok := cat.Get(fd.RuleID); ok {
			a.Title += " " + r.Title
		}
		msg := fd.Message
		if fd.Member != "" {
			msg += " (in " + fd.Member + ")"
		}
		fix := fd.Fix
		if r, ok := cat.Get(fd.RuleID); ok && fix == "" {
			fix = r.Fix
		}
		if fix != "" {
			msg += ". Fix: " + fix
		}
		a.Message = fmt.Sprintf("%s: %s", fd.Severity, msg)
		switch fd.Severity {
		case finding.SeverityCritical, finding.SeverityHigh:
			a.Level = "error"
			errs = append(errs, a)
		case finding.SeverityMedium:
			a.Level = "warning"
			warns = append(warns, a)
		}
	}
	for _, f := range rep.Files {
		for _, u := range f.Unscanned {
			lfs := u.RuleID == rules.NotScannedLFS && u.Member == ""
			if !lfs && (u.Suppression != nil || !pol.FailsOnUnscanned(u)) {
				continue
			}
			a := Annotation{Level: "error", File: f.Path, Title: u.RuleID + " not scanned"}
			if lfs {
				a.Title = u.RuleID + " Git LFS pointer"
				a.Message = "This is a Git LFS pointer, not the model: check out with `lfs: true` (actions/checkout) so that modelgate scans the real file. " + u.Reason
			} else {
				a.Message = "Could not be scanned and the policy fails closed: " + u.Reason
			}
			errs = append(errs, a)
		}
	}
	var out []Annotation
	more := 0
	for _, list := range [][]Annotation{errs, warns} {
		n := min(len(list), MaxAnnotationsPerKind)
		out = append(out, list[:n]...)
		more += len(list) - n
	}
	if more > 0 {
		out = append(out, Annotation{Level: "notice", Title: "modelgate",
			Message: fmt.Sprintf("%d more finding(s) not annotated (GitHub shows %d errors and %d warnings per step): see the job summary, the JSON report or the Security tab.",
				more, MaxAnnotationsPerKind, MaxAnnotationsPerKind)})
	}
	return out
}

// Emit writes the annotations as workflow commands.
func Emit(a *githubactions.Action, anns []Annotation) {
	for _, an := range anns {
		fields := map[string]string{"title": clip(report.Printable(an.Title), 200)}
		if an.File != "" {
			fields["file"] = an.File
			fields["line"] = "1"
		}
		msg := clip(report.Printable(an.Message), 2000)
		w := a.WithFieldsMap(fields)
		switch an.Level {
		case "error":
			w.Errorf("%s", msg)
		case "warning":
			w.Warningf("%s", msg)
		default:
			w.Noticef("%s", msg)
		}
	}
}
