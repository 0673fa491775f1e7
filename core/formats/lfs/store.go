package lfs

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Object is the content of one LFS object.
type Object interface {
	io.ReaderAt
	io.Closer
}

// Store gives read access to local LFS objects.
type Store interface {
	// Open returns the object with the given oid (64 lowercase hex digits)
	// and its size. When the object is absent the error wraps
	// fs.ErrNotExist.
	Open(oid string) (Object, int64, error)
	// String says where the store is, for messages.
	String() string
}

// DirStore is git-lfs's on-disk layout: <dir>/<oid[0:2]>/<oid[2:4]>/<oid>,
// where dir is usually <git-common-dir>/lfs/objects.
type DirStore string

// Open implements Store.
func (d DirStore) Open(oid string) (Object, int64, error) {
	// The oid comes from a parsed pointer, but the check keeps a hostile
	// caller from turning it into a path outside the store.
	if !isLowerHex(oid, 64) {
		return nil, 0, fmt.Errorf("open LFS object %q: %w", oid, fs.ErrInvalid)
	}
	f, err := os.Open(filepath.Join(string(d), oid[0:2], oid[2:4], oid))
	if err != nil {
		return nil, 0, fmt.Errorf("open LFS object: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("stat LFS object: %w", err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("LFS object %s is not a regular file: %w", short(oid), fs.ErrNotExist)
	}
	return f, st.Size(), nil
}

// String implements Store.
func (d DirStore) String() string { return string(d) }
