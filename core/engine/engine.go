package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"unicode/utf8"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/limits"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/rules"
	"github.com/modelgate/modelgate/core/spool"
)

// Options configures an Engine.
type Options struct {
	// Formats are tried in order; the first whose Match accepts the content
	// scans it. See core/formats/list for the default list.
	Formats []Format
	// Policy judges pickle traces and supplies the limits. Nil means the
	// built-in policy.
	Policy *policy.Policy
	// Jobs is the number of files scanned in parallel (default GOMAXPROCS).
	Jobs int
	// TempDir holds spool files for large decompressed streams (default
	// os.TempDir()).
	TempDir string
	// Rules is the rule catalogue used to fill default severities and fix
	// hints (default rules.Default()).
	Rules *rules.Catalogue
	// Limits, when set, replace the policy's limits for this engine, so
	// one embedding process can scan with different bounds per caller.
	Limits *limits.Limits
	// HashAll computes every file's SHA-256, not only those with
	// something to report (inventories and signature checks need them).
	HashAll bool
}

// Engine scans files. It holds no per-scan state and is safe for
// concurrent use.
type Engine struct {
	formats []Format
	policy  *policy.Policy
	limits  limits.Limits
	jobs    int
	tempDir string
	rules   *rules.Catalogue
	hashAll bool
}

