package scan

import (
	"context"
	"io"
	"io/fs"
	"path"
)

// FS is a source over any fs.FS: an MLflow artifact tree fetched over HTTP,
// an S3 prefix, a zip, an in-memory tree. roots are fs.ValidPath names
// ("." for everything); report paths are the fs paths, optionally under
// prefix. A root that does not exist is a *PathError. Files that do not
// offer random access are spooled within the limits, never held whole.
func FS(fsys fs.FS, prefix string, roots ...string) Source {
	if len(roots) == 0 {
		roots = []string{"."}
	}
	return &fsSource{fsys: fsys, prefix: prefix, roots: roots}
}

type fsSource struct {
	fsys   fs.FS
	prefix string
	roots  []string
}

func (s *fsSource) display(p string) string {
	if s.prefix == "" {
		return p
	}
	return path.Join(s.prefix, p)
}

func (s *fsSource) Walk(ctx context.Context, visit func(Entry) error) error {
	for _, root := range s.roots {
		if _, err := fs.Stat(s.fsys, root); err != nil {
			return &PathError{Path: root, Source: "the tree", Err: err}
		}
		err := fs.WalkDir(s.fsys, root, func(p string, d fs.DirEntry, err error) error {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			if err != nil {
				return visit(Entry{Path: s.display(p), Size: -1, Err: err})
			}
			if d.IsDir() {
				if d.Name() == ".git" && p != root {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			size := int64(-1)
			if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
				size = info.Size()
			}
			return visit(s.entry(p, size))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *fsSource) entry(p string, size int64) Entry {
	return Entry{Path: s.display(p), Size: size, Open: func(context.Context) (io.ReadCloser, error) {
		return s.fsys.Open(p)
	}}
}

func (s *fsSource) Lookup(_ context.Context, p string) (Entry, bool) {
	if s.prefix != "" {
		rel, ok := cutDir(p, s.prefix)
		if !ok {
			return Entry{}, false
		}
		p = rel
	}
	info, err := fs.Stat(s.fsys, p)
	if err != nil || !info.Mode().IsRegular() {
		return Entry{}, false
	}
	return s.entry(p, info.Size()), true
}

func cutDir(p, dir string) (string, bool) {
	if len(p) > len(dir) && p[:len(dir)] == dir && p[len(dir)] == '/' {
		return p[len(dir)+1:], true
	}
	return "", false
}
