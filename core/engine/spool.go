package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/modelgate/modelgate/core/ctxio"
	"github.com/modelgate/modelgate/core/limits"
)

// memSpoolBytes is how much decompressed data is kept in memory before the
// spool moves to a temporary file; it bounds memory per nested stream.
const memSpoolBytes = 8 << 20

// BombError reports a stream that expanded past the decompression limits.
type BombError struct {
	Written, Compressed int64
	Reason              string
}

func (b *BombError) Error() string {
	return fmt.Sprintf("decompression stopped after %d bytes: %s", b.Written, b.Reason)
}

// Spool is decompressed content made randomly readable, in memory when small
// and in a temporary file otherwise.
type Spool struct {
	mem  []byte
	file *os.File
	size int64
}

// ReadAt implements io.ReaderAt.
func (s *Spool) ReadAt(p []byte, off int64) (int, error) {
	if s.file != nil {
		return s.file.ReadAt(p, off)
	}
	if off < 0 {
		return 0, errors.New("spool: negative offset")
	}
	if off >= int64(len(s.mem)) {
		return 0, io.EOF
	}
	n := copy(p, s.mem[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Size is the number of spooled bytes.
func (s *Spool) Size() int64 { return s.size }

// Close releases the temporary file, if any.
func (s *Spool) Close() error {
	if s.file != nil {
		name := s.file.Name()
		err := s.file.Close()
		_ = os.Remove(name)
		s.file = nil
		return err
	}
	return nil
}

// spool copies r into a Spool, enforcing MaxDecompressedBytes and MaxRatio.
// On a limit it returns the partial spool and a *BombError.
func (e *Engine) spool(ctx context.Context, r io.Reader, compressed int64) (*Spool, error) {
	lim := e.limits
	budget := lim.MaxDecompressedBytes
	if compressed > 0 && lim.MaxRatio > 0 {
		byRatio := int64(float64(compressed) * lim.MaxRatio)
		if byRatio < limits.RatioFloorBytes {
			byRatio = limits.RatioFloorBytes
		}
		if byRatio < budget {
			budget = byRatio
		}
	}
	src := io.LimitReader(ctxio.NewReader(ctx, r), budget+1)
	sp := &Spool{}
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, src, memSpoolBytes+1)
	if err != nil && !errors.Is(err, io.EOF) {
		return sp, err
	}
	if n <= memSpoolBytes {
		sp.mem = buf.Bytes()
		sp.size = n
		return sp, e.checkBudget(sp, budget, compressed)
	}
	f, err := os.CreateTemp(e.tempDir, "modelgate-spool-*")
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
	return sp, e.checkBudget(sp, budget, compressed)
}

func (e *Engine) checkBudget(sp *Spool, budget, compressed int64) error {
	if sp.size <= budget {
		return nil
	}
	sp.size = budget
	if sp.file == nil {
		sp.mem = sp.mem[:budget]
	}
	reason := fmt.Sprintf("exceeds max_decompressed_bytes %d", e.limits.MaxDecompressedBytes)
	if budget < e.limits.MaxDecompressedBytes {
		reason = fmt.Sprintf("expansion ratio exceeds max_ratio %.0f", e.limits.MaxRatio)
	}
	return &BombError{Written: budget, Compressed: compressed, Reason: reason}
}