// New builds an engine.
func New(opts Options) (*Engine, error) {
	if len(opts.Formats) == 0 {
		return nil, errors.New("engine: no formats configured")
	}
	pol := opts.Policy
	if pol == nil {
		pol = policy.Default()
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	cat := opts.Rules
	if cat == nil {
		cat = rules.Default()
	}
	lim := pol.Limits()
	if opts.Limits != nil {
		lim = opts.Limits.WithDefaults()
	}
	return &Engine{
		formats: opts.Formats,
		policy:  pol,
		limits:  lim,
		jobs:    jobs,
		tempDir: opts.TempDir,
		rules:   cat,
		hashAll: opts.HashAll,
	}, nil
}

// Policy returns the policy the engine judges with.
func (e *Engine) Policy() *policy.Policy { return e.policy }

// Limits returns the limits the engine enforces.
func (e *Engine) Limits() limits.Limits { return e.limits }

// Jobs is the number of files the engine's callers should scan in parallel.
func (e *Engine) Jobs() int { return e.jobs }

// TempDir is where spool files go ("" for the system default).
func (e *Engine) TempDir() string { return e.tempDir }

// Rules returns the rule catalogue findings refer to.
func (e *Engine) Rules() *rules.Catalogue { return e.rules }

// Formats returns the formats the engine tries, in order.
func (e *Engine) Formats() []Format { return e.formats }

// ScanFile scans one file on disk; display is the path used in reports.
func (e *Engine) ScanFile(ctx context.Context, file, display string) finding.FileResult {
	f, err := os.Open(file)
	if err != nil {
		return finding.FileResult{Path: display, Status: finding.StatusNotScanned, Error: err.Error(),
			Unscanned: []finding.Unscanned{{RuleID: rules.NotScannedError, Reason: fmt.Sprintf("open: %v", err), ModelLike: true}}}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return finding.FileResult{Path: display, Status: finding.StatusNotScanned, Error: err.Error(),
			Unscanned: []finding.Unscanned{{RuleID: rules.NotScannedError, Reason: fmt.Sprintf("stat: %v", err), ModelLike: true}}}
	}
	return e.ScanReaderAt(ctx, display, f, st.Size())
}

// ScanReader scans a stream (stdin, a git blob, an HTTP download) by
// spooling it first; display is the path used in reports.
func (e *Engine) ScanReader(ctx context.Context, display string, r io.Reader) finding.FileResult {
	sp, err := e.spoolPlain(ctx, r)
	if sp != nil {
		defer sp.Close()
	}
	if err != nil {
		return finding.FileResult{Path: display, Status: finding.StatusNotScanned, Error: err.Error(),
			Unscanned: []finding.Unscanned{{RuleID: rules.NotScannedError, Reason: err.Error(), ModelLike: true}}}
	}
	return e.ScanReaderAt(ctx, display, sp, sp.Size())
}

func (e *Engine) spoolPlain(ctx context.Context, r io.Reader) (*spool.File, error) {
	sp, err := spool.Copy(ctx, r, spool.Options{TempDir: e.tempDir, MaxBytes: e.limits.MaxFileBytes})
	if err == nil && sp.Truncated {
		return sp, fmt.Errorf("input larger than max_file_bytes %d", e.limits.MaxFileBytes)
	}
	return sp, err
}

// ScanReaderAt scans size bytes readable from r; display is the path used in
// reports. It never panics on hostile content.
func (e *Engine) ScanReaderAt(ctx context.Context, display string, r io.ReaderAt, size int64) finding.FileResult {
	res := finding.FileResult{Path: display, Size: size}
	fsState := newFileState(display)
	if size > e.limits.MaxFileBytes {
		res.Status = finding.StatusNotScanned
		res.Unscanned = []finding.Unscanned{{RuleID: rules.NotScannedLimit, ModelLike: true,
			Reason: fmt.Sprintf("file is %d bytes, larger than max_file_bytes %d", size, e.limits.MaxFileBytes)}}
		res.SHA256 = hashReaderAt(r, size)
		return res
	}
	fctx, cancel := context.WithTimeout(ctx, e.limits.FileTimeout)
	defer cancel()
	in := &Input{Path: display, Name: filepath.Base(display), R: r, Size: size}
	var err error
	if a, ok := r.(Arriving); ok && a.Arrived() < size {
		fsState, err = e.scanArriving(fctx, in, a)
	} else {
		err = e.scanInput(fctx, in, fsState)
	}
	if err != nil {
		rule := rules.NotScannedError
		if errors.Is(err, context.DeadlineExceeded) {
			rule = rules.NotScannedLimit
			err = fmt.Errorf("scan exceeded file_timeout %s: %w", e.limits.FileTimeout, err)
		}
		fsState.unscanned = append(fsState.unscanned, finding.Unscanned{RuleID: rule, Reason: err.Error(), ModelLike: true})
	}
	res.Findings = fsState.findings
	res.Properties = fsState.props
	res.Unscanned = append(fsState.unscanned, fsState.droppedFindings()...)
	for f := range fsState.formats {
		res.Formats = append(res.Formats, f)
	}
	sort.Strings(res.Formats)
	switch {
	case len(res.Unscanned) > 0:
		res.Status = finding.StatusNotScanned
	case len(res.Formats) == 0:
		res.Status = finding.StatusSkipped
	default:
		res.Status = finding.StatusScanned
	}
	if len(res.Findings) > 0 || len(res.Unscanned) > 0 || e.hashAll {
		// Hashing is deferred to here so clean multi-GB checkpoints are
		// never read in full.
		res.SHA256 = hashReaderAt(r, size)
		for i := range res.Findings {
			res.Findings[i].SHA256 = res.SHA256
		}
	}
	return res
}

func hashReaderAt(r io.ReaderAt, size int64) string {
	if m, ok := r.(interface{ Bytes() []byte }); ok && int64(len(m.Bytes())) == size {
		// Content in memory is hashed in place, without io.Copy's 32 KiB
		// buffer per file.
		sum := sha256.Sum256(m.Bytes())
		return hex.EncodeToString(sum[:])
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, size)); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// scanInput sniffs one input and dispatches it to the first matching format.
func (e *Engine) scanInput(ctx context.Context, in *Input, fsState *fileState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := readHead(in); err != nil {
		return err
	}
	env := &Env{Policy: e.policy, Limits: e.limits, in: in, file: fsState, eng: e}
	for _, f := range e.formats {
		ok, perr := safeMatch(f, in)
		if perr != nil {
			// The format might have claimed this content; passing it to the
			// next format as if nothing happened would be a silent gap.
			env.NotScanned(rules.NotScannedError, "", fmt.Sprintf("internal error (panic) in %s match: %v", f.Name(), perr))
			continue
		}
		if !ok {
			continue
		}
		return e.dispatch(ctx, f, env)
	}
	e.unidentified(in, env)
	return nil
}

// dispatch scans env's input with the format that claimed it.
func (e *Engine) dispatch(ctx context.Context, f Format, env *Env) (err error) {
	fsState := env.file
	fsState.mu.Lock()
	fsState.formats[f.Name()] = true
	fsState.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			env.NotScanned(rules.NotScannedError, "", fmt.Sprintf("internal error (panic) in %s parser: %v\n%s", f.Name(), r, debug.Stack()))
			err = nil
		}
	}()
	if serr := f.Scan(ctx, env.in, env); serr != nil {
		if errors.Is(serr, context.DeadlineExceeded) || errors.Is(serr, context.Canceled) {
			return serr
		}
		env.NotScanned(rules.NotScannedError, "", fmt.Sprintf("%s: %v", f.Name(), serr))
	}
	return nil
}

