// Package zipfmt reads zip archives the way the most lenient real loaders do
// (PyTorch's miniz-based PyTorchStreamReader, Python's zipfile) and hands
// every member back to the engine. It deliberately does not use archive/zip:
// that reader rejects archives (bad CRCs, flag bits, name mismatches,
// prepended data) that torch.load happily opens, which is exactly where
// payloads hide.
//
// Two formats share one walker: PyTorchZip for torch checkpoints and
// TorchScript archives (a top-level directory holding data.pkl or
// constants.pkl) and Zip for everything else (npz, keras, plain zips). The
// exported Archive/Entry API lets other format packages (Keras v3,
// TorchScript) walk zips without re-implementing this.
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

	"github.com/modelgate/modelgate/core/limits"
)

const (
	sigLocal     = 0x04034b50
	sigCentral   = 0x02014b50
	sigEOCD      = 0x06054b50
	sigZip64EOCD = 0x06064b50
	sigZip64Loc  = 0x07064b50
	sigDataDesc  = 0x08074b50

	eocdLen      = 22
	zip64LocLen  = 20
	zip64EOCDLen = 56
	centralLen   = 46
	localLen     = 30
	maxComment   = 65535

	// maxEOCDSearch is the furthest from the end an end-of-central-directory
	// record can start: the fixed record plus the largest comment.
	maxEOCDSearch = eocdLen + maxComment
)

// Compression methods this package knows by name.
const (
	MethodStore   uint16 = 0
	MethodDeflate uint16 = 8
	MethodBzip2   uint16 = 12
	MethodLZMA    uint16 = 14
	MethodZstd    uint16 = 93
	MethodXZ      uint16 = 95
	MethodAES     uint16 = 99
)

// General-purpose flag bits.
const (
	FlagEncrypted       uint16 = 0x0001
	FlagDataDescriptor  uint16 = 0x0008
	FlagPatched         uint16 = 0x0020
	FlagStrongEncrypted uint16 = 0x0040
	FlagUTF8            uint16 = 0x0800
	FlagMaskedHeader    uint16 = 0x2000
	// normalFlags are bits real writers set: encryption is judged
	// separately, 0x2/0x4 are compression options, 0x8 data descriptor and
	// 0x800 UTF-8 names.
	normalFlags = 0x0002 | 0x0004 | FlagDataDescriptor | FlagUTF8
)

var (
	// ErrNotZip means no end of central directory record and no local
	// header at offset 0 were found.
	ErrNotZip = errors.New("zip: no end of central directory record")
	// ErrTooManyMembers is returned (wrapped) by Walk when the archive holds
	// more members than limits.MaxMembers; members before the limit were
	// already passed to the callback.
	ErrTooManyMembers = errors.New("zip: too many members")
	// ErrUnsupportedMethod is returned by Entry.Open for compression
	// methods this package cannot decode.
	ErrUnsupportedMethod = errors.New("zip: unsupported compression method")
)

// Archive is a located zip archive inside size bytes of r.
type Archive struct {
	r    io.ReaderAt
	size int64

	// Shift is added to every offset recorded in the archive to get a file
	// offset. It is non-zero when data was prepended (self-extracting
	// archives, polyglots) without the offsets being fixed up.
	Shift int64
	// CDStart and CDEnd delimit the central directory in the file.
	CDStart, CDEnd int64
	// EOCDOffset is where the end of central directory record starts.
	EOCDOffset int64
	// Zip64 is set when a ZIP64 end record supplied the directory location.
	Zip64 bool
	// Count is the number of entries the end record claims.
	Count uint64
	// CDSize is the central directory size the end record claims.
	CDSize uint64
	// NoCentralDirectory is set when no end record was found and members
	// are found by walking local headers from offset 0, like a streaming
	// unzip would.
	NoCentralDirectory bool
}

// Entry is one member. Names are raw bytes converted to string (zip names
// are not reliably UTF-8).
type Entry struct {
	// Index is the entry's position in the central directory.
	Index int
	// Name is the central directory name: what miniz (torch.load) and
	// Python's zipfile look members up by.
	Name string
	// LocalName is the name in the local header ("" if unreadable).
	LocalName string
	// Method and Flags come from the central directory; LocalMethod and
	// LocalFlags from the local header.
	Method, LocalMethod uint16
	Flags, LocalFlags   uint16
	// CRC32 is the central directory checksum of the uncompressed data.
	CRC32 uint32
	// CompressedSize and UncompressedSize are from the central directory
	// (ZIP64 extra applied).
	CompressedSize, UncompressedSize int64
	// CreatorVersion and ExternalAttrs are from the central directory.
	CreatorVersion uint16
	ExternalAttrs  uint32
	// HeaderOffset is the file offset of the local header (Archive.Shift
	// applied) and DataOffset the file offset of the member's data, computed
	// from the local header's own name and extra lengths as loaders do.
	HeaderOffset, DataOffset int64
	// IsSymlink is set when the external attributes carry a Unix symlink
	// mode.
	IsSymlink bool
	// LocalErr is set when the local header could not be read; DataOffset is
	// then meaningless and no loader can read the member.
	LocalErr error
	// FromLocalHeaders is set for entries found by walking local headers
	// (Archive.NoCentralDirectory).
	FromLocalHeaders bool

	r    io.ReaderAt
	size int64
}

