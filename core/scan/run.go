// Package scan is the one entry point from a source to a verdict:
//
//	rep, err := scan.Run(ctx, scan.Paths([]string{"models/"}, "."), scan.Options{FailOn: "high"})
//
// Run walks the source, scans every file through the engine with a bounded
// worker pool, recognises model directories, applies the policy (severity
// overrides, suppressions), decides the verdict and builds the report. The
// CLI, the commit hook and every CI or registry adapter call it and only
// render what it returns.
package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/lfs"
	"github.com/modelgate/modelgate/core/formats/list"
	"github.com/modelgate/modelgate/core/limits"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
	"github.com/modelgate/modelgate/core/signing"
)

// Options configures one scan. The zero value scans with the built-in
// formats, rules and policy and fails on high.
type Options struct {
	// Policy judges the scan (nil: the built-in policy). Build one from a
	// file (policy.Load), bytes (policy.Parse) or a struct (policy.New).
	Policy *policy.Policy
	// PolicySource labels the policy in reports ("built-in" when empty
	// and Policy is nil).
	PolicySource string
	// FailOn is the threshold: critical, high, medium, low or never
	// ("" means high).
	FailOn string
	// Limits, when set, replace the policy's limits for this scan.
	Limits *limits.Limits
	// MemoryLimit is a soft ceiling on the heap, in bytes, while the scan
	// runs (0: none beyond the process's own). The Go runtime has one such
	// target per process, so Run only ever lowers it, and puts back the
	// previous value when it returns unless someone changed it meanwhile.
	// GOMEMLIMIT in the environment wins.
	MemoryLimit int64
	// GCPercent, when positive, is the garbage collector's target for
	// the scan (the process's GOGC setting, restored afterwards; GOGC in
	// the environment wins). A scan's allocations are almost all
	// short-lived, so a higher value (the CLI uses 400) trades heap growth,
	// still bounded by MemoryLimit, for fewer collections.
	GCPercent int
	// Jobs is the number of files scanned in parallel (0: GOMAXPROCS).
	Jobs int
	// Formats are tried in order (nil: list.Default()).
	Formats []engine.Format
	// LFSStore resolves Git LFS pointers to their objects (nil: pointers
	// are reported as not scanned).
	LFSStore lfs.Store
	// Rules is the catalogue (nil: rules.Default()); add run-time rules
	// with rules.Catalogue.With.
	Rules *rules.Catalogue
	// ExtraDetectors are recorded in the report next to the formats
	// (out-of-process plugins, say).
	ExtraDetectors []report.Detector
	// TempDir holds spool files ("" for the system default).
	TempDir string
	// Root is the directory report paths are relative to, as shown in
	// the report.
	Root string
	// Tool identifies the producer (default: modelgate, version "dev").
	Tool report.Tool
	// Progress, when set, is called after each file.
	Progress func(done, total int, bytes int64)
	// HashAll computes every file's SHA-256 (inventories need them); by
	// default only files with something to report are hashed, so clean
	// multi-GB checkpoints are never read whole.
	HashAll bool
	// SignatureVerifier checks the OpenSSF model signatures a policy
	// requires (sigstoreverify.Verifier{}). It is an option, not a
	// dependency, because sigstore-go is the largest library modelgate
	// links and the scanner binary leaves it out; a policy that requires
	// signatures with no verifier set is an error, never a pass.
	SignatureVerifier signing.Verifier
	// NoModelDirs turns off model-directory recognition.
	NoModelDirs bool
	// Now is the clock for the report's times (nil: time.Now).
	Now func() time.Time
}

// ErrNoSignatureVerifier is returned, before anything is read, when the
// policy requires signatures and Options.SignatureVerifier is nil.
var ErrNoSignatureVerifier = errors.New("the policy requires model signatures, but no signature verifier is configured (scan.Options.SignatureVerifier)")

// DefaultTool is the report's tool when Options.Tool is empty.
var DefaultTool = report.Tool{Name: "modelgate", Version: "dev", URI: "https://github.com/modelgate/modelgate"}

