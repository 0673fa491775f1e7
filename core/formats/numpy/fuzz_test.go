package numpy

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadHeader feeds arbitrary bytes to the header parser: it must
// return a header or an error, never panic or loop.
func FuzzReadHeader(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.npy")
	for _, p := range files {
		d, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHeader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if h.DataOffset > int64(len(data)) || h.Count() < 0 || h.Descr.ItemSize < 0 {
			t.Fatalf("inconsistent header %+v for %d bytes", h, len(data))
		}
	})
}

// FuzzLiteral checks the Python literal parser on its own.
func FuzzLiteral(f *testing.F) {
	for _, s := range []string{
		"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }",
		"{'descr': [('a', '<i4'), ('b', [('c', '|O')], (2,))], 'fortran_order': True, 'shape': ()}",
		`{"x": u'\x41\n', 'y': -3L, 'z': None}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseLiteral(s)
	})
}
