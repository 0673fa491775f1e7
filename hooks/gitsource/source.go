package gitsource

import (
	"context"
	"io"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/modelgate/modelgate/core/scan"
)

// StagedSource is a scan.Source over what the next commit adds (see Staged),
// narrowed to filter (repository paths; "" is the whole repository). A
// filter path that names nothing in the index is a *scan.PathError.
func (r *Repo) StagedSource(ctx context.Context, filter []string, tempDir string) (scan.Source, error) {
	changes, err := r.Staged(ctx)
	if err != nil {
		return nil, err
	}
	entries, _, err := r.readIndex()
	if err != nil {
		return nil, err
	}
	exists := func(p string) bool {
		for _, e := range entries {
			if e.name == p || strings.HasPrefix(e.name, p+"/") {
				return true
			}
		}
		return false
	}
	return r.changeSource(changes, filter, exists, "the index", tempDir, nil)
}

// DiffSource is a scan.Source over the files a revision range adds or
// modifies (see Diff), narrowed to filter. A filter path that names nothing
// in the range's head revision is a *scan.PathError. Files the range did not
// change can still be looked up (model-directory analyzers need the
// unchanged artifacts a changed MLmodel names).
func (r *Repo) DiffSource(ctx context.Context, spec string, filter []string, tempDir string) (scan.Source, error) {
	changes, head, err := r.diff(ctx, spec)
	if err != nil {
		return nil, err
	}
	exists := func(p string) bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		_, err := head.FindEntry(p)
		return err == nil
	}
	return r.changeSource(changes, filter, exists, spec, tempDir, head)
}

func (r *Repo) changeSource(changes []Change, filter []string, exists func(string) bool, label, tempDir string, tree *object.Tree) (scan.Source, error) {
	if len(filter) > 0 {
		var kept []Change
		for _, c := range changes {
			if underAny(c.Path, filter) {
				kept = append(kept, c)
			}
		}
		for _, k := range filter {
			if k == "" || anyUnder(pathsOf(kept), k) || exists(k) {
				continue
			}
			return nil, &scan.PathError{Path: k, Source: label}
		}
		changes = kept
	}
	return &changeSource{repo: r, changes: changes, tempDir: tempDir, tree: tree}, nil
}

func pathsOf(cs []Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Path
	}
	return out
}

// underAny reports whether p is one of dirs or lies below one of them.
func underAny(p string, dirs []string) bool {
	for _, d := range dirs {
		if d == "" || p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// anyUnder reports whether one of paths is dir or lies below it.
func anyUnder(paths []string, dir string) bool {
	for _, p := range paths {
		if underAny(p, []string{dir}) {
			return true
		}
	}
	return false
}

type changeSource struct {
	repo    *Repo
	changes []Change
	tempDir string
	tree    *object.Tree
}

func (s *changeSource) Walk(ctx context.Context, visit func(scan.Entry) error) error {
	for _, c := range s.changes {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := visit(s.entry(c)); err != nil {
			return err
		}
	}
	return nil
}

func (s *changeSource) entry(c Change) scan.Entry {
	return scan.Entry{Path: c.Path, Size: -1, Open: func(ctx context.Context) (io.ReadCloser, error) {
		sp, err := s.repo.Content(ctx, c.Blob, s.tempDir)
		if err != nil {
			return nil, err
		}
		return scan.RandomAccess(sp, sp.Size(), sp), nil
	}}
}

// Lookup opens unchanged files of the head revision (diff sources only).
func (s *changeSource) Lookup(_ context.Context, p string) (scan.Entry, bool) {
	if s.tree == nil {
		return scan.Entry{}, false
	}
	s.repo.mu.Lock()
	f, err := s.tree.File(path.Clean(p))
	s.repo.mu.Unlock()
	if err != nil || !scannableMode(f.Mode) {
		return scan.Entry{}, false
	}
	return s.entry(Change{Path: p, Blob: f.Hash}), true
}
