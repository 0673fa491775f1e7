// Package hdf5 is a minimal, bounded reader for the part of HDF5 that Keras
// models use: the superblock (versions 0-3), object headers (versions 1 and
// 2, with continuation blocks) and the attributes on them, compact or in
// dense storage (strings, fixed or variable-length, scalar or arrays). It
// reads what h5py writes and reports anything else it meets (shared
// messages, filtered or huge heap objects) as ErrUnsupported rather than
// guessing, so callers can say the file was not scanned completely.
//
// Every offset is checked against the file size, every count and size
// against Limits, and header continuation chains are bounded, so hostile
// input costs a known amount of time and memory.
package hdf5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/modelgate/modelgate/core/limits"
)

// Signature is the 8-byte HDF5 format signature.
var Signature = []byte("\x89HDF\r\n\x1a\n")

// ErrUnsupported marks valid-looking HDF5 structures this reader does not
// implement; the attributes it could not read may hold anything.
var ErrUnsupported = errors.New("unsupported HDF5 feature")

// ErrImpossible marks a declared size (an object header or heap block, an
// attribute's dataspace) that no file of this size could hold by orders of
// magnitude (limits.Impossible): a header aimed at a reader's size
// arithmetic rather than a truncated file.
var ErrImpossible = errors.New("declared size impossible for the file size")

// beyond returns ErrImpossible when need bytes cannot fit in the file from
// address addr on by orders of magnitude.
func (f *File) beyond(need float64, addr uint64) error {
	left := f.size - f.base
	if addr < uint64(left) {
		left -= int64(addr)
	} else {
		left = 0
	}
	if limits.Impossible(need, left) {
		return ErrImpossible
	}
	return nil
}

// Limits bounds one read.
type Limits struct {
	// MaxHeaderBytes bounds the bytes read for one object header, all
	// continuation blocks included.
	MaxHeaderBytes int64
	// MaxContinuations bounds the continuation blocks of one header.
	MaxContinuations int
	// MaxAttributes bounds the attributes returned per object.
	MaxAttributes int
	// MaxValueBytes bounds the decoded value of one attribute.
	MaxValueBytes int64
	// MaxElements bounds the elements of one attribute's dataspace.
	MaxElements int64
	// MaxTotalValueBytes bounds the decoded values of all attributes of one
	// object together (variable-length strings can all point at the same
	// large heap object).
	MaxTotalValueBytes int64
}

// DefaultLimits suits Keras models: configs of large models reach a few MiB.
func DefaultLimits() Limits {
	return Limits{
		MaxHeaderBytes:     64 << 20,
		MaxContinuations:   4096,
		MaxAttributes:      4096,
		MaxValueBytes:      64 << 20,
		MaxElements:        1 << 20,
		MaxTotalValueBytes: 256 << 20,
	}
}

// Attribute is one attribute of an object. Strings holds the values of
// string-typed attributes (one per element); other types keep only their
// class.
type Attribute struct {
	Name string
	// Class is the HDF5 datatype class (3 string, 9 variable-length, ...).
	Class int
	// IsString is true for fixed and variable-length strings.
	IsString bool
	Strings  []string
}

// String returns the attribute's string values joined by newlines.
func (a Attribute) String() string {
	return string(bytes.Join(stringsToBytes(a.Strings), []byte("\n")))
}

func stringsToBytes(s []string) [][]byte {
	out := make([][]byte, len(s))
	for i := range s {
		out[i] = []byte(s[i])
	}
	return out
}

// File is an opened HDF5 file. It holds no buffers of its own.
type File struct {
	r        io.ReaderAt
	size     int64
	base     int64
	offSize  int
	lenSize  int
	rootAddr uint64
	lim      Limits
	// heaps caches parsed global heap collections by address, so that
	// many references into one collection parse it once.
	heaps map[uint64]map[uint32][]byte
	// budget is what is left of MaxTotalValueBytes for the current call.
	budget int64
	// SuperblockVersion is 0..3.
	SuperblockVersion int
	// SignatureOffset is where the signature was found (0, 512, 1024, ...).
	SignatureOffset int64
}

