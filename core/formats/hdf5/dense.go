package hdf5

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// Dense attribute storage (HDF5 1.8+ "latest" format, used when an object
// has many or large attributes): the attribute messages live in a fractal
// heap and a version 2 B-tree indexes them by name. This reader walks the
// B-tree's records and fetches each message from the heap's managed
// blocks. Filtered (compressed) heaps, huge objects and heaps deeper than
// one indirect block are reported as ErrUnsupported.

// encSize is H5VM_limit_enc_size: bytes needed to encode n.
func encSize(n uint64) int {
	return (bits.Len64(n)-1)/8 + 1
}

type fractalHeap struct {
	addr          uint64
	idLen         int
	offBytes      int
	lenBytes      int
	width         int
	startBlock    uint64
	maxDirect     uint64
	root          uint64
	rows          int
	maxDirectRows int
}

func (f *File) openFractalHeap(addr uint64) (*fractalHeap, error) {
	o, l := f.offSize, f.lenSize
	// Fixed part up to and including "current # of rows in root indirect
	// block"; the filtered-root fields and checksum follow.
	n := 4 + 1 + 2 + 2 + 1 + 4 + l + o + l + o + l + l + l + l + l + l + l + l + 2 + l + l + 2 + 2 + o + 2
	b, err := f.readAddr(addr, int64(n))
	if err != nil {
		return nil, fmt.Errorf("fractal heap: %w", err)
	}
	if string(b[:4]) != "FRHP" {
		return nil, errors.New("fractal heap without FRHP signature")
	}
	h := &fractalHeap{addr: addr}
	p := 5
	h.idLen = int(binary.LittleEndian.Uint16(b[p:]))
	filterLen := binary.LittleEndian.Uint16(b[p+2:])
	p += 4 + 1 // id length, filter length, flags
	maxManaged := uint64(binary.LittleEndian.Uint32(b[p:]))
	p += 4
	if filterLen != 0 {
		return nil, fmt.Errorf("fractal heap with I/O filters: %w", ErrUnsupported)
	}
	p += l + o + l + o + l + l + l + l + l + l + l + l // counters and free-space info
	h.width = int(binary.LittleEndian.Uint16(b[p:]))
	p += 2
	h.startBlock = f.uint(b[p : p+l])
	p += l
	h.maxDirect = f.uint(b[p : p+l])
	p += l
	maxHeapBits := int(binary.LittleEndian.Uint16(b[p:]))
	p += 2 + 2 // max heap size, starting rows
	h.root = f.uint(b[p : p+o])
	p += o
	h.rows = int(binary.LittleEndian.Uint16(b[p:]))
	if h.width == 0 || h.width > 1024 || h.startBlock == 0 || h.maxDirect < h.startBlock ||
		h.startBlock&(h.startBlock-1) != 0 || h.maxDirect&(h.maxDirect-1) != 0 || maxHeapBits == 0 || maxHeapBits > 64 ||
		h.idLen < 2 || h.idLen > 64 {
		return nil, errors.New("fractal heap header out of range")
	}
	if h.rows == 0 {
		// The root is one direct block of startBlock bytes.
		if err := f.beyond(float64(h.startBlock), h.root); err != nil {
			return nil, fmt.Errorf("fractal heap root block of %d bytes at %d: %w", h.startBlock, h.root, err)
		}
	}
	h.offBytes = (maxHeapBits + 7) / 8
	h.lenBytes = encSize(min(h.maxDirect, maxManaged))
	h.maxDirectRows = bits.Len64(h.maxDirect) - bits.Len64(h.startBlock) + 2
	return h, nil
}

func (h *fractalHeap) rowBlockSize(r int) uint64 {
	if r == 0 {
		return h.startBlock
	}
	return h.startBlock << uint(r-1)
}

