package cli

import (
	"github.com/modelgate/modelgate/internal/climain"

	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/lfs"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/report/cyclonedx"
	"github.com/modelgate/modelgate/core/report/jsonreport"
	"github.com/modelgate/modelgate/core/report/sarif"
	"github.com/modelgate/modelgate/core/report/text"
	"github.com/modelgate/modelgate/core/scan"
	"github.com/modelgate/modelgate/gitlab"
	"github.com/modelgate/modelgate/hooks"
	"github.com/modelgate/modelgate/hooks/gitsource"
)

type scanFlags struct {
	format, output, failOn, policyFile, root string
	sarifCategory                            string
	stdinName                                string
	cyclonedxVersion                         string
	deterministic                            bool
	// noGate reports without failing (inventory).
	noGate                   bool
	jobs                     int
	verbose, noConfig, quiet bool
	color                    string
	// Git sources: the index, or the files a revision range changes.
	staged  bool
	gitDiff string
	// hook shortens text output for commit hooks (see hookOutput).
	hook bool
	// gitlabSchemaVersion is the gitlab-sast format's declared version.
	gitlabSchemaVersion string
	// reports are extra FORMAT=FILE outputs of the same scan.
	reports []string
	// plugins are --plugin values (see plugins.go).
	plugins []string
}

