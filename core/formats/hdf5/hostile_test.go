package hdf5

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"
)

// allocated returns the bytes fn allocated in total.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func testFile(b []byte) *File {
	return &File{r: bytes.NewReader(b), size: int64(len(b)), lim: DefaultLimits(), offSize: 8, lenSize: 8,
		budget: DefaultLimits().MaxTotalValueBytes}
}

// cyclicHeader is a version 2 object header whose continuation block is
// full of empty messages and links back to itself.
func cyclicHeader() []byte {
	const blockAt, blockLen = 64, 64 << 10
	b := make([]byte, blockAt+blockLen)
	copy(b, "OHDR")
	b[4], b[5], b[6] = 2, 0, 20 // version, flags (1-byte chunk size), chunk size
	cont := func(at int) {
		b[at] = msgContinuation
		binary.LittleEndian.PutUint16(b[at+1:], 16)
		binary.LittleEndian.PutUint64(b[at+4:], blockAt)
		binary.LittleEndian.PutUint64(b[at+12:], blockLen)
	}
	cont(7)
	copy(b[blockAt:], "OCHK")
	cont(blockAt + 4) // the rest of the block: 4-byte NIL messages
	return b
}

// cyclicBTree is a v2 B-tree of depth 2 whose internal nodes point every
// child at one node: 273 reads of a nearly 1 MiB node from a 3 MiB file.
func cyclicBTree() []byte {
	const nodeSize, recSize, nrec = 1 << 20, 65535, 15
	const hdrAt, rootAt, midAt, leafAt = 0, 4096, 4096 + nodeSize, 4096 + 2*nodeSize
	b := make([]byte, leafAt+nodeSize)
	copy(b[hdrAt:], "BTHD")
	binary.LittleEndian.PutUint32(b[hdrAt+6:], nodeSize)
	binary.LittleEndian.PutUint16(b[hdrAt+10:], recSize)
	binary.LittleEndian.PutUint16(b[hdrAt+12:], 2)
	binary.LittleEndian.PutUint64(b[hdrAt+16:], rootAt)
	binary.LittleEndian.PutUint16(b[hdrAt+24:], nrec)
	// Child pointers: address, then a 1-byte record count (leafMax is
	// 16), padded to the pointer width of the level (11 at depth 2, 9 at 1).
	internal := func(at int, ptr int, child uint64) {
		copy(b[at:], "BTIN")
		base := at + 6 + nrec*recSize
		for i := 0; i <= nrec; i++ {
			p := base + i*ptr
			binary.LittleEndian.PutUint64(b[p:], child)
			b[p+8] = nrec
		}
	}
	internal(rootAt, 11, midAt)
	internal(midAt, 9, leafAt)
	copy(b[leafAt:], "BTLF")
	return b
}

// TestHostileStructures: offset chains that loop back give an error or a
// bounded result, never memory proportional to the loop count.
func TestHostileStructures(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		run  func(f *File) error
	}{
		{"continuation block linking to itself", cyclicHeader(), func(f *File) error {
			_, err := f.messages(0)
			return err
		}},
		{"B-tree children all pointing at one node", cyclicBTree(), func(f *File) error {
			_, err := f.btreeRecords(0, f.lim.MaxAttributes)
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := testFile(tc.data)
			var err error
			n := allocated(func() { err = tc.run(f) })
			t.Logf("err=%v, allocated %d KiB", err, n>>10)
			if limit := uint64(len(tc.data))*4 + 64<<20; n > limit {
				t.Errorf("allocated %d MiB from a %d KiB input", n>>20, len(tc.data)>>10)
			}
		})
	}
}
