package numpy

import (
	"bytes"
	"os"
	"testing"
)

func TestParseLiteral(t *testing.T) {
	tests := []struct {
		src     string
		ok      bool
		kind    kind
		entries int
	}{
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", true, kDict, 6},
		{`{"descr": "|O", "fortran_order": True, "shape": ()}`, true, kDict, 6},
		{"{'shape': (3L, 4L)}", true, kDict, 2},
		{"(1,)", true, kTuple, 1},
		{"(1)", true, kInt, 0},
		{"[('a', '<i4'), ('b', [('c', '|O')])]", true, kList, 2},
		{"{'descr': __import__('os')}", false, 0, 0},
		{"{'a': 1 'b': 2}", false, 0, 0},
		{"{'a': 1.5}", false, 0, 0},
		{"{'a': 'unterminated}", false, 0, 0},
		{"{'a': 1} trailing", false, 0, 0},
		{"((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))", false, 0, 0},
		{"99999999999999999999999", false, 0, 0},
	}
	for _, tc := range tests {
		v, err := parseLiteral(tc.src)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err %v, want ok=%v", tc.src, err, tc.ok)
			continue
		}
		if tc.ok && (v.kind != tc.kind || len(v.items) != tc.entries) {
			t.Errorf("%q: kind %d with %d items, want %d with %d", tc.src, v.kind, len(v.items), tc.kind, tc.entries)
		}
	}
}

func TestReadHeader(t *testing.T) {
	tests := []struct {
		file     string
		object   bool
		itemSize int64
		count    int64
		wantErr  bool
	}{
		{file: "f32.npy", itemSize: 4, count: 12},
		{file: "i8_fortran.npy", itemSize: 1, count: 6},
		{file: "scalar_f64.npy", itemSize: 8, count: 1},
		{file: "empty.npy", itemSize: 8, count: 0},
		{file: "unicode.npy", itemSize: 12, count: 2},
		{file: "datetime.npy", itemSize: 8, count: 1},
		{file: "structured_nested.npy", itemSize: 4 + 8 + 6 + 5, count: 2},
		{file: "padded_struct.npy", itemSize: 24, count: 2},
		{file: "v2.npy", itemSize: 4, count: 3},
		{file: "v3_utf8.npy", itemSize: 4, count: 1},
		{file: "object_plain.npy", object: true, count: 3},
		{file: "object_in_struct.npy", object: true, count: 1},
		{file: "object_evil_nested.npy", object: true, count: 1},
		{file: "bad_header.npy", wantErr: true},
		{file: "bad_version.npy", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile("testdata/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			h, err := ReadHeader(bytes.NewReader(data), int64(len(data)))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("header accepted: %+v", h)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Descr.Object != tc.object || (!tc.object && h.Descr.ItemSize != tc.itemSize) || h.Count() != tc.count {
				t.Errorf("got object=%v itemsize=%d count=%d, want %v %d %d", h.Descr.Object, h.Descr.ItemSize, h.Count(), tc.object, tc.itemSize, tc.count)
			}
			if h.DataOffset%16 != 0 {
				t.Errorf("data offset %d not aligned as numpy writes it", h.DataOffset)
			}
			if !tc.object && h.DataOffset+h.Count()*h.Descr.ItemSize != int64(len(data)) {
				t.Errorf("header says %d data bytes, file has %d", h.Count()*h.Descr.ItemSize, int64(len(data))-h.DataOffset)
			}
		})
	}
}

func TestTypeStrings(t *testing.T) {
	tests := []struct {
		s      string
		object bool
		size   int64
		ok     bool
	}{
		{"<f8", false, 8, true}, {"|b1", false, 1, true}, {">i2", false, 2, true}, {"<c16", false, 16, true},
		{"|S7", false, 7, true}, {"<U3", false, 12, true}, {"|V16", false, 16, true}, {"<m8[s]", false, 8, true},
		{"i4,f8", false, 12, true}, {"(2,3)i4", false, 24, true}, {"d", false, 8, true},
		{"|O", true, 0, true}, {"O8", true, 0, true}, {"i4,O", true, 0, true}, {"object", true, 0, true},
		{"<x9", false, 0, false}, {"<<f4", false, 0, false}, {"<f4[ns]", false, 0, false}, {"", false, 0, false},
	}
	for _, tc := range tests {
		d, err := parseTypeString(tc.s)
		if (err == nil) != tc.ok || d.Object != tc.object || (tc.ok && !tc.object && d.ItemSize != tc.size) {
			t.Errorf("%q: got %+v, %v; want object=%v size=%d ok=%v", tc.s, d, err, tc.object, tc.size, tc.ok)
		}
	}
}