// FindSignature returns the offset of the HDF5 signature: HDF5 allows a user
// block before it, so it is searched at 0 and every power of two from 512.
func FindSignature(r io.ReaderAt, size int64) (int64, bool) {
	buf := make([]byte, len(Signature))
	for off := int64(0); off+int64(len(Signature)) <= size; {
		if _, err := r.ReadAt(buf, off); err == nil && bytes.Equal(buf, Signature) {
			return off, true
		}
		if off == 0 {
			off = 512
		} else {
			off *= 2
		}
	}
	return 0, false
}

// Open parses the superblock.
func Open(r io.ReaderAt, size int64, lim Limits) (*File, error) {
	sig, ok := FindSignature(r, size)
	if !ok {
		return nil, errors.New("hdf5: no signature")
	}
	f := &File{r: r, size: size, lim: lim, SignatureOffset: sig, base: sig}
	head, err := f.readAbs(sig, 8+16)
	if err != nil {
		return nil, fmt.Errorf("hdf5: superblock: %w", err)
	}
	f.SuperblockVersion = int(head[8])
	switch f.SuperblockVersion {
	case 0, 1:
		f.offSize, f.lenSize = int(head[13]), int(head[14])
		if err := f.checkSizes(); err != nil {
			return nil, err
		}
		// Fixed part: 8 sig + 8 versions/sizes + 4 K values + 4 flags
		// (+4 for v1), then base, free-space, EOF and driver addresses and
		// the root group's symbol table entry (link name offset, then the
		// object header address).
		p := int64(24)
		if f.SuperblockVersion == 1 {
			p += 4
		}
		p += 4 * int64(f.offSize) // base, free-space, EOF, driver info
		p += int64(f.offSize)     // link name offset
		b, err := f.readAbs(sig+p, f.offSize)
		if err != nil {
			return nil, fmt.Errorf("hdf5: root symbol table entry: %w", err)
		}
		f.rootAddr = f.uint(b)
	case 2, 3:
		f.offSize, f.lenSize = int(head[9]), int(head[10])
		if err := f.checkSizes(); err != nil {
			return nil, err
		}
		// sig, version, sizes, flags; then base, extension, EOF, root.
		b, err := f.readAbs(sig+12+3*int64(f.offSize), f.offSize)
		if err != nil {
			return nil, fmt.Errorf("hdf5: root object header address: %w", err)
		}
		f.rootAddr = f.uint(b)
	default:
		return nil, fmt.Errorf("hdf5: superblock version %d: %w", f.SuperblockVersion, ErrUnsupported)
	}
	return f, nil
}

func (f *File) checkSizes() error {
	for _, s := range []int{f.offSize, f.lenSize} {
		if s != 2 && s != 4 && s != 8 {
			return fmt.Errorf("hdf5: field size %d is not 2, 4 or 8", s)
		}
	}
	return nil
}

// uint decodes a little-endian unsigned integer of len(b) <= 8 bytes.
func (f *File) uint(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func (f *File) undefined(a uint64) bool {
	return a == (uint64(1)<<(8*uint(f.offSize)))-1 || (f.offSize == 8 && a == ^uint64(0))
}

// readAbs reads n bytes at an absolute file offset, refusing anything
// outside the file.
func (f *File) readAbs(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off > f.size || int64(n) > f.size-off {
		return nil, fmt.Errorf("hdf5: read of %d bytes at %d outside the %d-byte file", n, off, f.size)
	}
	b := make([]byte, n)
	if _, err := f.r.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF) && off+int64(n) == f.size) {
		return nil, fmt.Errorf("hdf5: read at %d: %w", off, err)
	}
	return b, nil
}