// Run scans src and returns the report with the policy applied and the
// verdict decided. The error is non-nil only when the scan as a whole could
// not run: bad options, a path that names nothing (*PathError), or
// cancellation. Problems with single files are in the report.
func Run(ctx context.Context, src Source, opts Options) (*report.Report, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	started := now()
	failOn := finding.SeverityHigh
	if opts.FailOn != "" {
		var err error
		if failOn, err = finding.ParseSeverity(opts.FailOn); err != nil {
			return nil, fmt.Errorf("fail-on: %w", err)
		}
	}
	if opts.Jobs < 0 {
		return nil, fmt.Errorf("jobs must be at least 1, got %d", opts.Jobs)
	}
	pol := opts.Policy
	polSource := opts.PolicySource
	if pol == nil {
		pol = policy.Default()
		if polSource == "" {
			polSource = "built-in"
		}
	}
	if len(pol.Signatures()) > 0 && opts.SignatureVerifier == nil {
		return nil, ErrNoSignatureVerifier
	}
	formats := opts.Formats
	if formats == nil {
		formats = list.Default()
	}
	if opts.LFSStore != nil {
		formats = list.WithLFSStore(formats, opts.LFSStore)
	}
	cat := opts.Rules
	if cat == nil {
		cat = rules.Default()
	}
	eng, err := engine.New(engine.Options{Formats: formats, Policy: pol, Jobs: opts.Jobs,
		TempDir: opts.TempDir, Rules: cat, Limits: opts.Limits, HashAll: opts.HashAll})
	if err != nil {
		return nil, err
	}
	if opts.MemoryLimit > 0 {
		defer lowerMemoryLimit(opts.MemoryLimit)()
	}
	if opts.GCPercent > 0 {
		if _, set := os.LookupEnv("GOGC"); !set {
			prev := debug.SetGCPercent(opts.GCPercent)
			defer debug.SetGCPercent(prev)
		}
	}

	entries, results, err := scanSource(ctx, eng, src, opts.Progress)
	if err != nil {
		return nil, err
	}
	var models []report.Model
	if !opts.NoModelDirs {
		models, results = analyzeModels(ctx, eng, src, entries, results)
	}
	results, models = checkSignatures(ctx, opts.SignatureVerifier, pol.Signatures(), src, entries, results, models, cat)
	if opts.Root != "" {
		// Suppression paths of a policy file are relative to its own
		// directory; the policy needs to know where report paths start.
		pol = pol.ForRoot(opts.Root)
	}
	pol.Apply(results)
	warnings := pol.Audit(results)
	code, verdict := pol.Decide(results, failOn)
	tool := opts.Tool
	if tool.Name == "" {
		tool = DefaultTool
	}
	rep := report.Build(results, report.Options{
		Tool: tool, Rules: cat, Root: opts.Root,
		FailOn: failOn, ExitCode: code, Verdict: verdict,
		PolicyFile: pol.File(), Warnings: warnings,
		StartedAt: started, FinishedAt: now(),
	})
	rep.Policy = report.PolicyInfo{Source: polSource}
	rep.Models = models
	for _, f := range formats {
		d := report.Detector{Name: f.Name(), Version: engine.FormatVersion(f)}
		if !slices.Contains(rep.Detectors, d) {
			rep.Detectors = append(rep.Detectors, d)
		}
	}
	// An extra detector replaces the entry of the format it stands for (a
	// plugin is both a format and a detector with Plugin set).
	for _, x := range opts.ExtraDetectors {
		if i := slices.IndexFunc(rep.Detectors, func(d report.Detector) bool { return d.Name == x.Name }); i >= 0 {
			rep.Detectors[i] = x
			continue
		}
		rep.Detectors = append(rep.Detectors, x)
	}
	return rep, nil
}

