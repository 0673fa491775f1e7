package sevenzip

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ulikunitz/xz/lzma"

	"github.com/modelgate/modelgate/core/formats/compressed"
)

// The 7z decoder allocates slices and dictionaries from counts and sizes
// the (untrusted) header declares. Before it sees an archive, preflight
// walks the header with these bounds so a few hostile bytes cannot ask for
// gigabytes.
const (
	signatureLen = 32
	// maxHeaderBytes bounds the (decoded) header; real headers take about
	// a hundred bytes per file.
	maxHeaderBytes = 64 << 20
	// maxFolderStreams is 7-Zip's own bound on coders and streams in one
	// folder.
	maxFolderStreams = 64
	// maxPPMdMemory bounds the PPMd model size (7-Zip's -mx9 uses 192 MiB).
	maxPPMdMemory = 256 << 20
)

// Property ids of the 7z header (7zFormat.txt).
const (
	idEnd               = 0x00
	idHeader            = 0x01
	idArchiveProperties = 0x02
	idAdditionalStreams = 0x03
	idMainStreams       = 0x04
	idFilesInfo         = 0x05
	idPackInfo          = 0x06
	idUnpackInfo        = 0x07
	idSubStreamsInfo    = 0x08
	idSize              = 0x09
	idCRC               = 0x0a
	idFolder            = 0x0b
	idCodersUnpackSize  = 0x0c
	idNumUnpackStream   = 0x0d
	idEncodedHeader     = 0x17
)

// Codec ids modelgate looks at.
var (
	codecCopy  = []byte{0x00}
	codecLZMA  = []byte{0x03, 0x01, 0x01}
	codecLZMA2 = []byte{0x21}
	codecPPMd  = []byte{0x03, 0x04, 0x01}
	codecAES   = []byte{0x06, 0xf1, 0x07, 0x01}
)

// errEncrypted marks an archive whose header is encrypted.
var errEncrypted = errors.New("7z: header is encrypted")

// limitError marks a declared count or size beyond modelgate's bounds.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

func limitf(format string, a ...any) error { return &limitError{msg: fmt.Sprintf(format, a...)} }

// coder is one step of a folder's decoding pipeline.
type coder struct {
	id    []byte
	in    uint64
	out   uint64
	props []byte
}

type folder struct {
	coders []coder
	// packed is the number of packed input streams.
	packed uint64
	// unpack is the size of every output stream.
	unpack []uint64
}

// streams is the parsed StreamsInfo.
type streams struct {
	packPos   uint64
	packSizes []uint64
	folders   []folder
}

// anyEncrypted reports whether any folder uses AES.
func (s *streams) anyEncrypted() bool {
	for _, f := range s.folders {
		if f.encrypted() {
			return true
		}
	}
	return false
}

func (f *folder) encrypted() bool {
	for _, c := range f.coders {
		if bytes.Equal(c.id, codecAES) {
			return true
		}
	}
	return false
}

// headerWalker reads header structures from a byte slice, bounding every
// count.
type headerWalker struct {
	b        []byte
	pos      int
	maxCount uint64
}

func (w *headerWalker) byte() (byte, error) {
	if w.pos >= len(w.b) {
		return 0, io.ErrUnexpectedEOF
	}
	c := w.b[w.pos]
	w.pos++
	return c, nil
}

// number reads 7z's variable-length UINT64.
func (w *headerWalker) number() (uint64, error) {
	first, err := w.byte()
	if err != nil {
		return 0, err
	}
	var v uint64
	mask := byte(0x80)
	for i := 0; i < 8; i++ {
		if first&mask == 0 {
			high := uint64(first) & (uint64(mask) - 1)
			return v | high<<(8*i), nil
		}
		c, err := w.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c) << (8 * i)
		mask >>= 1
	}
	return v, nil
}

// count reads a number used as an element count.
func (w *headerWalker) count(what string) (uint64, error) {
	n, err := w.number()
	if err != nil {
		return 0, err
	}
	if n > w.maxCount {
		return 0, limitf("7z header declares %d %s, more than the limit %d", n, what, w.maxCount)
	}
	return n, nil
}

func (w *headerWalker) skip(n uint64) error {
	if n > uint64(len(w.b)-w.pos) {
		return io.ErrUnexpectedEOF
	}
	w.pos += int(n)
	return nil
}

// skipProperties skips (id, size, bytes) records up to idEnd, the layout
// of archive properties and of file properties alike.
func (w *headerWalker) skipProperties() error {
	for {
		t, err := w.byte()
		if err != nil {
			return err
		}
		if t == idEnd {
			return nil
		}
		n, err := w.number()
		if err != nil {
			return err
		}
		if err := w.skip(n); err != nil {
			return err
		}
	}
}

