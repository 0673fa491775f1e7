package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/list"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/report/jsonreport"
	"github.com/modelgate/modelgate/core/report/sarif"
	"github.com/modelgate/modelgate/core/report/text"
	"github.com/modelgate/modelgate/core/rules"
)

type scanFlags struct {
	format, output, failOn, policyFile, root string
	sarifCategory                            string
	jobs                                     int
	verbose                                  bool
}

func newScanCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var fl scanFlags
	cmd := &cobra.Command{
		Use:   "scan [flags] PATH...",
		Short: "Scan files and directories (recursively); \"-\" reads stdin",
		Long: `Scan model files by content, whatever their names.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it;
2 usage error, or content that could not be scanned while the policy fails closed.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd.Context(), fl, args, stdin, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.format, "format", "text", "output format: text, json or sarif")
	f.StringVarP(&fl.output, "output", "o", "", "write the report to FILE instead of stdout")
	f.StringVar(&fl.failOn, "fail-on", "high", "fail on findings at or above: critical, high, medium, low or never")
	f.StringVar(&fl.policyFile, "policy", "", "YAML policy file (default: built-in policy)")
	f.StringVar(&fl.root, "root", "", "report paths relative to DIR (default: current directory)")
	f.IntVar(&fl.jobs, "jobs", 0, "files scanned in parallel (default: GOMAXPROCS)")
	f.BoolVarP(&fl.verbose, "verbose", "v", false, "text format: list clean files and show full evidence")
	f.StringVar(&fl.sarifCategory, "sarif-category", "", "sarif format: automationDetails category, to tell apart several analyses of one commit")
	return cmd
}

func writerFor(fl scanFlags, color bool) (report.Writer, error) {
	switch fl.format {
	case "text":
		return text.New(text.Options{Color: color, Verbose: fl.verbose}), nil
	case "json":
		return jsonreport.New(), nil
	case "sarif":
		return sarif.New(sarif.Options{Category: fl.sarifCategory}), nil
	}
	return nil, fmt.Errorf("unknown --format %q (want text, json or sarif)", fl.format)
}

func runScan(ctx context.Context, fl scanFlags, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	started := time.Now()
	failOn, err := finding.ParseSeverity(fl.failOn)
	if err != nil {
		return usageErr("--fail-on: %v", err)
	}
	pol := policy.Default()
	if fl.policyFile != "" {
		if pol, err = policy.Load(fl.policyFile, started); err != nil {
			return usageErr("%v", err)
		}
	}
	root := fl.root
	if root == "" {
		if root, err = os.Getwd(); err != nil {
			return usageErr("working directory: %v", err)
		}
	}
	out := stdout
	toFile := fl.output != "" && fl.output != "-"
	color := !toFile && isTerminal(stdout) && os.Getenv("NO_COLOR") == ""
	w, err := writerFor(fl, color)
	if err != nil {
		return usageErr("%v", err)
	}
	eng, err := engine.New(engine.Options{Formats: list.Default(), Policy: pol, Jobs: fl.jobs})
	if err != nil {
		return usageErr("%v", err)
	}

	var paths []string
	var results []finding.FileResult
	for _, a := range args {
		if a == "-" {
			results = append(results, eng.ScanReader(ctx, "<stdin>", stdin))
			continue
		}
		if _, err := os.Stat(a); err != nil {
			return usageErr("%v", err)
		}
		paths = append(paths, a)
	}
	if len(paths) > 0 {
		prog := newProgress(stderr)
		res, err := eng.ScanPaths(ctx, paths, root, prog.update)
		prog.finish()
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		results = append(results, res...)
	}
	pol.Apply(results)
	code, verdict := pol.Decide(results, failOn)
	rootDisplay := root
	if abs, err := filepath.Abs(root); err == nil {
		rootDisplay = abs
	}
	rep := report.Build(results, report.Options{
		Tool:   report.Tool{Name: "modelgate", Version: Version, URI: "https://github.com/modelgate/modelgate"},
		Rules:  rules.Default(),
		Root:   filepath.ToSlash(rootDisplay),
		FailOn: failOn, ExitCode: code, Verdict: verdict,
		StartedAt: started, FinishedAt: time.Now(),
	})
	if toFile {
		f, err := os.Create(fl.output)
		if err != nil {
			return usageErr("--output: %v", err)
		}
		defer f.Close()
		out = f
	}
	if err := w.Write(ctx, out, rep); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("write report: %w", err)}
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress draws a one-line bar on a terminal once a scan has run for a
// second; never in CI logs or pipes.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	start time.Time
	last  time.Time
	drawn bool
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, on: isTerminal(w) && os.Getenv("CI") == "", start: time.Now()}
}

func (p *progress) update(done, total int, bytes int64) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.start) < time.Second || now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	p.drawn = true
	const width = 30
	fill := 0
	if total > 0 {
		fill = done * width / total
	}
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '-'
		if i < fill {
			bar[i] = '#'
		}
	}
	mb := float64(bytes) / (1 << 20)
	fmt.Fprintf(p.w, "\r[%s] %d/%d files, %.0f MB, %.0f MB/s ", bar, done, total, mb, mb/now.Sub(p.start).Seconds())
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