// Open locates the archive in size bytes of r. It tolerates data before the
// archive and, when no end record exists but r starts with a local header,
// falls back to walking local headers.
func Open(r io.ReaderAt, size int64) (*Archive, error) {
	a, err := locate(r, size)
	if err == nil {
		return a, nil
	}
	if hasSig(r, size, 0, sigLocal) {
		return &Archive{r: r, size: size, NoCentralDirectory: true, EOCDOffset: -1, CDStart: size, CDEnd: size}, nil
	}
	return nil, err
}

// Walk opens the archive in r and calls fn for every entry in central
// directory order. It stops at the first error fn returns and returns it.
func Walk(ctx context.Context, r io.ReaderAt, size int64, lim limits.Limits, fn func(e *Entry) error) error {
	a, err := Open(r, size)
	if err != nil {
		return err
	}
	return a.Walk(ctx, lim, fn)
}

// Walk calls fn for every entry, at most lim.MaxMembers of them (more
// yields an error wrapping ErrTooManyMembers). Entries are not retained, so
// memory stays bounded by one entry however large the directory.
func (a *Archive) Walk(ctx context.Context, lim limits.Limits, fn func(e *Entry) error) error {
	lim = lim.WithDefaults()
	if a.NoCentralDirectory {
		return a.walkLocal(ctx, lim, fn)
	}
	return a.walkCentral(ctx, lim.MaxMembers, true, fn)
}

