// Package modeldir recognises model directories (an MLflow MLmodel
// directory, a Hugging Face repository, a TensorFlow SavedModel, an ONNX
// model with external data) among the files of a scan and judges what lives
// only at that level: references from one file to another. Each layout is
// one Analyzer in its own package; core/modeldir/list is the registry.
//
// Analyzers never write output. They attach findings to real files of the
// tree (the MLmodel, a bundled .py file, a shard) so that every report
// writer shows them, and describe each directory as a report.Model.
package modeldir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
)

// Analyzer recognises one directory layout.
type Analyzer interface {
	// Name is stable, e.g. "mlflow".
	Name() string
	// Marker reports whether a file with this base name can mark the
	// layout (MLmodel, config.json, saved_model.pb). The name only
	// selects candidates; Analyze decides by content.
	Marker(name string) bool
	// Analyze examines dir (a report path, "." for the root), in which
	// the given marker files sit. It returns nil when the content says
	// the directory is not this layout.
	Analyze(ctx context.Context, t *Tree, dir string, markers []*File) (*report.Model, error)
}

// File is one file of the tree as analyzers see it.
type File struct {
	// Path is the report path, '/'-separated.
	Path string
	// Size is the content size, or -1 when unknown.
	Size int64
	// Open returns the content.
	Open func(ctx context.Context) (io.ReadCloser, error)
	// Listed is true for files the source listed (and the per-file scan
	// covered), false for files found by Lookup.
	Listed bool
}

// Lookup opens a file the source did not list (nil: none can be).
type Lookup func(ctx context.Context, path string) (File, bool)

// Tree is the scanned tree: the listed files with their per-file results,
// a way to find files the source did not list, and the findings analyzers
// add. It is used by one goroutine at a time.
type Tree struct {
	eng     *engine.Engine
	lookup  Lookup
	files   map[string]*File
	sorted  []string
	results map[string]*finding.FileResult
	// order keeps the per-file results first, in scan order, then files
	// that only analyzers opened.
	order  []string
	looked map[string]*File
	mu     sync.Mutex
}

// NewTree builds a tree from the per-file results and the files behind them
// (same order, same paths). results are updated in place by analyzers and
// returned, with any files analyzers had to scan themselves, by Results.
func NewTree(eng *engine.Engine, files []File, results []finding.FileResult, lookup Lookup) *Tree {
	t := &Tree{eng: eng, lookup: lookup, files: map[string]*File{}, results: map[string]*finding.FileResult{}, looked: map[string]*File{}}
	for i := range files {
		f := files[i]
		f.Listed = true
		if _, dup := t.files[f.Path]; dup {
			continue
		}
		t.files[f.Path] = &f
		t.sorted = append(t.sorted, f.Path)
		if i < len(results) {
			r := results[i]
			t.results[f.Path] = &r
			t.order = append(t.order, f.Path)
		}
	}
	sort.Strings(t.sorted)
	return t
}

// Engine returns the engine, for its policy and limits.
func (t *Tree) Engine() *engine.Engine { return t.eng }

// Strict reports whether the policy asks for strict judgement.
func (t *Tree) Strict() bool { return t.eng.Policy() != nil && t.eng.Policy().Strict() }

// Listed returns the listed files directly in dir (recursive false) or
// anywhere below it (recursive true), sorted by path.
func (t *Tree) Listed(dir string, recursive bool) []*File {
	prefix := ""
	if dir != "." && dir != "" {
		prefix = dir + "/"
	}
	i := sort.SearchStrings(t.sorted, prefix)
	var out []*File
	for ; i < len(t.sorted); i++ {
		p := t.sorted[i]
		if !strings.HasPrefix(p, prefix) {
			break
		}
		if !recursive && strings.Contains(p[len(prefix):], "/") {
			continue
		}
		out = append(out, t.files[p])
	}
	return out
}

// Get returns the file at a report path: a listed one, else one Lookup
// finds. Partial sources (a git diff) list only what changed; a file they
// did not list is looked up before anything calls it missing.
func (t *Tree) Get(ctx context.Context, p string) (*File, bool) {
	if f, ok := t.files[p]; ok {
		return f, true
	}
	if f, ok := t.looked[p]; ok {
		return f, f != nil
	}
	if t.lookup == nil {
		t.looked[p] = nil
		return nil, false
	}
	f, ok := t.lookup(ctx, p)
	if !ok {
		t.looked[p] = nil
		return nil, false
	}
	f.Path = p
	f.Listed = false
	t.looked[p] = &f
	return &f, true
}

// HasDir reports whether any listed file sits below dir.
func (t *Tree) HasDir(dir string) bool {
	prefix := dir + "/"
	i := sort.SearchStrings(t.sorted, prefix)
	return i < len(t.sorted) && strings.HasPrefix(t.sorted[i], prefix)
}

