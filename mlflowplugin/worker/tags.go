package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"maps"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelgate/modelgate/mlflowplugin/store"
)

// Tag keys the receiver writes on model versions. Every key starts with
// TagPrefix, which is how the receiver recognises (and ignores) the tag
// events its own writes cause.
const (
	TagPrefix   = "modelgate."
	TagStatus   = "modelgate.status"
	TagFindings = "modelgate.findings"
	TagScanned  = "modelgate.scanned_at"
	TagDigest   = "modelgate.digest"
	TagReport   = "modelgate.report"
	TagReason   = "modelgate.reason"
)

// Statuses written to TagStatus.
const (
	StatusPassed  = "passed"
	StatusFailed  = "failed"
	StatusError   = "error"
	StatusBlocked = "blocked"
)

// maxTagValue stays under MLflow's model-version tag value limit.
const maxTagValue = 4000

// Tags are the tag values a result should have on the registry, in the
// order they are written: status last, so a reader never sees a new status
// next to an old digest.
func Tags(r *store.Result, reportURL string) [][2]string {
	tags := [][2]string{
		{TagFindings, strconv.Itoa(r.Findings)},
		{TagScanned, r.ScannedAt.UTC().Format(time.RFC3339)},
	}
	if r.Digest != "" {
		tags = append(tags, [2]string{TagDigest, r.Digest})
	}
	if reportURL != "" {
		tags = append(tags, [2]string{TagReport, reportURL})
	}
	if r.Reason != "" {
		tags = append(tags, [2]string{TagReason, clip(r.Reason)})
	}
	return append(tags, [2]string{TagStatus, r.Status})
}

// ExpectedTag is the value the receiver wrote for key, and whether it
// writes that key at all for this result.
func ExpectedTag(r *store.Result, reportURL, key string) (string, bool) {
	for _, kv := range Tags(r, reportURL) {
		if kv[0] == key {
			return kv[1], true
		}
	}
	return "", false
}

func clip(s string) string {
	if len(s) <= maxTagValue {
		return s
	}
	return s[:maxTagValue-3] + "..."
}

// Digest is a digest over every file of the tree: sha256 over the sorted
// lines "path NUL sha256-hex LF". Hashes taken while the scan read the
// files (a HashingFS) are reused; other files are streamed and hashed.
// verify recomputes it from scratch, so any change, addition or removal of
// a file shows.
func Digest(ctx context.Context, fsys fs.FS, known map[string]string) (string, int64, error) {
	var lines []string
	var total int64
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if d.IsDir() {
			if d.Name() == ".git" && p != "." {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		sum, ok := known[p]
		if !ok {
			f, err := fsys.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			n, err := io.Copy(h, f)
			f.Close()
			if err != nil {
				return fmt.Errorf("hashing %s: %w", p, err)
			}
			total += n
			sum = hex.EncodeToString(h.Sum(nil))
		}
		lines = append(lines, p+"\x00"+sum+"\n")
		return nil
	})
	if err != nil {
		return "", total, err
	}
	if len(lines) == 0 {
		return "", total, fmt.Errorf("the artifact tree holds no files")
	}
	sort.Strings(lines)
	h := sha256.New()
	io.WriteString(h, strings.Join(lines, ""))
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), total, nil
}

// HashingFS hashes every file the scanner reads, so the digest costs no
// second download. A file the scanner closes before its end is read to the
// end on Close (the digest needs every byte anyway).
type HashingFS struct {
	fs.FS
	mu   sync.Mutex
	sums map[string]string
}

// NewHashingFS wraps fsys.
func NewHashingFS(fsys fs.FS) *HashingFS { return &HashingFS{FS: fsys, sums: map[string]string{}} }

// Sums returns the hashes of the files read to their end so far.
func (h *HashingFS) Sums() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.sums)
}

// Open implements fs.FS.
func (h *HashingFS) Open(name string) (fs.File, error) {
	f, err := h.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return f, nil
	}
	if _, ok := f.(io.ReaderAt); ok {
		// Read in place by the scanner, not front to back: the file
		// hashes itself (artifacts.Sums).
		return f, nil
	}
	return &hashingFile{File: f, owner: h, name: name, h: sha256.New()}, nil
}

// ReadDir passes through, keeping the wrapped FS's listing cache.
func (h *HashingFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(h.FS, name) }

// Stat passes through.
func (h *HashingFS) Stat(name string) (fs.FileInfo, error) { return fs.Stat(h.FS, name) }

type hashingFile struct {
	fs.File
	owner *HashingFS
	name  string
	h     hash.Hash
	eof   bool
	bad   bool
}

func (f *hashingFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	f.h.Write(p[:n])
	if err == io.EOF {
		f.eof = true
	} else if err != nil {
		f.bad = true
	}
	return n, err
}

func (f *hashingFile) Close() error {
	if !f.eof && !f.bad {
		if _, err := io.Copy(f.h, f.File); err == nil {
			f.eof = true
		}
	}
	if f.eof && !f.bad {
		f.owner.mu.Lock()
		if _, ok := f.owner.sums[f.name]; !ok {
			f.owner.sums[f.name] = hex.EncodeToString(f.h.Sum(nil))
		}
		f.owner.mu.Unlock()
	}
	return f.File.Close()
}