// readHead fills in.Head unless it is already set.
func readHead(in *Input) error {
	if in.Head != nil {
		return nil
	}
	if m, ok := in.R.(interface{ Bytes() []byte }); ok && int64(len(m.Bytes())) == in.Size {
		// Content in memory is its own head (formats never write to it).
		in.Head = m.Bytes()[:min(in.Size, HeadSize)]
		return nil
	}
	head := make([]byte, min(in.Size, HeadSize))
	m, err := in.R.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read %s: %w", describe(in), err)
	}
	in.Head = head[:m]
	return nil
}

func safeMatch(f Format, in *Input) (ok bool, panicked error) {
	defer func() {
		if r := recover(); r != nil {
			ok, panicked = false, fmt.Errorf("%v", r)
		}
	}()
	return f.Match(in), nil
}

// unidentified decides what to say about content no format claimed.
func (e *Engine) unidentified(in *Input, env *Env) {
	switch {
	case in.Size == 0, in.Context == ContextTensorData:
		return
	case LooksLikeText(in.Head):
		return
	case in.Context == ContextRawData:
		return
	case in.topLevel() && !IsModelLikeName(in.Name):
		return
	}
	reason := fmt.Sprintf("unrecognised content (%d bytes, starts %s)", in.Size, hexPrefix(in.Head, 8))
	if in.topLevel() && IsWeakModelName(in.Name) {
		// Reported, but it fails no gate: a name such as .dat or .sav says
		// nothing about the content, and content no loader would take for
		// a model is not a model.
		env.file.addUnscanned(finding.Unscanned{RuleID: rules.NotScannedUnknown, Member: in.Member, Reason: reason})
		return
	}
	env.NotScanned(rules.NotScannedUnknown, "", reason)
}

// Input contexts.
const (
	// ContextTensorData marks members that a container already identified as
	// raw numeric tensor storage (never deserialized by the loader).
	ContextTensorData = "tensor-data"
	// ContextRawData marks content its loader reads as raw bytes unless it
	// is a recognised format, such as the arrays of a joblib Z-file or the
	// output of a decompressor wrapped around a non-model name
	// (data.json.gz): unrecognised binary there is data, not a model that
	// could not be scanned.
	ContextRawData = "raw-data"
	// ContextResolved marks content that stands for its parent input, such
	// as a Git LFS object for its pointer (see Env.Resolve).
	ContextResolved = "resolved"
)

// LooksLikeText reports whether head is plausibly human-readable text.
func LooksLikeText(head []byte) bool {
	if len(head) == 0 {
		return true
	}
	b := head
	if !utf8.Valid(b) {
		// A multi-byte rune cut at the end of the head is fine.
		cut := len(b) - utf8.UTFMax
		if cut < 0 || !utf8.Valid(b[:cut]) {
			return false
		}
	}
	ctl := 0
	for _, c := range b {
		if c == 0 {
			return false
		}
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' {
			ctl++
		}
	}
	return ctl*50 < len(b)
}

func hexPrefix(b []byte, n int) string {
	if len(b) < n {
		n = len(b)
	}
	return fmt.Sprintf("%x", b[:n])
}

func describe(in *Input) string {
	if in.Member == "" {
		return in.Path
	}
	return in.Path + " member " + in.Member
}
