// Package spool makes a stream randomly readable: in memory while it is
// small, in a temporary file beyond that. Every source that yields streams
// (stdin, git blobs, fs.FS files, decompressors) goes through it, so there
// is one place that decides how much of a model may sit in memory.
package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/modelgate/modelgate/core/ctxio"
)

// DefaultMemBytes is how much of one stream is kept in memory before the
// spool moves to a temporary file.
const DefaultMemBytes = 8 << 20

// Options bounds one spool.
type Options struct {
	// TempDir holds the temporary file ("" for os.TempDir()).
	TempDir string
	// MemBytes is kept in memory before spilling to disk (0: DefaultMemBytes).
	MemBytes int64
	// MaxBytes stops copying after this many bytes (0: no limit). A spool
	// that reached it has Truncated set.
	MaxBytes int64
}

// File is spooled content. It is safe for concurrent ReadAt calls.
type File struct {
	mem  []byte
	file *os.File
	size int64
	// Truncated is set when the stream was longer than Options.MaxBytes.
	Truncated bool
}

// FromBytes wraps bytes already in memory.
func FromBytes(b []byte) *File { return &File{mem: b, size: int64(len(b))} }

// ReadAt implements io.ReaderAt; it never panics on hostile offsets.
func (s *File) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("spool: negative offset")
	}
	if s.file != nil {
		if off >= s.size {
			return 0, io.EOF
		}
		if rest := s.size - off; int64(len(p)) > rest {
			n, err := s.file.ReadAt(p[:rest], off)
			if err == nil {
				err = io.EOF
			}
			return n, err
		}
		return s.file.ReadAt(p, off)
	}
	if off >= s.size {
		return 0, io.EOF
	}
	n := copy(p, s.mem[off:s.size])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Bytes returns the content when it is held in memory, else nil. Parsers
// that read in place (see engine.Memory) check the length against Size, so
// a spool on disk is read through ReadAt. Nothing may write to it.
func (s *File) Bytes() []byte {
	if s.file != nil || s.mem == nil {
		return nil
	}
	return s.mem[:s.size:s.size]
}

// Size is the number of spooled bytes.
func (s *File) Size() int64 { return s.size }

// Truncate shortens the visible content to n bytes (n <= Size).
func (s *File) Truncate(n int64) {
	if n >= 0 && n < s.size {
		s.size = n
	}
}

// Close releases the temporary file, if any.
func (s *File) Close() error {
	if s.file == nil {
		s.mem = nil
		return nil
	}
	name := s.file.Name()
	err := s.file.Close()
	_ = os.Remove(name)
	s.file = nil
	return err
}

// Copy spools r. On an error the partial spool is returned with it, so a
// caller can still scan what arrived (a payload usually sits at the start).
func Copy(ctx context.Context, r io.Reader, opts Options) (*File, error) {
	memBytes := opts.MemBytes
	if memBytes <= 0 {
		memBytes = DefaultMemBytes
	}
	src := ctxio.NewReader(ctx, r)
	if opts.MaxBytes > 0 {
		src = io.LimitReader(src, opts.MaxBytes+1)
	}
	sp := &File{}
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, src, memBytes+1)
	if err != nil && !errors.Is(err, io.EOF) {
		sp.mem, sp.size = buf.Bytes(), n
		return sp, err
	}
	if n <= memBytes {
		sp.mem, sp.size = buf.Bytes(), n
		sp.clip(opts.MaxBytes)
		return sp, nil
	}
	f, err := os.CreateTemp(opts.TempDir, "modelgate-spool-*")
	if err != nil {
		return sp, fmt.Errorf("create spool file: %w", err)
	}
	sp.file = f
	if _, err := f.Write(buf.Bytes()); err != nil {
		return sp, fmt.Errorf("write spool: %w", err)
	}
	m, err := io.Copy(f, src)
	sp.size = n + m
	if err != nil {
		return sp, fmt.Errorf("write spool: %w", err)
	}
	sp.clip(opts.MaxBytes)
	return sp, nil
}

func (s *File) clip(max int64) {
	if max > 0 && s.size > max {
		s.size = max
		s.Truncated = true
	}
}
