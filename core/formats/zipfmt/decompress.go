package zipfmt

import (
	"bufio"
	"compress/bzip2"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/modelgate/modelgate/core/formats/compressed"
)

// Open returns the member's decompressed content. It does not decrypt and
// does not check the CRC; callers that care wrap it (see the Zip format).
// The caller must Close it.
func (e *Entry) Open() (io.ReadCloser, error) {
	if e.LocalErr != nil {
		return nil, fmt.Errorf("zip: member %q: %w", e.Name, e.LocalErr)
	}
	raw := e.Raw()
	switch e.Method {
	case MethodStore:
		return io.NopCloser(raw), nil
	case MethodDeflate:
		src, release := compressed.ByteSource(e.r, e.DataOffset, e.DataLen())
		return &releaser{ReadCloser: compressed.NewFlateReader(src), release: release}, nil
	case MethodBzip2:
		return io.NopCloser(bzip2.NewReader(bufio.NewReaderSize(raw, 32<<10))), nil
	case MethodZstd:
		return compressed.NewZstdReader(raw)
	case MethodXZ:
		src, release := compressed.ByteSource(e.r, e.DataOffset, e.DataLen())
		zr, err := compressed.NewXZReader(src)
		if err != nil {
			release()
			return nil, err
		}
		return &releaser{ReadCloser: io.NopCloser(zr), release: release}, nil
	case MethodLZMA:
		return openLZMA(e, raw)
	}
	return nil, fmt.Errorf("%w %d", ErrUnsupportedMethod, e.Method)
}

// releaser closes a pooled decoder, then releases its source's buffer.
type releaser struct {
	io.ReadCloser
	release func()
}

func (r *releaser) Close() error {
	err := r.ReadCloser.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}

// openLZMA handles zip's LZMA framing: a 2-byte version, a 2-byte
// properties length (5) and the properties, then a raw LZMA stream that ends
// with an end marker when flag bit 1 is set.
func openLZMA(e *Entry, raw *io.SectionReader) (io.ReadCloser, error) {
	var hdr [9]byte
	if _, err := io.ReadFull(raw, hdr[:]); err != nil {
		return nil, fmt.Errorf("zip lzma header: %w", err)
	}
	if binary.LittleEndian.Uint16(hdr[2:]) != 5 {
		return nil, fmt.Errorf("zip lzma header: properties length %d, want 5", binary.LittleEndian.Uint16(hdr[2:]))
	}
	var props [5]byte
	copy(props[:], hdr[4:])
	size := e.UncompressedSize
	if e.Flags&0x2 != 0 {
		size = -1
	}
	zr, err := compressed.NewLZMARawReader(bufio.NewReaderSize(raw, 32<<10), props, size)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(zr), nil
}
