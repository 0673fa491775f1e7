package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/modelgate/modelgate/core/report"
)

// extraReport is one --report FORMAT=FILE: a CI job that wants several
// formats (GitLab's security and Code Quality reports, SARIF, JSON) gets
// them from one scan instead of scanning the models once per format.
type extraReport struct {
	w    report.Writer
	file string
}

type extraReportList []extraReport

func extraReports(fl scanFlags) (extraReportList, error) {
	var out extraReportList
	seen := map[string]bool{}
	for _, spec := range fl.reports {
		format, file, ok := strings.Cut(spec, "=")
		if !ok || format == "" || file == "" || file == "-" {
			return nil, fmt.Errorf("--report %q: want FORMAT=FILE", spec)
		}
		if seen[file] || (file == fl.output && fl.output != "") {
			return nil, fmt.Errorf("--report %q: %s is written twice", spec, file)
		}
		seen[file] = true
		sub := fl
		sub.format = format
		// Files get no colour and full detail is the format's own choice.
		w, err := writerFor(sub, false)
		if err != nil {
			return nil, fmt.Errorf("--report %q: %w", spec, err)
		}
		out = append(out, extraReport{w: w, file: file})
	}
	return out, nil
}

// has reports whether one of the reports is in format name.
func (l extraReportList) has(name string) bool {
	for _, e := range l {
		if e.w.Name() == name {
			return true
		}
	}
	return false
}

func (l extraReportList) write(ctx context.Context, rep *report.Report) error {
	for _, e := range l {
		f, err := os.Create(e.file)
		if err != nil {
			return fmt.Errorf("--report: %w", err)
		}
		err = e.w.Write(ctx, f, rep)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s report %s: %w", e.w.Name(), e.file, err)
		}
	}
	return nil
}