// Result returns the scan result of a file. A file the source did not list
// is scanned now, with the engine's formats, and joins the report.
func (t *Tree) Result(ctx context.Context, f *File) *finding.FileResult {
	if r, ok := t.results[f.Path]; ok {
		return r
	}
	r := t.scan(ctx, f)
	t.results[f.Path] = &r
	t.order = append(t.order, f.Path)
	return t.results[f.Path]
}

func (t *Tree) scan(ctx context.Context, f *File) finding.FileResult {
	unreadable := func(err error) finding.FileResult {
		return finding.FileResult{Path: f.Path, Status: finding.StatusNotScanned, Error: err.Error(),
			Unscanned: []finding.Unscanned{{RuleID: rules.NotScannedError, Reason: err.Error(), ModelLike: true}}}
	}
	if f.Open == nil {
		return unreadable(errors.New("no content"))
	}
	rc, err := f.Open(ctx)
	if err != nil {
		return unreadable(err)
	}
	defer rc.Close()
	if ra, ok := rc.(interface {
		io.ReaderAt
		Size() int64
	}); ok {
		return t.eng.ScanReaderAt(ctx, f.Path, ra, ra.Size())
	}
	return t.eng.ScanReader(ctx, f.Path, rc)
}

// ErrTooLarge is returned by ReadAll for content above its bound.
var ErrTooLarge = errors.New("larger than the analysis limit")

// ReadAll reads a whole (small) file, at most max bytes.
func (t *Tree) ReadAll(ctx context.Context, f *File, max int64) ([]byte, error) {
	if f.Size > max {
		return nil, fmt.Errorf("%s is %d bytes: %w", f.Path, f.Size, ErrTooLarge)
	}
	if f.Open == nil {
		return nil, errors.New("no content")
	}
	rc, err := f.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w (%d bytes)", f.Path, ErrTooLarge, max)
	}
	return data, nil
}

// entry returns the result a finding about path is attached to, creating
// an empty one for a file that has none yet (a looked-up file).
func (t *Tree) entry(p string) *finding.FileResult {
	if r, ok := t.results[p]; ok {
		return r
	}
	r := &finding.FileResult{Path: p, Status: finding.StatusScanned, Size: -1}
	if f, ok := t.looked[p]; ok && f != nil {
		r.Size = f.Size
	}
	t.results[p] = r
	t.order = append(t.order, p)
	return r
}

// Report attaches a finding to the file at path. Severity and fix default
// to the rule's.
func (t *Tree) Report(p string, f finding.Finding) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f.Path = p
	if f.Offset == 0 {
		f.Offset = -1
	}
	if r, ok := t.eng.Rules().Get(f.RuleID); ok {
		if f.Severity == finding.SeverityNone {
			f.Severity = r.Severity
		}
		if f.Fix == "" {
			f.Fix = r.Fix
		}
	}
	r := t.entry(p)
	f.SHA256 = r.SHA256
	r.Findings = append(r.Findings, f)
	if r.Status == finding.StatusSkipped {
		r.Status = finding.StatusScanned
	}
}

// NotScanned attaches a not-scanned item to the file at path.
func (t *Tree) NotScanned(p string, u finding.Unscanned) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.entry(p)
	r.Unscanned = append(r.Unscanned, u)
	r.Status = finding.StatusNotScanned
}

// Claim records that an analyzer read a file as format (a chat template
// next to a tokenizer): the file is no longer "skipped, not a model".
func (t *Tree) Claim(p, format string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.entry(p)
	for _, f := range r.Formats {
		if f == format {
			return
		}
	}
	r.Formats = append(r.Formats, format)
	sort.Strings(r.Formats)
	if r.Status == finding.StatusSkipped {
		r.Status = finding.StatusScanned
	}
}

// Results returns every file result: the per-file ones (updated) in their
// order, then files that only analyzers scanned or reported on.
func (t *Tree) Results() []finding.FileResult {
	out := make([]finding.FileResult, 0, len(t.order))
	for _, p := range t.order {
		out = append(out, *t.results[p])
	}
	return out
}