func (w *headerWalker) expect(id byte) error {
	c, err := w.byte()
	if err != nil {
		return err
	}
	if c != id {
		return fmt.Errorf("7z header: expected property 0x%02x, found 0x%02x", id, c)
	}
	return nil
}

// digests skips a CRC list of n entries.
func (w *headerWalker) digests(n uint64) error {
	all, err := w.byte()
	if err != nil {
		return err
	}
	defined := n
	if all == 0 {
		defined = 0
		for i := uint64(0); i < (n+7)/8; i++ {
			c, err := w.byte()
			if err != nil {
				return err
			}
			for ; c != 0; c &= c - 1 {
				defined++
			}
		}
	}
	return w.skip(4 * defined)
}

// streamsInfo walks StreamsInfo up to its kEnd.
func (w *headerWalker) streamsInfo() (*streams, error) {
	s := &streams{}
	id, err := w.byte()
	if err != nil {
		return nil, err
	}
	if id == idPackInfo {
		if err := w.packInfo(s); err != nil {
			return nil, err
		}
		if id, err = w.byte(); err != nil {
			return nil, err
		}
	}
	if id == idUnpackInfo {
		if err := w.unpackInfo(s); err != nil {
			return nil, err
		}
		if id, err = w.byte(); err != nil {
			return nil, err
		}
	}
	if id == idSubStreamsInfo {
		if err := w.subStreamsInfo(s); err != nil {
			return nil, err
		}
		if id, err = w.byte(); err != nil {
			return nil, err
		}
	}
	if id != idEnd {
		return nil, fmt.Errorf("7z header: unexpected property 0x%02x in streams info", id)
	}
	return s, nil
}

func (w *headerWalker) packInfo(s *streams) error {
	var err error
	if s.packPos, err = w.number(); err != nil {
		return err
	}
	n, err := w.count("pack streams")
	if err != nil {
		return err
	}
	for {
		id, err := w.byte()
		if err != nil {
			return err
		}
		switch id {
		case idEnd:
			return nil
		case idSize:
			s.packSizes = make([]uint64, 0, min(n, 1024))
			for i := uint64(0); i < n; i++ {
				v, err := w.number()
				if err != nil {
					return err
				}
				s.packSizes = append(s.packSizes, v)
			}
		case idCRC:
			if err := w.digests(n); err != nil {
				return err
			}
		default:
			return fmt.Errorf("7z header: unexpected property 0x%02x in pack info", id)
		}
	}
}

func (w *headerWalker) unpackInfo(s *streams) error {
	if err := w.expect(idFolder); err != nil {
		return err
	}
	n, err := w.count("folders")
	if err != nil {
		return err
	}
	if ext, err := w.byte(); err != nil || ext != 0 {
		return fmt.Errorf("7z header: external folder data is not supported")
	}
	for i := uint64(0); i < n; i++ {
		f, err := w.folder()
		if err != nil {
			return err
		}
		s.folders = append(s.folders, f)
	}
	if err := w.expect(idCodersUnpackSize); err != nil {
		return err
	}
	for i := range s.folders {
		f := &s.folders[i]
		for _, c := range f.coders {
			for j := uint64(0); j < c.out; j++ {
				v, err := w.number()
				if err != nil {
					return err
				}
				f.unpack = append(f.unpack, v)
			}
		}
	}
	id, err := w.byte()
	if err != nil {
		return err
	}
	if id == idCRC {
		if err := w.digests(n); err != nil {
			return err
		}
		if id, err = w.byte(); err != nil {
			return err
		}
	}
	if id != idEnd {
		return fmt.Errorf("7z header: unexpected property 0x%02x in unpack info", id)
	}
	return nil
}

