package hdf5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"
)

// TestImpossibleSizes: sizes no file of this size could hold are
// ErrImpossible; a real file cut short is an ordinary error.
func TestImpossibleSizes(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// h5py keeps string attributes in a global heap collection; its
	// declared size follows the GCOL signature and version.
	gcol := func(name string, size uint64) []byte {
		b := read(name)
		i := bytes.Index(b, []byte("GCOL"))
		if i < 0 {
			t.Fatalf("%s: no global heap", name)
		}
		binary.LittleEndian.PutUint64(b[i+8:], size)
		return b
	}
	v3 := read("v3_latest.h5")
	cases := []struct {
		name       string
		data       []byte
		impossible bool
	}{
		{"v0 global heap of 2^60 bytes", gcol("v0_earliest.h5", 1<<60), true},
		{"v3 global heap of 2^60 bytes", gcol("v3_latest.h5", 1<<60), true},
		{"global heap a little past the end", gcol("v3_latest.h5", 8192), false},
		{"real file cut short", v3[:2100], false},
	}
	for _, tc := range cases {
		f, err := Open(bytes.NewReader(tc.data), int64(len(tc.data)), DefaultLimits())
		if err == nil {
			_, err = f.RootAttributes()
		}
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if errors.Is(err, ErrImpossible) != tc.impossible {
			t.Errorf("%s: %v; want impossible %v", tc.name, err, tc.impossible)
		}
	}
}

// TestImpossibleDataspace: an attribute's elements live in its message,
// so a dataspace of 2^50 elements cannot be in a 6 KiB file, while one
// just over MaxElements is only over the limit.
func TestImpossibleDataspace(t *testing.T) {
	f, _ := open(t, "v3_latest.h5")
	ds := func(dims ...uint64) []byte {
		b := []byte{1, byte(len(dims)), 0, 0, 0, 0, 0, 0} // version 1, rank, flags, reserved
		for _, d := range dims {
			b = binary.LittleEndian.AppendUint64(b, d)
		}
		return b
	}
	cases := []struct {
		name       string
		dims       []uint64
		impossible bool
	}{
		{"2^50 elements", []uint64{1 << 25, 1 << 25}, true},
		{"2^64 elements", []uint64{1 << 32, 1 << 32}, true},
		{"over MaxElements only", []uint64{1<<20 + 1}, false},
	}
	for _, tc := range cases {
		_, err := f.elements(ds(tc.dims...))
		if err == nil || errors.Is(err, ErrImpossible) != tc.impossible {
			t.Errorf("%s: %v; want an error, impossible %v", tc.name, err, tc.impossible)
		}
	}
}