// walkCentral parses the central directory; readLocal=false skips the
// local headers, for cheap name-only passes.
func (a *Archive) walkCentral(ctx context.Context, maxMembers int, readLocal bool, fn func(e *Entry) error) error {
	// Most directories are a few KB: a buffer of their size, not 64 KiB,
	// for each of the passes a scan makes.
	br := bufio.NewReaderSize(io.NewSectionReader(a.r, a.CDStart, a.CDEnd-a.CDStart), int(min(max(a.CDEnd-a.CDStart, 0)+64, 64<<10)))
	var hdr [centralLen]byte
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := io.ReadFull(br, hdr[:4]); err != nil {
			return nil // directory exhausted
		}
		if binary.LittleEndian.Uint32(hdr[:4]) != sigCentral {
			// Junk after the last entry is ignored, like miniz and
			// zipfile do once the counted entries are read.
			return nil
		}
		if _, err := io.ReadFull(br, hdr[4:]); err != nil {
			return fmt.Errorf("zip: central directory entry %d truncated: %w", i, err)
		}
		if i >= maxMembers {
			return fmt.Errorf("%w: more than max_members %d", ErrTooManyMembers, maxMembers)
		}
		e, err := a.parseCentral(br, hdr[:], i)
		if err != nil {
			return err
		}
		if readLocal {
			e.readLocal()
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

func (a *Archive) parseCentral(br *bufio.Reader, hdr []byte, i int) (*Entry, error) {
	le := binary.LittleEndian
	nameLen := int(le.Uint16(hdr[28:]))
	extraLen := int(le.Uint16(hdr[30:]))
	commentLen := int(le.Uint16(hdr[32:]))
	// Lengths are 16-bit, so these allocations are bounded by 64 KiB each.
	buf := make([]byte, nameLen+extraLen)
	if _, err := io.ReadFull(br, buf); err != nil {
		return nil, fmt.Errorf("zip: central directory entry %d truncated: %w", i, err)
	}
	if _, err := br.Discard(commentLen); err != nil {
		return nil, fmt.Errorf("zip: central directory entry %d truncated: %w", i, err)
	}
	e := &Entry{
		Index:            i,
		Name:             string(buf[:nameLen]),
		CreatorVersion:   le.Uint16(hdr[4:]),
		Flags:            le.Uint16(hdr[8:]),
		Method:           le.Uint16(hdr[10:]),
		CRC32:            le.Uint32(hdr[16:]),
		CompressedSize:   int64(le.Uint32(hdr[20:])),
		UncompressedSize: int64(le.Uint32(hdr[24:])),
		ExternalAttrs:    le.Uint32(hdr[38:]),
		r:                a.r,
		size:             a.size,
	}
	offset := int64(le.Uint32(hdr[42:]))
	applyZip64Extra(buf[nameLen:], e, &offset, le.Uint32(hdr[20:]), le.Uint32(hdr[24:]), le.Uint32(hdr[42:]))
	mode := e.ExternalAttrs >> 16
	e.IsSymlink = mode&0o170000 == 0o120000
	e.HeaderOffset = offset + a.Shift
	return e, nil
}

// applyZip64Extra replaces saturated 32-bit fields with their ZIP64 values,
// which appear in the extra field in a fixed order, only for the fields
// that are saturated.
func applyZip64Extra(extra []byte, e *Entry, offset *int64, comp, uncomp, off uint32) {
	le := binary.LittleEndian
	for len(extra) >= 4 {
		id := le.Uint16(extra)
		n := int(le.Uint16(extra[2:]))
		extra = extra[4:]
		if n > len(extra) {
			return
		}
		field := extra[:n]
		extra = extra[n:]
		if id != 0x0001 {
			continue
		}
		next := func() (int64, bool) {
			if len(field) < 8 {
				return 0, false
			}
			v := le.Uint64(field)
			field = field[8:]
			if v > math.MaxInt64 {
				v = math.MaxInt64
			}
			return int64(v), true
		}
		if uncomp == math.MaxUint32 {
			if v, ok := next(); ok {
				e.UncompressedSize = v
			}
		}
		if comp == math.MaxUint32 {
			if v, ok := next(); ok {
				e.CompressedSize = v
			}
		}
		if off == math.MaxUint32 {
			if v, ok := next(); ok {
				*offset = v
			}
		}
		return
	}
}

// readLocal reads the local header. Loaders take the data offset from the
// local header's name and extra lengths, not the central directory's, so we
// must too.
func (e *Entry) readLocal() {
	le := binary.LittleEndian
	if e.HeaderOffset < 0 || e.HeaderOffset > e.size-localLen {
		e.LocalErr = fmt.Errorf("local header offset %d outside the file", e.HeaderOffset)
		return
	}
	var lh [localLen]byte
	if _, err := e.r.ReadAt(lh[:], e.HeaderOffset); err != nil {
		e.LocalErr = fmt.Errorf("read local header: %w", err)
		return
	}
	if le.Uint32(lh[:]) != sigLocal {
		e.LocalErr = fmt.Errorf("no local header signature at offset %d", e.HeaderOffset)
		return
	}
	e.LocalFlags = le.Uint16(lh[6:])
	e.LocalMethod = le.Uint16(lh[8:])
	nameLen := int64(le.Uint16(lh[26:]))
	extraLen := int64(le.Uint16(lh[28:]))
	nameOff := e.HeaderOffset + localLen
	if nameOff+nameLen > e.size {
		e.LocalErr = errors.New("local header name truncated")
		return
	}
	name := make([]byte, nameLen)
	if _, err := e.r.ReadAt(name, nameOff); err != nil && !errors.Is(err, io.EOF) {
		e.LocalErr = fmt.Errorf("read local name: %w", err)
		return
	}
	e.LocalName = string(name)
	e.DataOffset = nameOff + nameLen + extraLen
}

// DataLen is the number of bytes of member data present in the file,
// starting at DataOffset. For stored members it is the larger of the two
// recorded sizes (miniz reads the uncompressed size, zipfile the compressed
// one), clamped to the end of the file.
func (e *Entry) DataLen() int64 {
	if e.LocalErr != nil {
		return 0
	}
	n := e.CompressedSize
	if e.Method == MethodStore && e.UncompressedSize > n {
		n = e.UncompressedSize
	}
	if rest := e.size - e.DataOffset; n > rest {
		n = max(rest, 0)
	}
	return n
}

// Truncated reports whether the recorded data extends past the end of the
// file.
func (e *Entry) Truncated() bool {
	if e.LocalErr != nil {
		return false
	}
	n := e.CompressedSize
	if e.Method == MethodStore && e.UncompressedSize > n {
		n = e.UncompressedSize
	}
	return e.DataOffset > e.size || n > e.size-e.DataOffset
}

// Raw returns the member's data as stored (compressed, possibly
// encrypted), clamped to the file.
func (e *Entry) Raw() *io.SectionReader {
	return io.NewSectionReader(e.r, e.DataOffset, e.DataLen())
}

// IsDir reports whether the entry is a directory record with no data.
func (e *Entry) IsDir() bool {
	return len(e.Name) > 0 && e.Name[len(e.Name)-1] == '/' && e.CompressedSize == 0 && e.UncompressedSize == 0
}

// AnyFlags returns the union of the central and local flags.
func (e *Entry) AnyFlags() uint16 { return e.Flags | e.LocalFlags }

// UnusualFlags returns flag bits (central or local) that real writers do not
// set, excluding plain encryption which needs a look at the data.
func (e *Entry) UnusualFlags() uint16 {
	return e.AnyFlags() &^ (normalFlags | FlagEncrypted)
}

// locate finds the end of central directory record by scanning backwards,
// then the central directory, accounting for prepended data.
func locate(r io.ReaderAt, size int64) (*Archive, error) {
	if size < eocdLen {
		return nil, ErrNotZip
	}
	tailLen := min(size, int64(maxEOCDSearch))
	tail := make([]byte, tailLen)
	if n, err := r.ReadAt(tail, size-tailLen); int64(n) != tailLen {
		return nil, fmt.Errorf("zip: read end of file: %w", err)
	}
	sig := []byte{'P', 'K', 5, 6}
	end := len(tail)
	for {
		i := bytes.LastIndex(tail[:end], sig)
		if i < 0 {
			return nil, ErrNotZip
		}
		end = i + 3 // next search ends before this candidate's last byte
		if len(tail)-i < eocdLen {
			continue
		}
		if a := tryEOCD(r, size, size-tailLen+int64(i), tail[i:i+eocdLen]); a != nil {
			return a, nil
		}
	}
}

// tryEOCD validates one candidate end record: it is accepted only if a
// central directory entry sits where the record says (directly, or shifted
// by prepended data), or if it describes an empty archive that ends the file.
func tryEOCD(r io.ReaderAt, size, pos int64, rec []byte) *Archive {
	le := binary.LittleEndian
	count := uint64(le.Uint16(rec[10:]))
	cdSize := uint64(le.Uint32(rec[12:]))
	cdOff := uint64(le.Uint32(rec[16:]))
	commentLen := int64(le.Uint16(rec[20:]))
	a := &Archive{r: r, size: size, EOCDOffset: pos, Count: count}
	cdEnd := pos
	if pos >= zip64LocLen {
		var loc [zip64LocLen]byte
		if _, err := r.ReadAt(loc[:], pos-zip64LocLen); err == nil && le.Uint32(loc[:]) == sigZip64Loc {
			recorded := le.Uint64(loc[8:])
			cands := []int64{pos - zip64LocLen - zip64EOCDLen}
			if recorded <= math.MaxInt64 {
				cands = append([]int64{int64(recorded)}, cands...)
			}
			for _, c := range cands {
				if c < 0 || c > pos-zip64LocLen-zip64EOCDLen {
					continue
				}
				var z [zip64EOCDLen]byte
				if _, err := r.ReadAt(z[:], c); err != nil || le.Uint32(z[:]) != sigZip64EOCD {
					continue
				}
				a.Zip64 = true
				a.Count = le.Uint64(z[32:])
				cdSize = le.Uint64(z[40:])
				cdOff = le.Uint64(z[48:])
				cdEnd = c
				break
			}
		}
	}
	a.CDEnd, a.CDSize = cdEnd, cdSize
	if cdSize == 0 {
		// An empty archive: accept only if the record ends the file, so
		// that stray signature bytes in other formats do not match.
		if a.Count == 0 && pos+eocdLen+commentLen == size {
			a.CDStart = cdEnd
			if cdOff <= uint64(cdEnd) {
				a.Shift = cdEnd - int64(cdOff)
			}
			return a
		}
		return nil
	}
	if cdSize <= uint64(cdEnd) {
		start := cdEnd - int64(cdSize)
		if hasSig(r, size, start, sigCentral) {
			a.CDStart = start
			if cdOff <= math.MaxInt64 {
				a.Shift = start - int64(cdOff)
			}
			return a
		}
	}
	if cdOff < uint64(cdEnd) && hasSig(r, size, int64(cdOff), sigCentral) {
		a.CDStart = int64(cdOff)
		return a
	}
	return nil
}

func hasSig(r io.ReaderAt, size, off int64, sig uint32) bool {
	if off < 0 || off > size-4 {
		return false
	}
	var b [4]byte
	if _, err := r.ReadAt(b[:], off); err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	return binary.LittleEndian.Uint32(b[:]) == sig
}
