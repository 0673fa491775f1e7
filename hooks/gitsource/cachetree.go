package gitsource

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// cacheTree is git's "cached tree" index extension: for each directory the
// tree object the index would write for it, unless an update since the
// last commit invalidated it. A directory whose cached tree equals HEAD's
// holds no staged change, so the HEAD comparison can skip it entirely;
// that is what keeps a hook in a large repository fast. go-git drops
// invalidated nodes while decoding, which loses the shape of the tree, so
// the index is read here from its raw bytes.
type cacheTree struct {
	name     string
	valid    bool
	hash     plumbing.Hash
	children []*cacheTree
}

// indexEntry is what the scan needs of one index entry.
type indexEntry struct {
	name        string
	mode        filemode.FileMode
	hash        plumbing.Hash
	stage       int
	intentToAdd bool
}

var errIndexFormat = errors.New("unsupported or corrupt index")

// parseIndex reads the entries and the cached-tree extension (nil when
// absent or unusable) of an index file, versions 2 to 4 with SHA-1 names.
// It replaces go-git's decoder on the hook's hot path: that one reads each
// field by reflection and verifies the checksum with collision detection,
// which costs about 2 ms per thousand entries.
func parseIndex(raw []byte) ([]indexEntry, *cacheTree, error) {
	const hashLen = 20
	if len(raw) < 12+hashLen || !bytes.Equal(raw[:4], []byte("DIRC")) {
		return nil, nil, errIndexFormat
	}
	version := binary.BigEndian.Uint32(raw[4:8])
	count := int(binary.BigEndian.Uint32(raw[8:12]))
	if version < 2 || version > 4 || count > len(raw)/16 {
		return nil, nil, errIndexFormat
	}
	end := len(raw) - hashLen
	off := 12
	entries := make([]indexEntry, 0, count)
	prev := ""
	// Version 4 prefix compression lets every entry repeat the previous
	// name for a byte or two of input, so names could total the square of
	// the index size. Real names stay below a few times the index size.
	maxNames := 16*len(raw) + 1<<20
	names := 0
	for range count {
		start := off
		if off+62 > end {
			return nil, nil, errIndexFormat
		}
		var e indexEntry
		e.mode = filemode.FileMode(binary.BigEndian.Uint32(raw[off+24:]))
		copy(e.hash[:], raw[off+40:off+60])
		flags := binary.BigEndian.Uint16(raw[off+60:])
		e.stage = int(flags>>12) & 3
		off += 62
		if flags&0x4000 != 0 && version >= 3 {
			if off+2 > end {
				return nil, nil, errIndexFormat
			}
			e.intentToAdd = binary.BigEndian.Uint16(raw[off:])&(1<<13) != 0
			off += 2
		}
		if version == 4 {
			// The name is the previous one minus a varint-counted suffix,
			// plus a NUL-terminated string; no padding.
			strip, n := varint(raw[off:end])
			if n == 0 || strip > uint64(len(prev)) {
				return nil, nil, errIndexFormat
			}
			off += n
			i := bytes.IndexByte(raw[off:end], 0)
			if i < 0 {
				return nil, nil, errIndexFormat
			}
			e.name = prev[:len(prev)-int(strip)] + string(raw[off:off+i])
			off += i + 1
		} else {
			nameLen := int(flags & 0xfff)
			i := bytes.IndexByte(raw[off:end], 0)
			if i < 0 || (nameLen < 0xfff && i != nameLen) {
				return nil, nil, errIndexFormat
			}
			e.name = string(raw[off : off+i])
			off += i
			// NUL padding to a multiple of 8 bytes, at least one.
			off = start + ((off-start)/8+1)*8
			if off > end {
				return nil, nil, errIndexFormat
			}
		}
		if names += len(e.name); names > maxNames {
			return nil, nil, errIndexFormat
		}
		prev = e.name
		entries = append(entries, e)
	}
	for off+8 <= end {
		sig := string(raw[off : off+4])
		size := int(binary.BigEndian.Uint32(raw[off+4:]))
		off += 8
		if size < 0 || size > end-off {
			return nil, nil, errIndexFormat
		}
		switch {
		case sig == "TREE":
			p := &treeParser{data: raw[off : off+size]}
			if root, err := p.node(0); err == nil && root.name == "" {
				return entries, root, nil
			}
			return entries, nil, nil
		case sig[0] < 'A' || sig[0] > 'Z':
			// A mandatory extension (split index "link", sparse "sdir"):
			// the entries above are not the whole index.
			return nil, nil, fmt.Errorf("%w: index extension %q (split or sparse indexes are not supported: git config core.splitIndex false; git sparse-checkout set --no-sparse-index)", errIndexFormat, sig)
		}
		off += size
	}
	return entries, nil, nil
}

// varint decodes git's offset varint (each continuation adds one before
// shifting); n is 0 on malformed input.
func varint(b []byte) (v uint64, n int) {
	for i, c := range b {
		if i > 9 {
			return 0, 0
		}
		if i > 0 {
			v++
		}
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

type treeParser struct {
	data []byte
	off  int
}

// node parses one directory and, recursively, its subtrees (pre-order).
func (p *treeParser) node(depth int) (*cacheTree, error) {
	if depth > 4096 {
		return nil, errIndexFormat
	}
	name, ok := p.until(0)
	if !ok {
		return nil, errIndexFormat
	}
	entries, ok := p.until(' ')
	if !ok {
		return nil, errIndexFormat
	}
	trees, ok := p.until('\n')
	if !ok {
		return nil, errIndexFormat
	}
	n, err1 := strconv.Atoi(entries)
	sub, err2 := strconv.Atoi(trees)
	if err1 != nil || err2 != nil || sub < 0 || sub > len(p.data) {
		return nil, errIndexFormat
	}
	t := &cacheTree{name: name, valid: n >= 0}
	if t.valid {
		if p.off+20 > len(p.data) {
			return nil, errIndexFormat
		}
		copy(t.hash[:], p.data[p.off:p.off+20])
		p.off += 20
	}
	for range sub {
		c, err := p.node(depth + 1)
		if err != nil {
			return nil, err
		}
		t.children = append(t.children, c)
	}
	return t, nil
}

func (p *treeParser) until(delim byte) (string, bool) {
	i := bytes.IndexByte(p.data[p.off:], delim)
	if i < 0 {
		return "", false
	}
	s := string(p.data[p.off : p.off+i])
	p.off += i + 1
	return s, true
}
