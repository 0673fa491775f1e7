package compressed

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/klauspost/compress/zstd"
	"github.com/therootcompany/xz"
	"github.com/ulikunitz/xz/lzma"
)

// MaxDict bounds LZMA dictionaries and zstd windows. Both are allocated up
// front from a size the (untrusted) header declares; 128 MiB covers the
// strongest standard presets (xz -9, zstd --ultra -22). A stream that really
// needs a larger window fails to decode and is reported as not scanned.
const MaxDict = 128 << 20

// LZMAHeaderLen is the size of the legacy .lzma ("alone") header: one
// properties byte, a 32-bit dictionary size and a 64-bit uncompressed size.
const LZMAHeaderLen = 13

// NewZstdReader returns a single-goroutine zstd decoder whose window is
// capped at MaxDict.
func NewZstdReader(r io.Reader) (io.ReadCloser, error) {
	d, err := zstd.NewReader(r,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(MaxDict),
		zstd.WithDecoderMaxMemory(MaxDict),
	)
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	return d.IOReadCloser(), nil
}

// NewXZReader returns an xz decoder (all concatenated streams). It uses
// therootcompany/xz (a port of xz-embedded) because it treats the
// dictionary bound as a ceiling: a block declaring a larger LZMA2 dictionary
// fails instead of being allocated, and smaller ones cost only their size.
// (ulikunitz/xz raises every LZMA2 dictionary to its configured DictCap.)
func NewXZReader(r io.Reader) (io.Reader, error) {
	zr, err := xz.NewReader(r, MaxDict)
	if err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	return zr, nil
}

// NewLZMAReader decodes a legacy .lzma stream, whose 13-byte header it
// reads from r. A declared dictionary larger than MaxDict is lowered to it
// rather than allocated.
func NewLZMAReader(r io.Reader) (io.Reader, error) {
	var hdr [LZMAHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("lzma: header: %w", err)
	}
	if binary.LittleEndian.Uint32(hdr[1:]) > MaxDict {
		binary.LittleEndian.PutUint32(hdr[1:], MaxDict)
	}
	zr, err := lzma.ReaderConfig{DictCap: MaxDict}.NewReader(io.MultiReader(bytes.NewReader(hdr[:]), r))
	if err != nil {
		return nil, fmt.Errorf("lzma: %w", err)
	}
	return zr, nil
}

// NewLZMARawReader decodes an LZMA stream without the alone header, given
// its 5 property bytes and uncompressed size (-1 if unknown, in which case
// the stream must end with an end marker), as zip's method 14 stores it.
func NewLZMARawReader(r io.Reader, props [5]byte, size int64) (io.Reader, error) {
	var hdr [LZMAHeaderLen]byte
	copy(hdr[:5], props[:])
	s := uint64(math.MaxUint64)
	if size >= 0 {
		s = uint64(size)
	}
	binary.LittleEndian.PutUint64(hdr[5:], s)
	return NewLZMAReader(io.MultiReader(bytes.NewReader(hdr[:]), r))
}
