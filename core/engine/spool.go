package engine

import (
	"context"
	"fmt"
	"io"

	"github.com/modelgate/modelgate/core/limits"
	"github.com/modelgate/modelgate/core/spool"
)

// BombError reports a stream that expanded past the decompression limits.
type BombError struct {
	Written, Compressed int64
	Reason              string
}

func (b *BombError) Error() string {
	return fmt.Sprintf("decompression stopped after %d bytes: %s", b.Written, b.Reason)
}

// spool copies r into a spool file, enforcing MaxDecompressedBytes and
// MaxRatio. On a limit it returns the partial spool and a *BombError.
func (e *Engine) spool(ctx context.Context, r io.Reader, compressed int64) (*spool.File, error) {
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
	sp, err := spool.Copy(ctx, r, spool.Options{TempDir: e.tempDir, MaxBytes: budget})
	if err != nil || !sp.Truncated {
		return sp, err
	}
	reason := fmt.Sprintf("exceeds max_decompressed_bytes %d", lim.MaxDecompressedBytes)
	if budget < lim.MaxDecompressedBytes {
		reason = fmt.Sprintf("expansion ratio exceeds max_ratio %.0f", lim.MaxRatio)
	}
	return sp, &BombError{Written: budget, Compressed: compressed, Reason: reason}
}
