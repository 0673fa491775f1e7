package compressed

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/modelgate/modelgate/core/ctxio"
)

// The bzip2, xz and legacy .lzma decoders allocate their whole window up
// front from the size the header declares: 3.6 MB of block-sort table for
// bzip2 level 9, 8 MiB of dictionary for the default xz and lzma preset. Most model files
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

// smallXZDictByte is the LZMA2 dictionary-size property for 64 KiB
// (2 << (8/2 + 11)), the first dictionary tried for .xz streams.
const smallXZDictByte = 8

// newXZWindowReader decodes an .xz input with its first block declaring a
// dictionary of at most 64 KiB; see windowRetry. Only the common block
// layout is rewritten (one LZMA2 filter, as xz-utils and Python's lzma
// module write): the properties byte is lowered and the header's CRC-32
// recomputed. Any other layout is decoded as declared.
func newXZWindowReader(ctx context.Context, src io.Reader, in io.ReaderAt, size int64) (io.Reader, error) {
	declared := func() (io.Reader, error) { return NewXZReader(fresh(in, size)) }
	// Stream header (12 bytes), then the first block header, whose first
	// byte gives its size.
	var head [12 + 1024]byte
	if n, err := io.ReadFull(src, head[:13]); err != nil {
		return NewXZReader(io.MultiReader(bytes.NewReader(head[:n]), src))
	}
	hlen := (int(head[12]) + 1) * 4
	if head[12] == 0 {
		// No block: the index of an empty stream.
		return NewXZReader(io.MultiReader(bytes.NewReader(head[:13]), src))
	}
	n, err := io.ReadFull(src, head[13:12+hlen])
	prefix := head[:13+n]
	if err != nil {
		return NewXZReader(io.MultiReader(bytes.NewReader(prefix), src))
	}
	small := append([]byte(nil), prefix...)
	if !lowerXZDict(small[12:]) {
		return NewXZReader(io.MultiReader(bytes.NewReader(prefix), src))
	}
	zr, err := NewXZReader(io.MultiReader(bytes.NewReader(small), src))
	if err != nil {
		return declared()
	}
	return &windowRetry{ctx: ctx, cur: zr, declared: declared}, nil
}

// lowerXZDict lowers the LZMA2 dictionary of block header h (its size
// byte, flags, optional sizes, one filter, padding, CRC-32) to
// smallXZDictByte and fixes the CRC. It reports whether it did.
func lowerXZDict(h []byte) bool {
	if len(h) < 8 || h[1]&0x3f != 0 {
		return false // more than one filter, or reserved flags
	}
	crcAt := len(h) - 4
	if binary.LittleEndian.Uint32(h[crcAt:]) != crc32.ChecksumIEEE(h[:crcAt]) {
		return false
	}
	pos := 2
	for _, present := range []bool{h[1]&0x40 != 0, h[1]&0x80 != 0} {
		if !present {
			continue
		}
		// A variable-length integer: up to nine bytes, high bit set on
		// all but the last.
		for k := 0; ; k++ {
			if pos >= crcAt || k == 9 {
				return false
			}
			b := h[pos]
			pos++
			if b&0x80 == 0 {
				break
			}
		}
	}
	if pos+3 > crcAt || h[pos] != 0x21 || h[pos+1] != 0x01 {
		return false // not LZMA2 with its one properties byte
	}
	if b := h[pos+2]; b <= smallXZDictByte || b >= 40 || uint64(2|b&1)<<(b/2+11) > MaxDict {
		// Already small, or past MaxDict: a dictionary the declared
		// decoder refuses must stay refused.
		return false
	}
	h[pos+2] = smallXZDictByte
	binary.LittleEndian.PutUint32(h[crcAt:], crc32.ChecksumIEEE(h[:crcAt]))
	return true
}