// Run runs every analyzer over the tree and returns the model directories
// found, sorted by path then kind. An analyzer error becomes a not-scanned
// item on the directory's first marker: the directory could not be
// judged, which must not pass silently.
func Run(ctx context.Context, t *Tree, analyzers []Analyzer) []report.Model {
	var models []report.Model
	for _, a := range analyzers {
		byDir := map[string][]*File{}
		var dirs []string
		for _, p := range t.sorted {
			if !a.Marker(path.Base(p)) {
				continue
			}
			d := Dir(p)
			if _, ok := byDir[d]; !ok {
				dirs = append(dirs, d)
			}
			byDir[d] = append(byDir[d], t.files[p])
		}
		if am, ok := a.(AncestorMarkers); ok && t.lookup != nil {
			for _, f := range t.ancestorMarkers(ctx, am.AncestorMarkers(), byDir) {
				d := Dir(f.Path)
				if _, ok := byDir[d]; !ok {
					dirs = append(dirs, d)
				}
				byDir[d] = append(byDir[d], f)
			}
		}
		for _, d := range dirs {
			if ctx.Err() != nil {
				return models
			}
			m, err := safeAnalyze(ctx, a, t, d, byDir[d])
			if err != nil {
				t.NotScanned(byDir[d][0].Path, finding.Unscanned{RuleID: rules.NotScannedError, ModelLike: true,
					Reason: fmt.Sprintf("%s model directory %s: %v", a.Name(), d, err)})
				continue
			}
			if m != nil {
				if m.Path == "" {
					m.Path = d
				}
				sort.Strings(m.Files)
				m.Files = compactStrings(m.Files)
				models = append(models, *m)
			}
		}
	}
	sort.SliceStable(models, func(i, j int) bool {
		if models[i].Path != models[j].Path {
			return models[i].Path < models[j].Path
		}
		return models[i].Kind < models[j].Kind
	})
	return models
}

// AncestorMarkers is implemented by analyzers whose layout a partial source
// can cut: a git diff that changes only models/churn/code/os.py lists no
// MLmodel, yet the attack is the pair. For every directory holding a
// listed file, and its parents, the tree looks these names up when the
// source did not list them.
type AncestorMarkers interface {
	AncestorMarkers() []string
}

// maxAncestors bounds how far up from a listed file markers are looked up.
const maxAncestors = 8

// ancestorMarkers looks up the named markers in the directories above
// listed files that have no listed marker (dirs already known are skipped).
func (t *Tree) ancestorMarkers(ctx context.Context, names []string, known map[string][]*File) []*File {
	tried := map[string]bool{}
	var out []*File
	for _, p := range t.sorted {
		if strings.HasPrefix(p, "/") || strings.HasPrefix(p, "../") || p == ".." {
			continue
		}
		d := Dir(p)
		for i := 0; i < maxAncestors; i++ {
			if !tried[d] {
				tried[d] = true
				if _, ok := known[d]; !ok {
					for _, n := range names {
						mp := Join(d, n)
						if _, listed := t.files[mp]; listed {
							continue
						}
						if f, ok := t.Get(ctx, mp); ok {
							out = append(out, f)
						}
					}
				}
			}
			if d == "." {
				break
			}
			d = Dir(d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func safeAnalyze(ctx context.Context, a Analyzer, t *Tree, dir string, markers []*File) (m *report.Model, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("internal error (panic) in %s analyzer: %v", a.Name(), r)
		}
	}()
	return a.Analyze(ctx, t, dir, markers)
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// Dir returns the directory of a report path ("." at the root).
func Dir(p string) string {
	d := path.Dir(p)
	if d == "" {
		return "."
	}
	return d
}

// Join resolves a relative reference inside dir to a report path.
func Join(dir, rel string) string {
	if dir == "." || dir == "" {
		return path.Clean(rel)
	}
	return path.Join(dir, rel)
}

// Rel returns p relative to dir, for messages.
func Rel(dir, p string) string {
	if dir == "." || dir == "" {
		return p
	}
	return strings.TrimPrefix(p, dir+"/")
}

// HasFormat reports whether a result recognised any of the formats.
func HasFormat(r *finding.FileResult, formats ...string) bool {
	for _, f := range r.Formats {
		for _, want := range formats {
			if f == want {
				return true
			}
		}
	}
	return false
}

// ReadAt opens f and hands its content to read with random access, for
// parsers that walk a file by offsets (protobuf graphs). Content that only
// streams is an error: sources give files on disk, spools and blobs random
// access, and a parser must not pull a whole model into memory.
func ReadAt[T any](ctx context.Context, f *File, read func(r io.ReaderAt, size int64) (T, error)) (T, error) {
	var zero T
	rc, err := f.Open(ctx)
	if err != nil {
		return zero, err
	}
	defer rc.Close()
	if ra, ok := rc.(interface {
		io.ReaderAt
		Size() int64
	}); ok {
		return read(ra, ra.Size())
	}
	if ra, ok := rc.(io.ReaderAt); ok && f.Size >= 0 {
		return read(ra, f.Size)
	}
	return zero, fmt.Errorf("%s cannot be read at random", f.Path)
}
