package compressed

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/modelgate/modelgate/core/ctxio"
)

// Both bzip2 and legacy .lzma decoders allocate their whole window up front
// from the size the header declares: 3.6 MB of block-sort table for bzip2
// level 9, 8 MiB of dictionary for the default lzma preset. Most model files
// wrapped this way are far smaller, yet each decode would allocate, zero and
// fault in the full window. So the stream is first decoded with the header
// declaring a small window, which changes nothing else about decoding: a
// block or match distance that does not fit is an error, never different
// output. On such an error the stream is decoded again as declared, and the
// bytes already delivered are skipped, so the reader's output is exactly the
// declared decoder's.

// smallLZMADict is the first dictionary tried for legacy .lzma streams.
const smallLZMADict = 64 << 10

// windowRetry reads from a decoder with a reduced window and, at its first
// error, switches to one with the declared window.
type windowRetry struct {
	ctx      context.Context
	cur      io.Reader
	declared func() (io.Reader, error) // nil once used
	n        int64                     // bytes delivered
}

func (w *windowRetry) Read(p []byte) (int, error) {
	n, err := w.cur.Read(p)
	w.n += int64(n)
	if err == nil || errors.Is(err, io.EOF) || w.declared == nil {
		return n, err
	}
	open := w.declared
	w.declared = nil
	full, ferr := open()
	if ferr != nil {
		return n, ferr
	}
	// The reduced decoder's output so far is the declared decoder's too.
	if _, serr := io.CopyN(io.Discard, ctxio.NewReader(w.ctx, full), w.n); serr != nil {
		if errors.Is(serr, io.EOF) {
			serr = io.ErrUnexpectedEOF
		}
		return n, serr
	}
	w.cur = full
	if n > 0 {
		return n, nil
	}
	return w.Read(p)
}

// fresh returns a new reader over the whole input, for the second decode.
func fresh(in io.ReaderAt, size int64) io.Reader {
	return bufio.NewReaderSize(io.NewSectionReader(in, 0, size), bufSize)
}

// newBzip2Reader decodes a bzip2 input (src reads it from the start) with
// the smallest block size first; see windowRetry.
func newBzip2Reader(ctx context.Context, src io.Reader, in io.ReaderAt, size int64) io.Reader {
	var hdr [4]byte
	n, err := io.ReadFull(src, hdr[:])
	rest := io.MultiReader(bytes.NewReader(hdr[:n]), src)
	if err != nil || hdr[3] <= '1' || hdr[3] > '9' {
		return bzip2.NewReader(rest)
	}
	small := hdr
	small[3] = '1'
	return &windowRetry{
		ctx: ctx,
		cur: bzip2.NewReader(io.MultiReader(bytes.NewReader(small[:]), src)),
		declared: func() (io.Reader, error) {
			return bzip2.NewReader(fresh(in, size)), nil
		},
	}
}

// newLZMAWindowReader decodes a legacy .lzma input with a dictionary of
// at most smallLZMADict first; see windowRetry.
func newLZMAWindowReader(ctx context.Context, src io.Reader, in io.ReaderAt, size int64) (io.Reader, error) {
	var hdr [LZMAHeaderLen]byte
	if _, err := io.ReadFull(src, hdr[:]); err != nil {
		return nil, fmt.Errorf("lzma: header: %w", err)
	}
	declared := func() (io.Reader, error) { return NewLZMAReader(fresh(in, size)) }
	if binary.LittleEndian.Uint32(hdr[1:]) <= smallLZMADict {
		return NewLZMAReader(io.MultiReader(bytes.NewReader(hdr[:]), src))
	}
	small := hdr
	binary.LittleEndian.PutUint32(small[1:], smallLZMADict)
	zr, err := NewLZMAReader(io.MultiReader(bytes.NewReader(small[:]), src))
	if err != nil {
		return declared()
	}
	return &windowRetry{ctx: ctx, cur: zr, declared: declared}, nil
}