func newScanCmd(b *build) *cobra.Command {
	var fl scanFlags
	cmd := &cobra.Command{
		Use:   "scan [flags] PATH...",
		Short: "Scan files and directories (recursively); \"-\" reads stdin",
		Long: `Scan model files by content, whatever their names.

With --staged, scan what the next commit adds (the index, not the working
tree); with --git-diff BASE[..HEAD], the files a revision range adds or
modifies, read from the object store. PATHs then narrow the scan to those
files or directories. Git LFS pointers are resolved to their local objects.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it;
2 usage error, or content that could not be scanned while the policy fails closed.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !fl.staged && fl.gitDiff == "" {
				return usageErr("scan needs a PATH, --staged or --git-diff")
			}
			return checkScanFlags(fl)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd.Context(), b, fl, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.format, "format", "text", "output format: text, json, sarif, cyclonedx, gitlab-sast, codequality or gitlab-log")
	f.StringVarP(&fl.output, "output", "o", "", "write the report to FILE instead of stdout")
	f.StringVar(&fl.failOn, "fail-on", "high", "fail on findings at or above: critical, high, medium, low or never")
	f.StringVar(&fl.policyFile, "policy", "", "YAML policy file (default: .modelgate.yaml or .modelgate.yml in the scanned directory or at the repository top, else the built-in policy)")
	f.BoolVar(&fl.noConfig, "no-config", false, "do not look for .modelgate.yaml; use the built-in policy unless --policy is given")
	f.StringVar(&fl.root, "root", "", "report paths relative to DIR (default: current directory)")
	f.IntVar(&fl.jobs, "jobs", runtime.GOMAXPROCS(0), "files scanned in parallel, at least 1")
	f.BoolVarP(&fl.verbose, "verbose", "v", false, "text format: list clean files and show full evidence; name the policy file used")
	f.BoolVarP(&fl.quiet, "quiet", "q", false, "text format: print only the verdict line (and errors)")
	f.StringVar(&fl.color, "color", "auto", "text format colours: auto (on a terminal, unless NO_COLOR is set), always or never")
	f.StringVar(&fl.sarifCategory, "sarif-category", "", "sarif format: automationDetails category, to tell apart several analyses of one commit")
	f.BoolVar(&fl.staged, "staged", false, "scan the staged content (git index) that the next commit adds")
	f.StringVar(&fl.gitDiff, "git-diff", "", "scan files added or modified in a revision range: BASE, BASE..HEAD or BASE...HEAD")
	f.StringVar(&fl.stdinName, "stdin-name", "", "with \"-\": the name stdin is reported and judged under, e.g. model.bin")
	f.BoolVar(&fl.hook, "hook", false, "commit-hook output: a short block message on failure; when it passes, one line if model files were checked, nothing if there were none")
	addInventoryFlags(f, &fl)
	f.StringVar(&fl.gitlabSchemaVersion, "gitlab-schema-version", gitlab.DefaultSchemaVersion, "gitlab-sast format: security report schema version to declare ("+strings.Join(gitlab.SchemaVersions(), " or ")+")")
	f.StringArrayVar(&fl.reports, "report", nil, "also write the same scan as FORMAT to FILE (FORMAT=FILE, repeatable), e.g. gitlab-sast=gl-sast-report.json")
	addPluginFlag(f, &fl.plugins)
	return cmd
}

func writerFor(fl scanFlags, color bool) (report.Writer, error) {
	switch fl.format {
	case "text":
		return text.New(text.Options{Color: color, Verbose: fl.verbose, Quiet: fl.quiet}), nil
	case "json":
		return jsonreport.New(), nil
	case "sarif":
		return sarif.New(sarif.Options{Category: fl.sarifCategory}), nil
	case "cyclonedx":
		return cyclonedx.New(cyclonedx.Options{SpecVersion: fl.cyclonedxVersion, Deterministic: fl.deterministic})
	case "gitlab-sast":
		return gitlab.NewSAST(gitlab.SASTOptions{SchemaVersion: fl.gitlabSchemaVersion})
	case "codequality":
		return gitlab.NewCodeQuality(), nil
	case "gitlab-log":
		return gitlab.NewLog(gitlab.LogOptions{Color: color}), nil
	}
	return nil, fmt.Errorf("unknown --format %q (want text, json, sarif, cyclonedx, gitlab-sast, codequality or gitlab-log)", fl.format)
}

func runScan(ctx context.Context, b *build, fl scanFlags, args []string) error {
	stdin, stdout, stderr := b.stdin, b.stdout, b.stderr
	started := time.Now()
	if _, err := finding.ParseSeverity(fl.failOn); err != nil {
		return usageErr("--fail-on: %v", err)
	}
	policyFile, err := policyFileFor(fl, args)
	if err != nil {
		return usageErr("%v", err)
	}
	pol := policy.Default()
	if policyFile != "" {
		if pol, err = policy.Load(policyFile, started); err != nil {
			return usageErr("%v", err)
		}
	}
	specs, err := pluginSpecs(fl.plugins, pol, policyFile)
	if err != nil {
		return usageErr("%v", err)
	}
	if len(specs) > 0 {
		if err := b.handOff(ctx, b.features.LoadPlugins != nil, "a scan with detector plugins"); err != nil {
			return err
		}
	}
	if len(pol.Signatures()) > 0 {
		if err := b.handOff(ctx, b.features.Signatures != nil, "a policy that requires model signatures"); err != nil {
			return err
		}
	}
	if policyFile != "" && fl.verbose {
		fmt.Fprintf(stderr, "modelgate: policy %s\n", policyFile)
	}
	polSource := "built-in"
	if policyFile != "" {
		polSource = policyFile
	}
	gitMode := fl.staged || fl.gitDiff != ""
	if fl.staged && fl.gitDiff != "" {
		return usageErr("--staged and --git-diff cannot be combined")
	}
	toFile := fl.output != "" && fl.output != "-"
	color := useColor(fl.color, toFile, stdout)
	if fl.format == "gitlab-log" && !toFile && fl.color == "auto" && gitlab.RunnerShowsColor(os.Getenv) {
		color = true
	}
	w, err := writerFor(fl, color)
	if err != nil {
		return usageErr("%v", err)
	}
	extra, err := extraReports(fl)
	if err != nil {
		return usageErr("%v", err)
	}
	// Inside a repository, LFS pointers resolve to the local objects; a
	// failure to find one only means pointers are reported as not scanned.
	layout, layoutErr := gitsource.Locate(".")
	opts := scan.Options{
		Policy: pol, PolicySource: polSource, FailOn: fl.failOn, Jobs: fl.jobs, MemoryLimit: softMemoryLimit, GCPercent: gcPercent,
		Tool: report.Tool{Name: "modelgate", Version: climain.Version, URI: "https://github.com/modelgate/modelgate"},
	}
	if layoutErr == nil {
		opts.LFSStore = lfs.DirStore(layout.LFSObjectsDir())
	}
	// An inventory records every file's digest, not only the reported ones.
	opts.HashAll = fl.format == "cyclonedx" || extra.has("cyclonedx")
	opts.SignatureVerifier = b.features.Signatures
	plugins, err := loadPlugins(ctx, b.features, specs, nil)
	if err != nil {
		return usageErr("%v", err)
	}
	if plugins != nil {
		defer plugins.Close()
	}
	if err := usePlugins(plugins, &opts); err != nil {
		return usageErr("%v", err)
	}

	root := fl.root
	var src scan.Source
	if gitMode {
		if layoutErr != nil {
			return usageErr("%v", layoutErr)
		}
		if layout.WorkTree != "" {
			root = layout.WorkTree
		}
		if src, err = gitSource(ctx, layout, fl, args); err != nil {
			return err
		}
	} else {
		if root == "" {
			if root, err = os.Getwd(); err != nil {
				return usageErr("working directory: %v", err)
			}
		}
		if src, err = argsSource(args, root, fl.stdinName, stdin); err != nil {
			return err
		}
	}
	if root == "" {
		root = "."
	}
	rootDisplay := root
	if abs, err := filepath.Abs(root); err == nil {
		rootDisplay = abs
	}
	opts.Root = filepath.ToSlash(rootDisplay)
	// Hook messages look suppressions up as the scan applied them.
	pol = pol.ForRoot(root)
	opts.Policy = pol
	prog := newProgress(stderr)
	opts.Progress = prog.update
	rep, err := scan.Run(ctx, src, opts)
	prog.finish()
	if err != nil {
		return climain.Exit(2, err)
	}
	if rep.Summary.Files == 0 && !fl.hook {
		fmt.Fprintln(stderr, "modelgate: nothing to scan: "+emptyWhat(fl))
	}
	writeWarnings(stderr, rep.Warnings, fl.hook)
	code := rep.Outcome.ExitCode()
	if fl.hook && fl.format == "text" && !toFile {
		if err := hookOutput(ctx, w, rep, pol, fl, stdout, stderr); err != nil {
			return climain.Exit(2, err)
		}
	} else {
		out := stdout
		if toFile {
			f, err := os.Create(fl.output)
			if err != nil {
				return usageErr("--output: %v", err)
			}
			defer f.Close()
			out = f
		}
		if err := w.Write(ctx, out, rep); err != nil {
			return climain.Exit(2, fmt.Errorf("write report: %w", err))
		}
		if fl.hook {
			if err := hooks.WriteBlockMessage(stderr, rep, pol, hookMessageOptions(rep, fl)); err != nil {
				return climain.Exit(2, err)
			}
		}
	}
	if err := extra.write(ctx, rep); err != nil {
		return climain.Exit(2, err)
	}
	if code != 0 && !fl.noGate {
		return climain.Exit(code, nil)
	}
	return nil
}

// softMemoryLimit keeps the garbage collector ahead of the short-lived
// buffers (decompression dictionaries, spools, reader buffers) that a scan
// allocates per file, so peak memory tracks what is live rather than twice
// that. It is a target, not a cap: a scan that needs more still gets it.
// GOMEMLIMIT overrides it.
const softMemoryLimit = 80 << 20

// gcPercent lets the heap grow to five times what is live before a
// collection, where the default is twice. A scan's allocations are almost
// all short-lived (a pickle of records builds and drops millions of values,
// a few KB of them live), so collections cost in proportion to their
// number; the soft limit above still bounds the heap. GOGC overrides it.
const gcPercent = 400

func emptyWhat(fl scanFlags) string {
	switch {
	case fl.staged:
		return "the index stages no file that changes"
	case fl.gitDiff != "":
		return fmt.Sprintf("%s adds or modifies no file", fl.gitDiff)
	}
	return "the paths hold no files"
}

// argsSource turns PATH arguments and "-" (stdin, at most once) into one
// source.
func argsSource(args []string, root, stdinName string, stdin io.Reader) (scan.Source, error) {
	var sources []scan.Source
	var paths []string
	sawStdin := false
	for _, a := range args {
		if a != "-" {
			paths = append(paths, a)
			continue
		}
		if sawStdin {
			return nil, usageErr(`"-" (stdin) can be given only once`)
		}
		sawStdin = true
		name := stdinName
		if name == "" {
			name = "<stdin>"
		}
		sources = append(sources, scan.Stream(name, stdin))
	}
	if stdinName != "" && !sawStdin {
		return nil, usageErr(`--stdin-name needs "-" among the paths`)
	}
	if len(paths) > 0 {
		sources = append([]scan.Source{scan.Paths(paths, root)}, sources...)
	}
	return scan.Multi(sources...), nil
}

// hookOutput is the text output of a commit hook: the block message when
// the commit is stopped, the full report when something unsuppressed below
// the gate is worth a look, else one line when model files were checked
// (nothing when there were none).
func hookOutput(ctx context.Context, w report.Writer, rep *report.Report, pol *policy.Policy, fl scanFlags, stdout, stderr io.Writer) error {
	if rep.ExitCode != 0 {
		return hooks.WriteBlockMessage(stderr, rep, pol, hookMessageOptions(rep, fl))
	}
	if hooks.WorthFullReport(rep) {
		return w.Write(ctx, stdout, rep)
	}
	return hooks.WriteCleanSummary(stderr, rep)
}

func hookMessageOptions(rep *report.Report, fl scanFlags) hooks.MessageOptions {
	return hooks.MessageOptions{PolicyFile: rep.PolicyFile, Staged: fl.staged, InCommit: os.Getenv("GIT_INDEX_FILE") != ""}
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
