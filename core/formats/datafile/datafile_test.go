package datafile

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
)

func record(data ...[]byte) []byte {
	var out []byte
	for _, d := range data {
		n := binary.LittleEndian.AppendUint32(nil, uint32(len(d)))
		out = append(append(append(out, n...), d...), n...)
	}
	return out
}

func TestMatch(t *testing.T) {
	cases := []struct {
		name string
		f    engine.Format
		data []byte
		want bool
	}{
		{"idl plain", IDLSave{}, []byte("SR\x00\x04\x00\x00\x00\x0a"), true},
		{"idl compressed", IDLSave{}, []byte("SR\x00\x06\x00\x00\x00\x0a"), true},
		{"idl text", IDLSave{}, []byte("SR 04 is a part number"), false},
		{"fortran records", FortranRecords{}, record([]byte("abcdefgh"), make([]byte, 24)), true},
		{"fortran bad trailer", FortranRecords{}, append(record([]byte("abcdefgh")), 1), false},
		{"zeros", FortranRecords{}, make([]byte, 4096), false},
		{"empty", FortranRecords{}, nil, false},
		{"pickle", FortranRecords{}, []byte("\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00N."), false},
	}
	for _, tc := range cases {
		in := &engine.Input{Name: "x.dat", R: bytes.NewReader(tc.data), Size: int64(len(tc.data)), Head: tc.data}
		if got := tc.f.Match(in); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// FuzzMatch: the record walk never panics and stays within its bound.
func FuzzMatch(f *testing.F) {
	f.Add(record([]byte("abcdefgh"), make([]byte, 24)))
	f.Add([]byte("SR\x00\x04\x00\x00\x00\x0a"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &engine.Input{Name: "x.dat", R: bytes.NewReader(data), Size: int64(len(data)), Head: data[:min(len(data), engine.HeadSize)]}
		_ = (FortranRecords{}).Match(in)
		_ = (IDLSave{}).Match(in)
	})
}