// readAddr reads n bytes at a file address (relative to the base).
func (f *File) readAddr(addr uint64, n int64) ([]byte, error) {
	if f.undefined(addr) {
		return nil, errors.New("hdf5: undefined address")
	}
	if addr > uint64(f.size) || n < 0 || n > f.size {
		return nil, fmt.Errorf("hdf5: address %d (+%d) outside the %d-byte file", addr, n, f.size)
	}
	return f.readAbs(f.base+int64(addr), int(n))
}

// RootAttributes returns the attributes of the root group.
func (f *File) RootAttributes() ([]Attribute, error) {
	return f.Attributes(f.rootAddr)
}

// message is one object header message.
type message struct {
	typ   int
	flags byte
	data  []byte
}

const (
	msgDataspace    = 0x01
	msgLinkInfo     = 0x02
	msgDatatype     = 0x03
	msgLink         = 0x06
	msgAttribute    = 0x0C
	msgContinuation = 0x10
	msgSymbolTable  = 0x11
	msgAttrInfo     = 0x15
)

// Attributes returns the attributes stored in the object header at addr.
func (f *File) Attributes(addr uint64) ([]Attribute, error) {
	f.budget = f.lim.MaxTotalValueBytes
	f.heaps = map[uint64]map[uint32][]byte{}
	msgs, err := f.messages(addr)
	if err != nil {
		return nil, err
	}
	var attrs []Attribute
	for _, m := range msgs {
		switch m.typ {
		case msgAttrInfo:
			heap, btree, ok, err := f.attrInfo(m.data)
			if err != nil {
				return attrs, err
			}
			if ok {
				dense, err := f.denseAttributes(heap, btree, f.lim.MaxAttributes-len(attrs))
				attrs = append(attrs, dense...)
				if err != nil {
					return attrs, err
				}
			}
		case msgAttribute:
			if m.flags&0x02 != 0 {
				return attrs, fmt.Errorf("hdf5: shared attribute message: %w", ErrUnsupported)
			}
			if len(attrs) >= f.lim.MaxAttributes {
				return attrs, fmt.Errorf("hdf5: more than %d attributes", f.lim.MaxAttributes)
			}
			a, err := f.attribute(m.data)
			if err != nil {
				return attrs, err
			}
			attrs = append(attrs, a)
		}
	}
	return attrs, nil
}

// attrInfo returns the fractal heap and name-index B-tree addresses of
// dense attribute storage, or ok=false when attributes are all compact.
func (f *File) attrInfo(d []byte) (heap, btree uint64, ok bool, err error) {
	if len(d) < 2 {
		return 0, 0, false, errors.New("hdf5: short attribute info message")
	}
	p := 2
	if d[1]&0x01 != 0 {
		p += 2 // maximum creation index
	}
	if len(d) < p+2*f.offSize {
		return 0, 0, false, errors.New("hdf5: short attribute info message")
	}
	heap = f.uint(d[p : p+f.offSize])
	btree = f.uint(d[p+f.offSize : p+2*f.offSize])
	if f.undefined(heap) {
		return 0, 0, false, nil
	}
	return heap, btree, true, nil
}

// messages reads every message of the object header at addr, following
// continuation blocks.
func (f *File) messages(addr uint64) ([]message, error) {
	sig, err := f.readAddr(addr, 4)
	if err != nil {
		return nil, fmt.Errorf("hdf5: object header: %w", err)
	}
	if string(sig) == "OHDR" {
		return f.messagesV2(addr)
	}
	return f.messagesV1(addr)
}

type block struct {
	addr, length uint64
}

