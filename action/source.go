package action

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/modelgate/modelgate/core/scan"
	"github.com/modelgate/modelgate/hooks/gitsource"
)

// isGlob reports whether p uses filepath.Match metacharacters.
func isGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

// cleanRel turns an input path into a '/'-separated path relative to the
// workspace, refusing paths that leave it: the action must not be pointed
// at the runner's own files through a pull request's workflow inputs.
func cleanRel(workspace, p string) (string, error) {
	native := filepath.FromSlash(p)
	if filepath.IsAbs(native) {
		rel, err := filepath.Rel(workspace, native)
		if err != nil {
			return "", fmt.Errorf("path %s: %w", p, err)
		}
		native = rel
	}
	rel := filepath.ToSlash(filepath.Clean(native))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("path %s is outside the workspace %s", p, workspace)
	}
	return rel, nil
}

// PathsSource expands the path input against the workspace into a
// scan.Paths source. A glob that matches nothing is an error, like a path
// that names nothing: a typo must not switch the gate off.
func PathsSource(workspace string, patterns []string) (scan.Source, error) {
	var paths []string
	for _, p := range patterns {
		rel, err := cleanRel(workspace, p)
		if err != nil {
			return nil, err
		}
		if !isGlob(rel) {
			paths = append(paths, filepath.Join(workspace, filepath.FromSlash(rel)))
			continue
		}
		matches, err := filepath.Glob(filepath.Join(workspace, filepath.FromSlash(rel)))
		if err != nil {
			return nil, fmt.Errorf("path %s: %w", p, err)
		}
		kept := matches[:0]
		for _, m := range matches {
			if filepath.Base(m) != ".git" { // a directory walk skips it too
				kept = append(kept, m)
			}
		}
		if len(kept) == 0 {
			return nil, &scan.PathError{Path: p, Source: "the workspace (glob matched nothing)"}
		}
		paths = append(paths, kept...)
	}
	return scan.Paths(paths, workspace), nil
}

// DiffSource is the files spec adds or modifies in the repository at
// workspace, narrowed to the path input: plain paths narrow by directory,
// globs match each changed file's repository path.
func DiffSource(ctx context.Context, workspace, spec string, patterns []string, tempDir string) (scan.Source, error) {
	layout, err := gitsource.Locate(workspace)
	if err != nil {
		return nil, fmt.Errorf("changed-only needs the git checkout: %w", err)
	}
	repo, err := gitsource.Open(layout)
	if err != nil {
		return nil, err
	}
	var dirs, globs []string
	for _, p := range patterns {
		rel, err := cleanRel(workspace, p)
		if err != nil {
			return nil, err
		}
		if rel == "." {
			rel = ""
		}
		if isGlob(rel) {
			globs = append(globs, rel)
		} else {
			dirs = append(dirs, rel)
		}
	}
	if len(globs) > 0 && !slices.Contains(dirs, "") {
		// Globs are matched below; the plain paths still narrow.
		src, err := repo.DiffSource(ctx, spec, nil, tempDir)
		if err != nil {
			return nil, err
		}
		return &globFilter{src: src, dirs: dirs, globs: globs}, nil
	}
	src, err := repo.DiffSource(ctx, spec, dirs, tempDir)
	if err != nil {
		return nil, err
	}
	return src, nil
}

// globFilter keeps the entries of a diff source under one of dirs or
// matching one of globs. It still looks up every file, so model-directory
// analysis sees unchanged siblings.
type globFilter struct {
	src   scan.Source
	dirs  []string
	globs []string
}

func (g *globFilter) keep(p string) bool {
	for _, d := range g.dirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	for _, gl := range g.globs {
		if ok, _ := path.Match(gl, p); ok {
			return true
		}
		// A glob naming a directory keeps what lies below it.
		for dir := path.Dir(p); dir != "." && dir != "/"; dir = path.Dir(dir) {
			if ok, _ := path.Match(gl, dir); ok {
				return true
			}
		}
	}
	return false
}

func (g *globFilter) Walk(ctx context.Context, visit func(scan.Entry) error) error {
	return g.src.Walk(ctx, func(e scan.Entry) error {
		if !g.keep(e.Path) {
			return nil
		}
		return visit(e)
	})
}

func (g *globFilter) Lookup(ctx context.Context, p string) (scan.Entry, bool) {
	if l, ok := g.src.(scan.Lookuper); ok {
		return l.Lookup(ctx, p)
	}
	return scan.Entry{}, false
}

// workspaceDir is GITHUB_WORKSPACE, or the working directory outside
// Actions.
func workspaceDir(ws string) (string, error) {
	if ws == "" {
		var err error
		if ws, err = os.Getwd(); err != nil {
			return "", err
		}
	}
	return filepath.Abs(ws)
}