// object returns the bytes a heap ID refers to.
func (f *File) heapObject(h *fractalHeap, id []byte) ([]byte, error) {
	if len(id) < 1 {
		return nil, errors.New("empty heap ID")
	}
	switch (id[0] >> 4) & 0x03 {
	case 0: // managed
		if len(id) < 1+h.offBytes+h.lenBytes {
			return nil, errors.New("short managed heap ID")
		}
		off := f.uint(id[1 : 1+h.offBytes])
		n := f.uint(id[1+h.offBytes : 1+h.offBytes+h.lenBytes])
		return f.managedObject(h, off, n)
	case 2: // tiny: stored in the ID itself
		if h.idLen <= 18 {
			n := int(id[0]&0x0f) + 1
			if 1+n > len(id) {
				return nil, errors.New("tiny heap object overruns its ID")
			}
			return id[1 : 1+n], nil
		}
		if len(id) < 2 {
			return nil, errors.New("short tiny heap ID")
		}
		n := (int(id[0]&0x0f)<<8 | int(id[1])) + 1
		if 2+n > len(id) {
			return nil, errors.New("tiny heap object overruns its ID")
		}
		return id[2 : 2+n], nil
	}
	return nil, fmt.Errorf("huge fractal heap object: %w", ErrUnsupported)
}

func (f *File) managedObject(h *fractalHeap, off, n uint64) ([]byte, error) {
	if err := f.beyond(float64(n), 0); err != nil {
		return nil, fmt.Errorf("heap object of %d bytes: %w", n, err)
	}
	if n == 0 || n > uint64(f.lim.MaxValueBytes) {
		return nil, fmt.Errorf("heap object of %d bytes", n)
	}
	block, blockOff, size := h.root, uint64(0), h.startBlock
	if h.rows != 0 {
		// Root indirect block: find the direct block whose range holds off.
		var err error
		block, blockOff, size, err = f.findDirect(h, off)
		if err != nil {
			return nil, err
		}
	}
	if off < blockOff || off-blockOff > size || n > size-(off-blockOff) {
		return nil, errors.New("heap object outside its direct block")
	}
	// Every B-tree record may name the same large object; each read costs
	// a copy, so they share the object's value budget.
	if err := f.spend(int64(n)); err != nil {
		return nil, err
	}
	return f.readAddr(block+(off-blockOff), int64(n))
}

func (f *File) findDirect(h *fractalHeap, off uint64) (addr, blockOff, size uint64, err error) {
	if h.rows > h.maxDirectRows || h.rows > 64 {
		return 0, 0, 0, fmt.Errorf("fractal heap with nested indirect blocks: %w", ErrUnsupported)
	}
	entries := h.rows * h.width
	hdr := 4 + 1 + f.offSize + h.offBytes
	b, err := f.readAddr(h.root, int64(hdr+entries*f.offSize))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("fractal heap indirect block: %w", err)
	}
	if string(b[:4]) != "FHIB" {
		return 0, 0, 0, errors.New("indirect block without FHIB signature")
	}
	start := uint64(0)
	for r := 0; r < h.rows; r++ {
		bs := h.rowBlockSize(r)
		span := bs * uint64(h.width)
		if off < start+span {
			col := int((off - start) / bs)
			i := hdr + (r*h.width+col)*f.offSize
			return f.uint(b[i : i+f.offSize]), start + uint64(col)*bs, bs, nil
		}
		start += span
	}
	return 0, 0, 0, errors.New("heap offset beyond the root indirect block")
}

