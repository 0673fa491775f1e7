package gitsource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"

	"github.com/modelgate/modelgate/core/spool"
)

// Change is a file whose content a commit or a revision range adds.
type Change struct {
	// Path is the repository path, '/'-separated.
	Path string
	// Blob is the object holding the new content.
	Blob plumbing.Hash
}

// Repo reads a repository's index and objects. Reads are serialised: go-git
// object access is not safe for concurrent use, while scanning the content
// read is.
type Repo struct {
	Layout Layout
	mu     sync.Mutex
	store  *filesystem.Storage
}

// Open opens the repository described by l for reading. Only the object
// and ref storage is used, never go-git's repository layer, which links its
// network transports.
func Open(l Layout) (*Repo, error) {
	fs := dotgit.NewRepositoryFilesystem(osfs.New(l.GitDir), osfs.New(l.CommonDir))
	st := filesystem.NewStorage(fs, cache.NewObjectLRUDefault())
	if err := checkFormat(readOnly{st}); err != nil {
		return nil, fmt.Errorf("open repository %s: %w", l.GitDir, err)
	}
	return &Repo{Layout: l, store: st}, nil
}

// checkFormat refuses repositories whose format extensions change how
// objects are stored (sha256 object names, for instance): reading them
// as classic repositories would give wrong answers, not errors.
func checkFormat(s readOnly) error {
	cfg, err := s.Config()
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	if cfg.Raw == nil || !cfg.Raw.HasSection("extensions") {
		return nil
	}
	if cfg.Core.RepositoryFormatVersion != "1" {
		return nil // extensions are ignored in format version 0
	}
	var names []string
	for _, o := range cfg.Raw.Section("extensions").Options {
		names = append(names, o.Key)
	}
	return fmt.Errorf("unsupported repository format extension(s): %s", strings.Join(names, ", "))
}

// readOnly hides repository-format extensions that do not change how
// objects, refs and the index are read, which go-git otherwise refuses to
// open: worktreeConfig (per-worktree config files, set by sparse checkout),
// partialClone (objects missing from a partial clone fail to read and are
// reported as not scanned), preciousObjects (a pruning guard).
type readOnly struct{ *filesystem.Storage }

func (s readOnly) Config() (*config.Config, error) {
	cfg, err := s.Storage.Config()
	if err != nil || cfg.Raw == nil || !cfg.Raw.HasSection("extensions") {
		return cfg, err
	}
	ext := cfg.Raw.Section("extensions")
	for _, harmless := range []string{"worktreeConfig", "partialClone", "preciousObjects"} {
		ext.RemoveOption(harmless)
	}
	if v := ext.Option("objectFormat"); strings.EqualFold(v, "sha1") {
		ext.RemoveOption("objectFormat")
	}
	if len(ext.Options) == 0 {
		cfg.Raw.RemoveSection("extensions")
	}
	return cfg, nil
}

// readIndex parses the index file, which may be the temporary one git
// hands to hooks.
func (r *Repo) readIndex() ([]indexEntry, *cacheTree, error) {
	raw, err := os.ReadFile(r.Layout.IndexFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil // nothing staged in a fresh repository
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read index: %w", err)
	}
	entries, tree, err := parseIndex(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("read index %s: %w", r.Layout.IndexFile, err)
	}
	return entries, tree, nil
}

// Staged lists the files whose staged content differs from HEAD: what the
// next commit adds or changes. Deletions, submodules, symbolic links,
// intent-to-add placeholders and unresolved merge stages carry no content
// to scan. In a repository without commits every staged file is listed.
func (r *Repo) Staged(ctx context.Context) ([]Change, error) {
	entries, ct, err := r.readIndex()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	head, err := r.headTree()
	if err != nil {
		return nil, err
	}
	unchanged := map[string]bool{}
	if ct != nil && head != nil {
		r.prune(ct, head, "", unchanged)
	}
	var candidates []indexEntry
	for _, e := range entries {
		if e.stage != 0 || e.intentToAdd || !scannableMode(e.mode) || underUnchanged(e.name, unchanged) {
			continue
		}
		candidates = append(candidates, e)
	}
	// Only trees along the candidates' paths are read; go-git keeps the
	// subtrees a lookup loaded, so lookups in one directory share them.
	same := func(e indexEntry) bool {
		if head == nil {
			return false
		}
		te, err := head.FindEntry(e.name)
		return err == nil && te.Hash == e.hash && te.Mode != filemode.Dir
	}
	var out []Change
	for _, e := range candidates {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !same(e) {
			out = append(out, Change{Path: e.name, Blob: e.hash})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// prune marks directories ("" for the root, else "a/b/") whose cached
// tree equals HEAD's: nothing under them is staged.
func (r *Repo) prune(node *cacheTree, head *object.Tree, prefix string, unchanged map[string]bool) {
	if node.valid && node.hash == head.Hash {
		unchanged[prefix] = true
		return
	}
	for _, c := range node.children {
		te, err := head.FindEntry(c.name)
		if err != nil || te.Mode != filemode.Dir {
			continue
		}
		if c.valid && c.hash == te.Hash {
			unchanged[prefix+c.name+"/"] = true
			continue
		}
		sub, err := object.GetTree(r.store, te.Hash)
		if err != nil {
			continue
		}
		r.prune(c, sub, prefix+c.name+"/", unchanged)
	}
}

func underUnchanged(name string, unchanged map[string]bool) bool {
	if len(unchanged) == 0 {
		return false
	}
	if unchanged[""] {
		return true
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' && unchanged[name[:i+1]] {
			return true
		}
	}
	return false
}

// headTree is HEAD's tree, or nil when HEAD is unborn.
func (r *Repo) headTree() (*object.Tree, error) {
	ref, err := storer.ResolveReference(r.store, plumbing.HEAD)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("resolve HEAD: %w", err)
	}
	c, err := object.GetCommit(r.store, ref.Hash())
	if err != nil {
		return nil, fmt.Errorf("read HEAD commit: %w", err)
	}
	t, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("read HEAD tree: %w", err)
	}
	return t, nil
}