// scanSource walks src and scans each entry as the walk yields it, so
// that the walk of a large tree (a directory read, an lstat and a few path
// operations per file) overlaps the scanning instead of preceding it. This
// is the one worker pool: every source goes through it. Entries that share
// an identity (links to one blob) keep their order and are scanned once,
// by the first of them. A walk error (a path that names nothing) stops the
// scan and is returned, as is cancellation.
func scanSource(ctx context.Context, eng *engine.Engine, src Source, progress func(done, total int, bytes int64)) ([]Entry, []finding.FileResult, error) {
	parent := ctx
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	type task struct {
		e   Entry
		out *finding.FileResult
	}
	// The walk runs ahead of the workers by up to this many entries.
	work := make(chan task, 1024)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var queued atomic.Int64
	done := 0
	var doneBytes int64
	for range eng.Jobs() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				if ctx.Err() != nil {
					continue // drain: the walk stops at its next entry
				}
				*t.out = scanEntry(ctx, eng, t.e)
				if progress != nil {
					mu.Lock()
					done++
					doneBytes += t.out.Size
					d, b := done, doneBytes
					mu.Unlock()
					progress(d, int(queued.Load()), b)
				}
			}
		}()
	}
	var entries []Entry
	var outs []*finding.FileResult
	var dupOf []int
	first := map[string]int{}
	werr := src.Walk(ctx, func(e Entry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		i := len(entries)
		entries = append(entries, e)
		out := new(finding.FileResult)
		outs = append(outs, out)
		dupOf = append(dupOf, -1)
		if e.Identity != "" {
			if j, ok := first[e.Identity]; ok {
				dupOf[i] = j
				return nil
			}
			first[e.Identity] = i
		}
		queued.Add(1)
		work <- task{e: e, out: out}
		return nil
	})
	if werr != nil {
		cancel()
	}
	close(work)
	wg.Wait()
	if err := parent.Err(); err != nil {
		return nil, nil, fmt.Errorf("scan cancelled: %w", err)
	}
	if werr != nil {
		return nil, nil, werr
	}
	results := make([]finding.FileResult, len(entries))
	for i, o := range outs {
		if j := dupOf[i]; j >= 0 {
			results[i] = retarget(*outs[j], entries[i].Path)
			continue
		}
		results[i] = *o
	}
	return entries, results, nil
}

// retarget copies a result for another path to the same content.
func retarget(r finding.FileResult, path string) finding.FileResult {
	r.Path = path
	r.Findings = slices.Clone(r.Findings)
	for k := range r.Findings {
		r.Findings[k].Path = path
	}
	r.Unscanned = slices.Clone(r.Unscanned)
	r.Formats = slices.Clone(r.Formats)
	return r
}

type sizedReaderAt interface {
	io.ReaderAt
	Size() int64
}

func scanEntry(ctx context.Context, eng *engine.Engine, e Entry) finding.FileResult {
	if e.Err != nil || e.Open == nil {
		err := e.Err
		if err == nil {
			err = errors.New("no content")
		}
		return unreadable(e.Path, err)
	}
	rc, err := e.Open(ctx)
	if err != nil {
		return unreadable(e.Path, err)
	}
	defer rc.Close()
	switch r := rc.(type) {
	case *memFile:
		return eng.ScanReaderAt(ctx, e.Path, r.Memory, r.Size())
	case sizedReaderAt:
		return eng.ScanReaderAt(ctx, e.Path, r, r.Size())
	case *os.File:
		st, err := r.Stat()
		if err != nil {
			return unreadable(e.Path, err)
		}
		if size := st.Size(); size > 0 && size <= wholeReadBytes {
			// Sniffing and parsing read a small file in many small
			// pieces (head, zip end record, central directory, member
			// headers, hash); one read and then memory is cheaper.
			buf := make([]byte, size)
			n, err := r.ReadAt(buf, 0)
			if err != nil && !(errors.Is(err, io.EOF) && int64(n) == size) {
				return unreadable(e.Path, err)
			}
			return eng.ScanReaderAt(ctx, e.Path, engine.Memory(buf), size)
		}
		return eng.ScanReaderAt(ctx, e.Path, r, st.Size())
	}
	return eng.ScanReader(ctx, e.Path, rc)
}

// unreadable records a file that names something but cannot be read. It
// fails closed only when the name is model-like: a dangling README link is
// not a model, a dangling pytorch_model.bin is.
func unreadable(path string, err error) finding.FileResult {
	return finding.FileResult{Path: path, Status: finding.StatusNotScanned, Error: err.Error(),
		Unscanned: []finding.Unscanned{{RuleID: rules.NotScannedError, Reason: err.Error(),
			ModelLike: engine.IsModelLikeName(path)}}}
}

// lowerMemoryLimit lowers the runtime's soft memory limit to limit and
// returns a function that restores the previous one.
func lowerMemoryLimit(limit int64) func() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return func() {}
	}
	prev := debug.SetMemoryLimit(-1)
	if limit >= prev {
		return func() {}
	}
	debug.SetMemoryLimit(limit)
	return func() {
		if debug.SetMemoryLimit(-1) == limit {
			debug.SetMemoryLimit(prev)
		}
	}
}
