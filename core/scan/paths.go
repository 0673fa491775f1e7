package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Paths is a source over files and directories on the local disk. Report
// paths are relative to root ('/'-separated; paths outside root stay as
// given). Directories are walked recursively, skipping .git. Symlinks are
// followed to regular files, reported under the link's path and scanned
// once however many links share a target; directory symlink cycles are
// cut; a dangling link is an entry that cannot be read. A path that does
// not exist is a *PathError.
func Paths(paths []string, root string) Source {
	return &diskSource{paths: paths, root: root}
}

type diskSource struct {
	paths []string
	root  string
}

func (d *diskSource) Walk(ctx context.Context, visit func(Entry) error) error {
	w := &diskWalk{root: d.root, visit: visit, dirs: map[string]bool{}}
	// The working directory and the absolute root are looked up once per
	// walk: filepath.Abs asks the kernel for the working directory on
	// every call, twice per file otherwise.
	if cwd, err := os.Getwd(); err == nil {
		w.cwd = cwd
		if d.root != "" {
			w.absRoot = w.abs(d.root)
		}
	}
	for _, p := range d.paths {
		st, err := os.Stat(p)
		if err != nil {
			if _, lerr := os.Lstat(p); lerr == nil {
				// The argument itself is a dangling link: it names
				// something, which cannot be read.
				if err := visit(w.broken(p, err)); err != nil {
					return err
				}
				continue
			}
			return &PathError{Path: p, Err: err}
		}
		if !st.IsDir() {
			if err := w.file(p, st, ""); err != nil {
				return err
			}
			continue
		}
		if err := w.dir(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (d *diskSource) Lookup(_ context.Context, p string) (Entry, bool) {
	full := filepath.Join(d.rootDir(), filepath.FromSlash(p))
	st, err := os.Stat(full)
	if err != nil || !st.Mode().IsRegular() {
		return Entry{}, false
	}
	return diskEntry(p, full, st, ""), true
}

func (d *diskSource) rootDir() string {
	if d.root == "" {
		return "."
	}
	return d.root
}

type diskWalk struct {
	root string
	// cwd and absRoot are the working directory and root made absolute
	// ("" when the working directory is unknown).
	cwd, absRoot string
	visit        func(Entry) error
	// dirs holds the resolved directories already walked, which cuts
	// symlink cycles and never walks one directory twice.
	dirs map[string]bool
}

func (w *diskWalk) dir(ctx context.Context, dir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return w.visit(w.broken(dir, err))
	}
	if real = w.abs(real); real == "" {
		return w.visit(w.broken(dir, errors.New("cannot make the path absolute")))
	}
	if w.dirs[real] {
		return nil
	}
	w.dirs[real] = true
	ents, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return w.visit(w.broken(dir, err))
	}
	for _, de := range ents {
		p := filepath.Join(dir, de.Name())
		switch {
		case de.IsDir():
			if de.Name() == ".git" {
				continue
			}
			if err := w.dir(ctx, p); err != nil {
				return err
			}
		case de.Type()&fs.ModeSymlink != 0:
			st, err := os.Stat(p)
			switch {
			case err != nil:
				if err := w.visit(w.broken(p, fmt.Errorf("dangling symlink: %w", err))); err != nil {
					return err
				}
			case st.IsDir():
				if err := w.dir(ctx, p); err != nil {
					return err
				}
			case st.Mode().IsRegular():
				if err := w.file(p, st, ""); err != nil {
					return err
				}
			}
		case de.Type().IsRegular():
			st, err := de.Info()
			if err != nil {
				if err := w.visit(w.broken(p, err)); err != nil {
					return err
				}
				continue
			}
			// Inside a resolved directory a regular file's identity is
			// its real path without another walk up the tree.
			if err := w.file(p, st, filepath.Join(real, de.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// file visits a regular file; ident is its resolved path when the caller
// knows it, else it is resolved here (symlinks, path arguments).
func (w *diskWalk) file(p string, st fs.FileInfo, ident string) error {
	if ident == "" {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			ident = w.abs(real)
		}
	}
	return w.visit(diskEntry(w.display(p), p, st, ident))
}

func (w *diskWalk) broken(p string, err error) Entry {
	return Entry{Path: w.display(p), Size: -1, Err: err}
}

// abs is filepath.Abs against the walk's working directory ("" when it is
// unknown and p is relative).
func (w *diskWalk) abs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	if w.cwd == "" {
		return ""
	}
	return filepath.Join(w.cwd, p)
}

// display makes p relative to the root, '/'-separated; paths outside the
// root stay as given.
func (w *diskWalk) display(p string) string {
	if w.absRoot != "" {
		if absP := w.abs(p); absP != "" {
			if rel, err := filepath.Rel(w.absRoot, absP); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return filepath.ToSlash(rel)
			}
		}
	}
	return filepath.ToSlash(filepath.Clean(p))
}

func diskEntry(display, full string, st fs.FileInfo, ident string) Entry {
	return Entry{Path: display, Size: st.Size(), Identity: ident, Open: func(context.Context) (io.ReadCloser, error) {
		return openDisk(full)
	}}
}