func scannableMode(m filemode.FileMode) bool {
	return m == filemode.Regular || m == filemode.Executable || m == filemode.Deprecated
}

// Diff lists files added or modified between two revisions without a
// checkout. spec is "BASE" (meaning BASE..HEAD), "BASE..HEAD" (the trees
// of the two commits) or "BASE...HEAD" (HEAD against its merge base with
// BASE: what a pull request adds).
func (r *Repo) Diff(ctx context.Context, spec string) ([]Change, error) {
	changes, _, err := r.diff(ctx, spec)
	return changes, err
}

// diff is Diff that also returns the head revision's tree.
func (r *Repo) diff(ctx context.Context, spec string) ([]Change, *object.Tree, error) {
	base, head, threeDot, err := parseRange(spec)
	if err != nil {
		return nil, nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	baseC, err := r.commit(base)
	if err != nil {
		return nil, nil, err
	}
	headC, err := r.commit(head)
	if err != nil {
		return nil, nil, err
	}
	if threeDot {
		bases, err := headC.MergeBase(baseC)
		if err != nil {
			return nil, nil, fmt.Errorf("merge base of %s and %s: %w", base, head, err)
		}
		if len(bases) == 0 {
			return nil, nil, fmt.Errorf("%s and %s have no common ancestor (shallow clone? fetch more history)", base, head)
		}
		baseC = bases[0]
	}
	from, err := baseC.Tree()
	if err != nil {
		return nil, nil, fmt.Errorf("tree of %s: %w", base, err)
	}
	to, err := headC.Tree()
	if err != nil {
		return nil, nil, fmt.Errorf("tree of %s: %w", head, err)
	}
	changes, err := object.DiffTreeWithOptions(ctx, from, to, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("diff %s: %w", spec, err)
	}
	var out []Change
	for _, c := range changes {
		if c.To.Name == "" || !scannableMode(c.To.TreeEntry.Mode) {
			continue // deleted, or not file content
		}
		out = append(out, Change{Path: c.To.Name, Blob: c.To.TreeEntry.Hash})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, to, nil
}

func parseRange(spec string) (base, head string, threeDot bool, err error) {
	spec = strings.TrimSpace(spec)
	switch {
	case strings.Contains(spec, "..."):
		base, head, _ = strings.Cut(spec, "...")
		threeDot = true
	case strings.Contains(spec, ".."):
		base, head, _ = strings.Cut(spec, "..")
	default:
		base = spec
	}
	if head == "" {
		head = "HEAD"
	}
	if base == "" {
		return "", "", false, fmt.Errorf("--git-diff %q: want BASE, BASE..HEAD or BASE...HEAD", spec)
	}
	return base, head, threeDot, nil
}

func (r *Repo) commit(rev string) (*object.Commit, error) {
	c, err := resolveCommit(r.store, rev)
	if err != nil {
		return nil, fmt.Errorf("resolve %q: %w (in CI, fetch enough history, e.g. fetch-depth: 0)", rev, err)
	}
	return c, nil
}

// Content reads a blob into a spool: memory when small, a temporary file in
// tempDir ("" for the system default) otherwise.
func (r *Repo) Content(ctx context.Context, h plumbing.Hash, tempDir string) (*spool.File, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, err := object.GetBlob(r.store, h)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	if b.Size < 0 {
		return nil, fmt.Errorf("read blob %s: negative size %d", h, b.Size)
	}
	rc, err := b.Reader()
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	defer rc.Close()
	sp, err := spool.Copy(ctx, rc, spool.Options{TempDir: tempDir})
	if err != nil {
		sp.Close()
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	return sp, nil
}