func (f *File) messagesV1(addr uint64) ([]message, error) {
	h, err := f.readAddr(addr, 16)
	if err != nil {
		return nil, fmt.Errorf("hdf5: object header: %w", err)
	}
	if h[0] != 1 {
		return nil, fmt.Errorf("hdf5: object header version %d: %w", h[0], ErrUnsupported)
	}
	nmsgs := int(binary.LittleEndian.Uint16(h[2:]))
	size := uint64(binary.LittleEndian.Uint32(h[8:]))
	var out []message
	var total int64
	queue := []block{{addr + 16, size}}
	for i := 0; i < len(queue); i++ {
		if i > f.lim.MaxContinuations {
			return out, fmt.Errorf("hdf5: more than %d header continuations", f.lim.MaxContinuations)
		}
		blk := queue[i]
		if err := f.beyond(float64(blk.length), blk.addr); err != nil {
			return out, fmt.Errorf("hdf5: object header block of %d bytes at %d: %w", blk.length, blk.addr, err)
		}
		total += int64(blk.length)
		if blk.length > uint64(f.size) || total > f.lim.MaxHeaderBytes {
			return out, fmt.Errorf("hdf5: object header larger than %d bytes", f.lim.MaxHeaderBytes)
		}
		b, err := f.readAddr(blk.addr, int64(blk.length))
		if err != nil {
			return out, fmt.Errorf("hdf5: object header block: %w", err)
		}
		for p := 0; p+8 <= len(b) && len(out) < nmsgs; {
			typ := int(binary.LittleEndian.Uint16(b[p:]))
			n := int(binary.LittleEndian.Uint16(b[p+2:]))
			flags := b[p+4]
			p += 8
			if n > len(b)-p {
				return out, errors.New("hdf5: object header message overruns its block")
			}
			m := message{typ: typ, flags: flags, data: b[p : p+n]}
			p += n
			if out, queue, err = f.addMessage(out, queue, m); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// addMessage records m and, for a continuation message, queues the block it
// points to; v1 and v2 object headers share this.
func (f *File) addMessage(out []message, queue []block, m message) ([]message, []block, error) {
	out = append(out, m)
	if m.typ != msgContinuation {
		return out, queue, nil
	}
	c, err := f.continuation(m.data)
	if err != nil {
		return out, queue, err
	}
	queue, err = f.appendBlock(queue, c)
	return out, queue, err
}

// appendBlock queues a continuation block unless it is already queued: no
// writer links a block twice, and a cycle would re-read the same messages
// up to MaxContinuations times. The queue itself is bounded too, since one
// block can hold thousands of continuation messages.
func (f *File) appendBlock(queue []block, c block) ([]block, error) {
	for _, q := range queue {
		if q.addr == c.addr {
			return queue, nil
		}
	}
	if len(queue) > f.lim.MaxContinuations {
		return queue, fmt.Errorf("hdf5: more than %d header continuations", f.lim.MaxContinuations)
	}
	return append(queue, c), nil
}

// maxMessages bounds the messages of one object header: four-byte empty
// messages would otherwise let a 64 MiB header (MaxHeaderBytes) expand to
// tens of millions of entries. Real headers hold a few dozen.
const maxMessages = 1 << 16

func (f *File) continuation(d []byte) (block, error) {
	if len(d) < f.offSize+f.lenSize {
		return block{}, errors.New("hdf5: short continuation message")
	}
	return block{f.uint(d[:f.offSize]), f.uint(d[f.offSize : f.offSize+f.lenSize])}, nil
}

func (f *File) messagesV2(addr uint64) ([]message, error) {
	h, err := f.readAddr(addr, 6)
	if err != nil {
		return nil, fmt.Errorf("hdf5: object header: %w", err)
	}
	if h[4] != 2 {
		return nil, fmt.Errorf("hdf5: object header v2 version %d: %w", h[4], ErrUnsupported)
	}
	flags := h[5]
	p := uint64(6)
	if flags&0x20 != 0 {
		p += 16 // access, modification, change, birth times
	}
	if flags&0x10 != 0 {
		p += 4 // attribute phase change values
	}
	sizeLen := 1 << (flags & 0x03)
	sb, err := f.readAddr(addr+p, int64(sizeLen))
	if err != nil {
		return nil, fmt.Errorf("hdf5: object header: %w", err)
	}
	chunk0 := f.uint(sb)
	p += uint64(sizeLen)
	creationOrder := flags&0x04 != 0
	var out []message
	var total int64
	queue := []block{{addr + p, chunk0}}
	for i := 0; i < len(queue); i++ {
		if i > f.lim.MaxContinuations {
			return out, fmt.Errorf("hdf5: more than %d header continuations", f.lim.MaxContinuations)
		}
		blk := queue[i]
		if err := f.beyond(float64(blk.length), blk.addr); err != nil {
			return out, fmt.Errorf("hdf5: object header block of %d bytes at %d: %w", blk.length, blk.addr, err)
		}
		total += int64(blk.length)
		if blk.length > uint64(f.size) || total > f.lim.MaxHeaderBytes {
			return out, fmt.Errorf("hdf5: object header larger than %d bytes", f.lim.MaxHeaderBytes)
		}
		b, err := f.readAddr(blk.addr, int64(blk.length))
		if err != nil {
			return out, fmt.Errorf("hdf5: object header block: %w", err)
		}
		if i > 0 {
			// Continuation blocks carry their own signature and checksum.
			if len(b) < 8 || string(b[:4]) != "OCHK" {
				return out, errors.New("hdf5: continuation block without OCHK signature")
			}
			b = b[4 : len(b)-4]
		}
		hdr := 4
		if creationOrder {
			hdr = 6
		}
		for q := 0; q+hdr <= len(b); {
			typ := int(b[q])
			n := int(binary.LittleEndian.Uint16(b[q+1:]))
			mflags := b[q+3]
			q += hdr
			if n > len(b)-q {
				// The remainder is a gap too small for a message.
				break
			}
			m := message{typ: typ, flags: mflags, data: b[q : q+n]}
			q += n
			if len(out) >= maxMessages {
				return out, fmt.Errorf("hdf5: object header with more than %d messages", maxMessages)
			}
			if out, queue, err = f.addMessage(out, queue, m); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// attribute decodes an attribute message (versions 1 to 3).
func (f *File) attribute(d []byte) (Attribute, error) {
	var a Attribute
	if len(d) < 8 {
		return a, errors.New("hdf5: short attribute message")
	}
	ver := d[0]
	nameLen := int(binary.LittleEndian.Uint16(d[2:]))
	dtLen := int(binary.LittleEndian.Uint16(d[4:]))
	dsLen := int(binary.LittleEndian.Uint16(d[6:]))
	p := 8
	pad := func(n int) int { return n }
	switch ver {
	case 1:
		pad = func(n int) int { return (n + 7) &^ 7 }
	case 2:
	case 3:
		p++ // name character set
	default:
		return a, fmt.Errorf("hdf5: attribute message version %d: %w", ver, ErrUnsupported)
	}
	if ver >= 2 && d[1]&0x03 != 0 {
		return a, fmt.Errorf("hdf5: attribute with shared datatype or dataspace: %w", ErrUnsupported)
	}
	take := func(n int) ([]byte, error) {
		if n < 0 || p > len(d) || n > len(d)-p {
			return nil, errors.New("hdf5: attribute message truncated")
		}
		b := d[p : p+n]
		p += pad(n)
		if p > len(d) {
			p = len(d)
		}
		return b, nil
	}
	name, err := take(nameLen)
	if err != nil {
		return a, err
	}
	a.Name = string(bytes.TrimRight(name, "\x00"))
	dt, err := take(dtLen)
	if err != nil {
		return a, err
	}
	ds, err := take(dsLen)
	if err != nil {
		return a, err
	}
	typ, err := parseDatatype(dt, 0)
	if err != nil {
		return a, fmt.Errorf("hdf5: attribute %q: %w", a.Name, err)
	}
	n, err := f.elements(ds)
	if err != nil {
		return a, fmt.Errorf("hdf5: attribute %q: %w", a.Name, err)
	}
	a.Class = typ.class
	data := d[p:]
	switch {
	case typ.class == classString:
		a.IsString = true
		if int64(typ.size)*n > int64(len(data)) {
			return a, fmt.Errorf("hdf5: attribute %q: data truncated", a.Name)
		}
		if int64(typ.size)*n > f.lim.MaxValueBytes {
			return a, fmt.Errorf("hdf5: attribute %q larger than %d bytes", a.Name, f.lim.MaxValueBytes)
		}
		if err := f.spend(int64(typ.size) * n); err != nil {
			return a, err
		}
		for i := int64(0); i < n; i++ {
			s := data[i*int64(typ.size) : (i+1)*int64(typ.size)]
			a.Strings = append(a.Strings, trimFixed(s, typ.pad))
		}
	case typ.class == classVlen && typ.vlenString:
		a.IsString = true
		elem := int64(4 + f.offSize + 4)
		if elem*n > int64(len(data)) {
			return a, fmt.Errorf("hdf5: attribute %q: data truncated", a.Name)
		}
		var total int64
		for i := int64(0); i < n; i++ {
			e := data[i*elem : (i+1)*elem]
			length := int64(binary.LittleEndian.Uint32(e))
			total += length
			if total > f.lim.MaxValueBytes {
				return a, fmt.Errorf("hdf5: attribute %q larger than %d bytes", a.Name, f.lim.MaxValueBytes)
			}
			if err := f.spend(length); err != nil {
				return a, err
			}
			coll := f.uint(e[4 : 4+f.offSize])
			idx := binary.LittleEndian.Uint32(e[4+f.offSize:])
			s, err := f.globalHeapObject(coll, idx, length)
			if err != nil {
				return a, fmt.Errorf("hdf5: attribute %q: %w", a.Name, err)
			}
			a.Strings = append(a.Strings, s)
		}
	}
	return a, nil
}

func trimFixed(s []byte, pad int) string {
	switch pad {
	case 0: // null terminated: stop at the first NUL
		if i := bytes.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
	case 1:
		s = bytes.TrimRight(s, "\x00")
	case 2:
		s = bytes.TrimRight(s, " ")
	}
	return string(s)
}

const (
	classString = 3
	classVlen   = 9
)

type datatype struct {
	class      int
	size       uint32
	pad        int
	vlenString bool
}

// parseDatatype decodes the parts of a datatype message this reader needs.
func parseDatatype(d []byte, depth int) (datatype, error) {
	var t datatype
	if len(d) < 8 {
		return t, errors.New("short datatype message")
	}
	if depth > 4 {
		return t, errors.New("datatype nested too deeply")
	}
	t.class = int(d[0] & 0x0f)
	t.size = binary.LittleEndian.Uint32(d[4:])
	switch t.class {
	case classString:
		t.pad = int(d[1] & 0x0f)
		if t.size == 0 {
			return t, errors.New("zero-length fixed string type")
		}
	case classVlen:
		t.vlenString = d[1]&0x0f == 1
		t.pad = int(d[1] >> 4)
		if t.vlenString {
			// The base type follows; for strings it is a one-byte
			// character type.
			if _, err := parseDatatype(d[8:], depth+1); err != nil {
				return t, fmt.Errorf("variable-length base type: %w", err)
			}
		}
	}
	return t, nil
}

// elements returns the number of elements a dataspace message describes.
func (f *File) elements(d []byte) (int64, error) {
	if len(d) < 4 {
		return 0, errors.New("short dataspace message")
	}
	ver, rank, flags := d[0], int(d[1]), d[2]
	p := 4
	switch ver {
	case 1:
		p = 8
	case 2:
		switch d[3] {
		case 0:
			return 1, nil // scalar
		case 2:
			return 0, nil // null
		}
	default:
		return 0, fmt.Errorf("dataspace version %d: %w", ver, ErrUnsupported)
	}
	_ = flags
	if rank == 0 {
		return 1, nil
	}
	if rank > 32 || len(d) < p+rank*f.lenSize {
		return 0, errors.New("malformed dataspace message")
	}
	// An attribute's data lives in its message: every element takes at
	// least a byte of the file.
	need := 1.0
	for i := 0; i < rank; i++ {
		need *= float64(f.uint(d[p+i*f.lenSize : p+(i+1)*f.lenSize]))
	}
	if limits.Impossible(need, f.size) {
		return 0, fmt.Errorf("dataspace of %.4g elements in a %d-byte file: %w", need, f.size, ErrImpossible)
	}
	n := int64(1)
	for i := 0; i < rank; i++ {
		dim := f.uint(d[p+i*f.lenSize : p+(i+1)*f.lenSize])
		if dim > uint64(f.lim.MaxElements) || n*int64(dim) > f.lim.MaxElements {
			return 0, fmt.Errorf("dataspace has more than %d elements", f.lim.MaxElements)
		}
		n *= int64(dim)
	}
	return n, nil
}

func (f *File) spend(n int64) error {
	f.budget -= n
	if f.budget < 0 {
		return fmt.Errorf("hdf5: attribute values larger than %d bytes in total", f.lim.MaxTotalValueBytes)
	}
	return nil
}

// globalHeapObject returns object idx of the global heap collection at
// addr, which must be at least length bytes long (variable-length strings).
func (f *File) globalHeapObject(addr uint64, idx uint32, length int64) (string, error) {
	if length == 0 {
		return "", nil
	}
	objs, ok := f.heaps[addr]
	if !ok {
		var err error
		objs, err = f.globalHeap(addr)
		if err != nil {
			return "", err
		}
		f.heaps[addr] = objs
	}
	obj, ok := objs[idx]
	if !ok {
		return "", fmt.Errorf("global heap object %d not found", idx)
	}
	if int64(len(obj)) < length {
		return "", errors.New("global heap object shorter than its reference")
	}
	return string(obj[:length]), nil
}

// globalHeap parses one global heap collection into its objects.
func (f *File) globalHeap(addr uint64) (map[uint32][]byte, error) {
	if len(f.heaps) >= 4096 {
		return nil, errors.New("global heap: more than 4096 collections")
	}
	h, err := f.readAddr(addr, int64(8+f.lenSize))
	if err != nil {
		return nil, fmt.Errorf("global heap: %w", err)
	}
	if string(h[:4]) != "GCOL" {
		return nil, errors.New("global heap collection without GCOL signature")
	}
	csize := f.uint(h[8 : 8+f.lenSize])
	if err := f.beyond(float64(csize), addr); err != nil {
		return nil, fmt.Errorf("global heap collection of %d bytes at %d: %w", csize, addr, err)
	}
	if csize > uint64(f.size) || csize > uint64(f.lim.MaxValueBytes)+4096 {
		return nil, fmt.Errorf("global heap collection of %d bytes is too large", csize)
	}
	if err := f.spend(int64(csize)); err != nil {
		return nil, err
	}
	coll, err := f.readAddr(addr, int64(csize))
	if err != nil {
		return nil, fmt.Errorf("global heap: %w", err)
	}
	objs := map[uint32][]byte{}
	for p := 8 + f.lenSize; p+8+f.lenSize <= len(coll); {
		oi := binary.LittleEndian.Uint16(coll[p:])
		osize := f.uint(coll[p+8 : p+8+f.lenSize])
		p += 8 + f.lenSize
		if oi == 0 {
			break // free space: no more objects
		}
		if osize > uint64(len(coll)-p) {
			return nil, errors.New("global heap object overruns its collection")
		}
		objs[uint32(oi)] = coll[p : p+int(osize)]
		p += int((osize + 7) &^ 7)
	}
	return objs, nil
}
