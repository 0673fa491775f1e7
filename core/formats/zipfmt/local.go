package zipfmt

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/klauspost/compress/flate"

	"github.com/modelgate/modelgate/core/limits"
)

// ErrNoCentralDirectory is returned (wrapped) by Walk after walking an
// archive without an end record: members were scanned from their local
// headers, but the archive is damaged or was cut short and no regular zip
// reader would open it.
var ErrNoCentralDirectory = errors.New("zip: no central directory; members found from local headers")

// walkLocal finds members by following local headers from offset 0, as a
// streaming unzip does. It is the fallback for archives whose end record is
// missing (truncated or deliberately damaged), so that their members still
// get scanned.
func (a *Archive) walkLocal(ctx context.Context, lim limits.Limits, fn func(e *Entry) error) error {
	le := binary.LittleEndian
	off := int64(0)
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !hasSig(a.r, a.size, off, sigLocal) {
			return ErrNoCentralDirectory
		}
		if i >= lim.MaxMembers {
			return fmt.Errorf("%w: more than max_members %d", ErrTooManyMembers, lim.MaxMembers)
		}
		e := &Entry{Index: i, HeaderOffset: off, FromLocalHeaders: true, r: a.r, size: a.size}
		e.readLocal()
		if e.LocalErr != nil {
			return fmt.Errorf("%w: member %d: %w", ErrNoCentralDirectory, i, e.LocalErr)
		}
		var lh [localLen]byte
		if _, err := a.r.ReadAt(lh[:], off); err != nil {
			return fmt.Errorf("zip: read local header: %w", err)
		}
		e.Name = e.LocalName
		e.Flags = e.LocalFlags
		e.Method = e.LocalMethod
		e.CRC32 = le.Uint32(lh[14:])
		e.CompressedSize = int64(le.Uint32(lh[18:]))
		e.UncompressedSize = int64(le.Uint32(lh[22:]))
		nameLen := int(le.Uint16(lh[26:]))
		extraLen := int64(le.Uint16(lh[28:]))
		if extraLen > 0 && e.DataOffset <= a.size {
			extra := make([]byte, extraLen)
			if n, _ := a.r.ReadAt(extra, off+localLen+int64(nameLen)); n == len(extra) {
				var dummy int64
				applyZip64Extra(extra, e, &dummy, le.Uint32(lh[18:]), le.Uint32(lh[22:]), 0)
			}
		}
		next := int64(-1)
		if e.Flags&FlagDataDescriptor != 0 && e.CompressedSize == 0 {
			// Sizes follow the data; find where the data ends.
			n, err := a.findDataEnd(ctx, e)
			if err != nil {
				return fmt.Errorf("%w: member %q: %w", ErrNoCentralDirectory, e.Name, err)
			}
			e.CompressedSize = n
			if e.Method == MethodStore {
				e.UncompressedSize = n
			}
			next = a.readDescriptor(e, e.DataOffset+n)
		} else {
			next = e.DataOffset + e.CompressedSize
			if e.Flags&FlagDataDescriptor != 0 {
				next = a.readDescriptor(e, next)
			}
		}
		if err := fn(e); err != nil {
			return err
		}
		if next <= off || next > a.size {
			return ErrNoCentralDirectory
		}
		off = next
	}
}

// readDescriptor takes the CRC and uncompressed size from the data
// descriptor at off (with or without its optional signature, 32- or 64-bit
// sizes) and returns the offset after it.
func (a *Archive) readDescriptor(e *Entry, off int64) int64 {
	if hasSig(a.r, a.size, off, sigLocal) || hasSig(a.r, a.size, off, sigCentral) {
		return off
	}
	start := off
	if hasSig(a.r, a.size, off, sigDataDesc) {
		start += 4
	}
	var d [20]byte
	n, _ := a.r.ReadAt(d[:], start)
	le := binary.LittleEndian
	for _, l := range []int{12, 20} {
		end := start + int64(l)
		if n >= l && (end == a.size || hasSig(a.r, a.size, end, sigLocal) || hasSig(a.r, a.size, end, sigCentral)) {
			e.CRC32 = le.Uint32(d[:])
			if l == 12 {
				e.UncompressedSize = int64(le.Uint32(d[8:]))
			} else if v := le.Uint64(d[12:]); v <= math.MaxInt64 {
				e.UncompressedSize = int64(v)
			}
			return end
		}
	}
	return start + 12
}

// findDataEnd returns the length of a member whose sizes are only in the
// trailing data descriptor. Deflate streams are self-terminating, so they
// are inflated (output discarded) to find their end; stored data is
// searched for a descriptor whose size field matches the distance.
func (a *Archive) findDataEnd(ctx context.Context, e *Entry) (int64, error) {
	rest := a.size - e.DataOffset
	if rest < 0 {
		return 0, errors.New("data starts past the end of the file")
	}
	switch e.Method {
	case MethodDeflate:
		cr := &countingByteReader{r: bufio.NewReaderSize(io.NewSectionReader(a.r, e.DataOffset, rest), 32<<10)}
		fr := flate.NewReader(cr)
		defer fr.Close()
		buf := make([]byte, 32<<10)
		for {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			_, err := fr.Read(buf)
			if errors.Is(err, io.EOF) {
				return cr.n, nil
			}
			if err != nil {
				return 0, fmt.Errorf("inflate: %w", err)
			}
		}
	case MethodStore:
		return a.searchDescriptor(ctx, e.DataOffset)
	}
	return 0, fmt.Errorf("cannot find the end of method %d data without a central directory", e.Method)
}

// searchDescriptor scans forward from start for "PK\x07\x08" followed by a
// CRC and a compressed size equal to the distance from start.
func (a *Archive) searchDescriptor(ctx context.Context, start int64) (int64, error) {
	const chunk = 64 << 10
	buf := make([]byte, chunk+24)
	sig := []byte{'P', 'K', 7, 8}
	for pos := start; pos < a.size; pos += chunk {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := a.r.ReadAt(buf, pos)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("read: %w", err)
		}
		b := buf[:n]
		for i := 0; ; {
			j := bytes.Index(b[i:], sig)
			if j < 0 || i+j >= chunk {
				break
			}
			at := i + j
			dist := pos + int64(at) - start
			if at+12 <= len(b) && dist <= math.MaxUint32 && int64(binary.LittleEndian.Uint32(b[at+8:])) == dist {
				return dist, nil
			}
			if at+24 <= len(b) && int64(binary.LittleEndian.Uint64(b[at+8:])) == dist {
				return dist, nil
			}
			i = at + 1
		}
	}
	return 0, errors.New("no data descriptor found after stored data")
}

// countingByteReader counts the bytes flate consumes. It implements
// io.ByteReader so flate does not wrap it in its own read-ahead buffer.
type countingByteReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingByteReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingByteReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}