func (w *headerWalker) folder() (folder, error) {
	var f folder
	n, err := w.number()
	if err != nil {
		return f, err
	}
	if n == 0 || n > maxFolderStreams {
		return f, fmt.Errorf("7z header: folder with %d coders", n)
	}
	var totalIn, totalOut uint64
	for i := uint64(0); i < n; i++ {
		flag, err := w.byte()
		if err != nil {
			return f, err
		}
		if flag&0xc0 != 0 {
			return f, fmt.Errorf("7z header: unsupported coder flags 0x%02x", flag)
		}
		c := coder{in: 1, out: 1}
		idLen := int(flag & 0x0f)
		if idLen > len(w.b)-w.pos {
			return f, io.ErrUnexpectedEOF
		}
		c.id = w.b[w.pos : w.pos+idLen]
		w.pos += idLen
		if flag&0x10 != 0 {
			if c.in, err = w.number(); err != nil {
				return f, err
			}
			if c.out, err = w.number(); err != nil {
				return f, err
			}
		}
		if c.in > maxFolderStreams || c.out > maxFolderStreams {
			return f, fmt.Errorf("7z header: coder with %d inputs and %d outputs", c.in, c.out)
		}
		totalIn += c.in
		totalOut += c.out
		if flag&0x20 != 0 {
			size, err := w.number()
			if err != nil {
				return f, err
			}
			if size > uint64(len(w.b)-w.pos) {
				return f, io.ErrUnexpectedEOF
			}
			c.props = w.b[w.pos : w.pos+int(size)]
			w.pos += int(size)
		}
		if err := checkCoder(c); err != nil {
			return f, err
		}
		f.coders = append(f.coders, c)
	}
	if totalIn > maxFolderStreams || totalOut > maxFolderStreams || totalOut == 0 || totalIn < totalOut-1 {
		return f, fmt.Errorf("7z header: folder with %d inputs and %d outputs", totalIn, totalOut)
	}
	bindPairs := totalOut - 1
	for i := uint64(0); i < bindPairs; i++ {
		if _, err := w.number(); err != nil {
			return f, err
		}
		if _, err := w.number(); err != nil {
			return f, err
		}
	}
	f.packed = totalIn - bindPairs
	if f.packed > 1 {
		for i := uint64(0); i < f.packed; i++ {
			if _, err := w.number(); err != nil {
				return f, err
			}
		}
	}
	return f, nil
}

// checkCoder bounds the memory a coder's properties ask for.
func checkCoder(c coder) error {
	switch {
	case bytes.Equal(c.id, codecLZMA):
		if len(c.props) >= 5 {
			if d := binary.LittleEndian.Uint32(c.props[1:5]); d > compressed.MaxDict {
				return limitf("7z LZMA dictionary of %d bytes exceeds %d", d, compressed.MaxDict)
			}
		}
	case bytes.Equal(c.id, codecLZMA2):
		if len(c.props) >= 1 {
			if d := lzma2Dict(c.props[0]); d > compressed.MaxDict {
				return limitf("7z LZMA2 dictionary of %d bytes exceeds %d", d, compressed.MaxDict)
			}
		}
	case bytes.Equal(c.id, codecPPMd):
		if len(c.props) >= 5 {
			if m := binary.LittleEndian.Uint32(c.props[1:5]); m > maxPPMdMemory {
				return limitf("7z PPMd model of %d bytes exceeds %d", m, maxPPMdMemory)
			}
		}
	}
	return nil
}

// lzma2Dict decodes LZMA2's one-byte dictionary size.
func lzma2Dict(b byte) uint64 {
	if b > 40 {
		return 1 << 63
	}
	if b == 40 {
		return 0xffffffff
	}
	return uint64(2|(b&1)) << (b/2 + 11)
}

func (w *headerWalker) subStreamsInfo(s *streams) error {
	nums := make([]uint64, len(s.folders))
	for i := range nums {
		nums[i] = 1
	}
	id, err := w.byte()
	if err != nil {
		return err
	}
	if id == idNumUnpackStream {
		var total uint64
		for i := range nums {
			if nums[i], err = w.count("streams in a folder"); err != nil {
				return err
			}
			total += nums[i]
			if total > w.maxCount {
				return limitf("7z header declares more than %d streams", w.maxCount)
			}
		}
		if id, err = w.byte(); err != nil {
			return err
		}
	}
	var total uint64
	for _, n := range nums {
		total += n
	}
	if id == idSize {
		for _, n := range nums {
			for j := uint64(1); j < n; j++ {
				if _, err := w.number(); err != nil {
					return err
				}
			}
		}
		if id, err = w.byte(); err != nil {
			return err
		}
	}
	for id == idCRC {
		if err := w.digests(total); err != nil {
			return err
		}
		if id, err = w.byte(); err != nil {
			return err
		}
	}
	if id != idEnd {
		return fmt.Errorf("7z header: unexpected property 0x%02x in substreams info", id)
	}
	return nil
}

// header walks a plain Header and returns its main streams (nil if none).
func (w *headerWalker) header() (main *streams, err error) {
	if err = w.expect(idHeader); err != nil {
		return nil, err
	}
	id, err := w.byte()
	if err != nil {
		return nil, err
	}
	if id == idArchiveProperties {
		if err := w.skipProperties(); err != nil {
			return nil, err
		}
		if id, err = w.byte(); err != nil {
			return nil, err
		}
	}
	for _, want := range []byte{idAdditionalStreams, idMainStreams} {
		if id != want {
			continue
		}
		s, err := w.streamsInfo()
		if err != nil {
			return nil, err
		}
		if want == idMainStreams {
			main = s
		}
		if id, err = w.byte(); err != nil {
			return nil, err
		}
	}
	if id == idFilesInfo {
		if _, err := w.count("files"); err != nil {
			return nil, err
		}
		if err := w.skipProperties(); err != nil {
			return nil, err
		}
		if id, err = w.byte(); err != nil {
			return nil, err
		}
	}
	if id != idEnd {
		return nil, fmt.Errorf("7z header: unexpected property 0x%02x", id)
	}
	return main, nil
}

