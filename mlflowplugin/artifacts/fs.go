// Package artifacts presents a model version's artifacts as an fs.FS that
// streams from where they live (the MLflow artifact proxy, a run's artifact
// API, S3, a local directory), so the core scans them as one model
// directory with scan.FS and nothing is held whole in memory.
package artifacts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"sync"
	"time"
)

// Entry is one child of a listed directory.
type Entry struct {
	Name  string // base name
	IsDir bool
	Size  int64 // -1 when unknown
}

// Store lists and opens artifacts by '/'-separated path relative to the
// model root ("." is the root).
type Store interface {
	List(ctx context.Context, dir string) ([]Entry, error)
	Open(ctx context.Context, file string) (io.ReadCloser, error)
}

// maxEntries bounds one model's listing: a hostile or broken store must
// not make the receiver list forever.
const maxEntries = 100000

// NewFS wraps a store as an fs.FS bound to ctx (fs.FS has no context of its
// own). Listings are cached for the FS's life: one scan sees one tree.
func NewFS(ctx context.Context, s Store) fs.FS {
	return &storeFS{ctx: ctx, store: s, dirs: map[string][]Entry{}, small: map[string][]byte{}, sums: map[string]string{}}
}

type storeFS struct {
	ctx   context.Context
	store Store
	mu    sync.Mutex
	dirs  map[string][]Entry
	count int
	// small keeps files of at most smallFile bytes once read: the
	// model-directory analysis reads MLmodel and its configs again after
	// the scan, and a second download of a few KB is pure latency.
	small      map[string][]byte
	smallTotal int64
	// Spool settings (see Location.Spool), the hashes of spooled files
	// and the files whose content disagreed with their listing.
	spooling bool
	spoolDir string
	spoolMax int64
	sums     map[string]string
	failed   map[string]error
}

const (
	smallFile      = 64 << 10
	smallFileTotal = 4 << 20
)

var (
	_ fs.ReadDirFS = (*storeFS)(nil)
	_ fs.StatFS    = (*storeFS)(nil)
)

func (f *storeFS) list(dir string) ([]Entry, error) {
	f.mu.Lock()
	cached, ok := f.dirs[dir]
	f.mu.Unlock()
	if ok {
		return cached, nil
	}
	entries, err := f.store.List(f.ctx, dir)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	clean := entries[:0:0]
	for _, e := range entries {
		// A store answer naming "..", a path, or a name twice would let
		// the tree escape or loop; drop such entries.
		if e.Name == "" || e.Name == "." || e.Name == ".." || path.Base(e.Name) != e.Name || seen[e.Name] {
			continue
		}
		seen[e.Name] = true
		clean = append(clean, e)
	}
	sort.Slice(clean, func(i, j int) bool { return clean[i].Name < clean[j].Name })
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count += len(clean)
	if f.count > maxEntries {
		return nil, fmt.Errorf("artifact tree has more than %d entries", maxEntries)
	}
	f.dirs[dir] = clean
	return clean, nil
}

func (f *storeFS) lookup(name string) (Entry, error) {
	if name == "." {
		return Entry{Name: ".", IsDir: true, Size: 0}, nil
	}
	entries, err := f.list(path.Dir(name))
	if err != nil {
		return Entry{}, err
	}
	base := path.Base(name)
	for _, e := range entries {
		if e.Name == base {
			return e, nil
		}
	}
	return Entry{}, fs.ErrNotExist
}

func (f *storeFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	e, err := f.lookup(name)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return info{e}, nil
}

func (f *storeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	entries, err := f.list(name)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	out := make([]fs.DirEntry, len(entries))
	for i, e := range entries {
		out[i] = fs.FileInfoToDirEntry(info{e})
	}
	return out, nil
}

func (f *storeFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	e, err := f.lookup(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if e.IsDir {
		return &dirFile{fsys: f, name: name, e: e}, nil
	}
	f.mu.Lock()
	bad := f.failed[name]
	spool := f.spooling && e.Size > smallFile && e.Size <= f.spoolMax
	f.mu.Unlock()
	if bad != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: bad}
	}
	if spool {
		return &spoolFile{fsys: f, name: name, e: e}, nil
	}
	return &file{fsys: f, name: name, e: e}, nil
}

type info struct{ e Entry }

func (i info) Name() string { return i.e.Name }
func (i info) Size() int64 {
	if i.e.Size < 0 {
		return 0
	}
	return i.e.Size
}
func (i info) Mode() fs.FileMode {
	if i.e.IsDir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.e.IsDir }
func (i info) Sys() any           { return nil }

// file opens its stream on the first Read, so walking and stat-ing cost no
// download.
type file struct {
	fsys *storeFS
	name string
	e    Entry
	rc   io.ReadCloser
	err  error
}

func (f *file) Stat() (fs.FileInfo, error) { return info{f.e}, nil }

func (f *file) Read(p []byte) (int, error) {
	if f.rc == nil && f.err == nil {
		f.rc, f.err = f.fsys.open(f.name, f.e.Size)
		if f.err != nil {
			f.err = &fs.PathError{Op: "read", Path: f.name, Err: f.err}
		}
	}
	if f.err != nil {
		return 0, f.err
	}
	return f.rc.Read(p)
}

// open streams a file; small files are served from (and kept in) memory.
func (f *storeFS) open(name string, size int64) (io.ReadCloser, error) {
	if size < 0 || size > smallFile {
		return f.store.Open(f.ctx, name)
	}
	f.mu.Lock()
	b, ok := f.small[name]
	f.mu.Unlock()
	if ok {
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	rc, err := f.store.Open(f.ctx, name)
	if err != nil {
		return nil, err
	}
	// Read one byte past the limit: a file larger than its listing said
	// still reads whole, it just is not kept.
	b, err = io.ReadAll(io.LimitReader(rc, smallFile+1))
	if err != nil {
		rc.Close()
		return nil, err
	}
	if int64(len(b)) > smallFile {
		return struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(b), rc), rc}, nil
	}
	rc.Close()
	f.mu.Lock()
	if f.smallTotal+int64(len(b)) <= smallFileTotal {
		f.small[name] = b
		f.smallTotal += int64(len(b))
	}
	f.mu.Unlock()
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (f *file) Close() error {
	if f.rc != nil {
		return f.rc.Close()
	}
	return nil
}

type dirFile struct {
	fsys *storeFS
	name string
	e    Entry
	pos  int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return info{d.e}, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}
func (d *dirFile) Close() error { return nil }

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	all, err := d.fsys.ReadDir(d.name)
	if err != nil {
		return nil, err
	}
	rest := all[d.pos:]
	if n <= 0 {
		d.pos = len(all)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if len(rest) > n {
		rest = rest[:n]
	}
	d.pos += len(rest)
	return rest, nil
}
