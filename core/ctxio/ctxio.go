// Package ctxio makes plain readers honour a context, so long copies
// (hashing a multi-GB file, spooling a decompressor) stop when a scan is
// cancelled or hits its deadline.
package ctxio

import (
	"context"
	"io"
)

// NewReader returns a reader that fails with ctx.Err() once ctx is done.
func NewReader(ctx context.Context, r io.Reader) io.Reader {
	return reader{ctx: ctx, r: r}
}

type reader struct {
	ctx context.Context
	r   io.Reader
}

func (c reader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