// btreeRecords returns the records of a version 2 B-tree.
func (f *File) btreeRecords(addr uint64, limit int) ([][]byte, error) {
	o, l := f.offSize, f.lenSize
	b, err := f.readAddr(addr, int64(4+1+1+4+2+2+1+1+o+2+l))
	if err != nil {
		return nil, fmt.Errorf("v2 B-tree: %w", err)
	}
	if string(b[:4]) != "BTHD" {
		return nil, errors.New("v2 B-tree without BTHD signature")
	}
	nodeSize := uint64(binary.LittleEndian.Uint32(b[6:]))
	recSize := int(binary.LittleEndian.Uint16(b[10:]))
	depth := int(binary.LittleEndian.Uint16(b[12:]))
	root := f.uint(b[16 : 16+o])
	rootRecs := int(binary.LittleEndian.Uint16(b[16+o:]))
	if recSize == 0 || nodeSize < 10+uint64(recSize) || nodeSize > 1<<20 || depth > 16 {
		return nil, errors.New("v2 B-tree header out of range")
	}
	// Field widths of internal-node child pointers, as libhdf5 derives them
	// from the node and record sizes.
	leafMax := (nodeSize - 10) / uint64(recSize)
	maxNrecSize := encSize(leafMax)
	cum := []uint64{leafMax}
	cumSize := []int{0}
	for u := 1; u <= depth; u++ {
		ptr := uint64(o + maxNrecSize)
		if u > 1 {
			ptr += uint64(cumSize[u-1])
		}
		if nodeSize < 10+ptr {
			return nil, errors.New("v2 B-tree node too small")
		}
		m := (nodeSize - (10 + ptr)) / (uint64(recSize) + ptr)
		c := (m+1)*cum[u-1] + m
		cum = append(cum, c)
		cumSize = append(cumSize, encSize(c))
	}
	var out [][]byte
	nodes := 0
	// Records keep their node's bytes alive, and child pointers may lead
	// back to the same node, so the bytes read are bounded as a header's are.
	var read int64
	var walk func(addr uint64, nrec, d int) error
	walk = func(addr uint64, nrec, d int) error {
		nodes++
		if nodes > 100000 {
			return errors.New("v2 B-tree has too many nodes")
		}
		if len(out)+nrec > limit {
			return fmt.Errorf("more than %d attributes", f.lim.MaxAttributes)
		}
		ptr := 0
		if d > 0 {
			ptr = o + maxNrecSize
			if d > 1 {
				ptr += cumSize[d-1]
			}
		}
		n := 6 + nrec*recSize + (nrec+1)*ptr
		if d == 0 {
			n = 6 + nrec*recSize
		}
		if uint64(n) > nodeSize {
			return errors.New("v2 B-tree node overflows its size")
		}
		if read += int64(n); read > f.lim.MaxHeaderBytes {
			return fmt.Errorf("v2 B-tree nodes larger than %d bytes in total", f.lim.MaxHeaderBytes)
		}
		nb, err := f.readAddr(addr, int64(n))
		if err != nil {
			return fmt.Errorf("v2 B-tree node: %w", err)
		}
		sig := "BTLF"
		if d > 0 {
			sig = "BTIN"
		}
		if string(nb[:4]) != sig {
			return fmt.Errorf("v2 B-tree node without %s signature", sig)
		}
		for i := 0; i < nrec; i++ {
			out = append(out, nb[6+i*recSize:6+(i+1)*recSize])
		}
		if d == 0 {
			return nil
		}
		base := 6 + nrec*recSize
		for i := 0; i <= nrec; i++ {
			p := base + i*ptr
			child := f.uint(nb[p : p+o])
			cn := f.uint(nb[p+o : p+o+maxNrecSize])
			if cn > leafMax+cum[d-1] {
				return errors.New("v2 B-tree child record count out of range")
			}
			if err := walk(child, int(cn), d-1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root, rootRecs, depth); err != nil {
		return out, err
	}
	return out, nil
}

// denseAttributes reads attributes from dense storage.
func (f *File) denseAttributes(heapAddr, btreeAddr uint64, limit int) ([]Attribute, error) {
	h, err := f.openFractalHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	recs, err := f.btreeRecords(btreeAddr, limit)
	if err != nil {
		return nil, err
	}
	var attrs []Attribute
	for _, r := range recs {
		// Name-index records: heap ID, message flags, creation order, hash.
		if len(r) < h.idLen+1 {
			return attrs, errors.New("attribute index record shorter than a heap ID")
		}
		if r[h.idLen]&0x02 != 0 {
			return attrs, fmt.Errorf("shared attribute message in dense storage: %w", ErrUnsupported)
		}
		msg, err := f.heapObject(h, r[:h.idLen])
		if err != nil {
			return attrs, fmt.Errorf("hdf5: dense attribute: %w", err)
		}
		a, err := f.attribute(msg)
		if err != nil {
			return attrs, err
		}
		attrs = append(attrs, a)
	}
	return attrs, nil
}