// preflight checks that the archive's header stays within bounds before
// the decoder parses it. maxCount bounds every declared count. It returns
// the indexes of folders (the decoder's File.Stream) that are encrypted:
// without a password they are never handed to the decoder, whose key
// derivation alone can cost seconds per member.
func preflight(r io.ReaderAt, size int64, maxCount uint64) (map[int]bool, error) {
	var sig [signatureLen]byte
	if n, err := r.ReadAt(sig[:], 0); n < len(sig) {
		return nil, fmt.Errorf("7z: signature header: %w", err)
	}
	next := binary.LittleEndian.Uint64(sig[12:20])
	hsize := binary.LittleEndian.Uint64(sig[20:28])
	avail := uint64(size - signatureLen)
	if next > avail || hsize > avail-next {
		return nil, fmt.Errorf("7z: header (%d bytes at %d) lies outside the %d-byte file", hsize, next, size)
	}
	if hsize > maxHeaderBytes {
		return nil, limitf("7z header of %d bytes exceeds %d", hsize, maxHeaderBytes)
	}
	hdr := make([]byte, hsize)
	if n, err := r.ReadAt(hdr, int64(signatureLen+next)); n < len(hdr) {
		return nil, fmt.Errorf("7z: read header: %w", err)
	}
	for round := 0; round < 4; round++ {
		if len(hdr) == 0 || hdr[0] != idEncodedHeader {
			break
		}
		w := &headerWalker{b: hdr[1:], maxCount: maxCount}
		s, err := w.streamsInfo()
		if err != nil {
			return nil, err
		}
		if hdr, err = decodeHeader(r, size, s); err != nil {
			return nil, err
		}
	}
	if len(hdr) == 0 {
		return nil, nil // an empty archive
	}
	w := &headerWalker{b: hdr, maxCount: maxCount}
	main, err := w.header()
	if err != nil || main == nil {
		return nil, err
	}
	enc := map[int]bool{}
	for i, f := range main.folders {
		if f.encrypted() {
			enc[i] = true
		}
	}
	return enc, nil
}

// decodeHeader unpacks an encoded header: one folder with one LZMA, LZMA2
// or copy coder, as 7-Zip and py7zr write them.
func decodeHeader(r io.ReaderAt, size int64, s *streams) ([]byte, error) {
	if s.anyEncrypted() {
		return nil, errEncrypted
	}
	if len(s.folders) != 1 || len(s.folders[0].coders) != 1 || len(s.packSizes) < 1 || len(s.folders[0].unpack) != 1 {
		return nil, fmt.Errorf("7z: encoded header with an unsupported layout")
	}
	f := s.folders[0]
	c := f.coders[0]
	unpack := f.unpack[0]
	if unpack > maxHeaderBytes {
		return nil, limitf("7z header of %d bytes exceeds %d", unpack, maxHeaderBytes)
	}
	start, n := s.packPos, s.packSizes[0]
	avail := uint64(size - signatureLen)
	if start > avail || n > avail-start {
		return nil, fmt.Errorf("7z: encoded header data lies outside the file")
	}
	packed := io.NewSectionReader(r, int64(signatureLen+start), int64(n))
	var dec io.Reader
	var err error
	switch {
	case bytes.Equal(c.id, codecCopy):
		dec = packed
	case bytes.Equal(c.id, codecLZMA) && len(c.props) == 5:
		dec, err = compressed.NewLZMARawReader(packed, [5]byte(c.props), int64(unpack))
	case bytes.Equal(c.id, codecLZMA2) && len(c.props) == 1:
		dec, err = lzma.Reader2Config{DictCap: int(max(lzma2Dict(c.props[0]), lzma.MinDictCap))}.NewReader2(packed)
	default:
		return nil, fmt.Errorf("7z: header compressed with unsupported method %x", c.id)
	}
	if err != nil {
		return nil, fmt.Errorf("7z: encoded header: %w", err)
	}
	// Grow with the real output rather than trusting the declared size.
	out, err := io.ReadAll(io.LimitReader(dec, int64(unpack)))
	if err != nil {
		return nil, fmt.Errorf("7z: decode header: %w", err)
	}
	if uint64(len(out)) != unpack {
		return nil, fmt.Errorf("7z: encoded header decodes to %d bytes, %d declared", len(out), unpack)
	}
	return out, nil
}
