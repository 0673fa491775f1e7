package safetensors

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func file(header string, data []byte, length int) []byte {
	h := []byte(header)
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	n := uint64(len(h))
	if length >= 0 {
		n = uint64(length)
	}
	out := binary.LittleEndian.AppendUint64(nil, n)
	return append(append(out, h...), data...)
}

func TestParse(t *testing.T) {
	f32x2 := make([]byte, 8)
	cases := []struct {
		name    string
		data    []byte
		want    string // substring of a problem, "" for none
		dataEnd int64  // -2: don't check
	}{
		{"valid", file(`{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32x2, -1), "", -2},
		{"empty", file(`{}`, nil, -1), "", 16},
		{"null metadata", file(`{"__metadata__":null}`, nil, -1), "", -2},
		{"F4 packs two per byte", file(`{"w":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`, []byte{0, 0}, -1), "", -2},
		{"short file", []byte{1, 2}, "shorter than", -2},
		{"huge length", file(`{}`, nil, MaxHeader+1), "exceeds", -2},
		{"length past eof", file(`{}`, nil, 4096), "past the end", -2},
		{"not utf8", file("{\"\xff\":1}", nil, -1), "UTF-8", -2},
		{"not object", file(`[1]`, nil, -1), "start with", -2},
		{"bad json", file(`{"a":}`, nil, -1), "not a valid JSON", -2},
		{"dup key", file(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32x2, -1), "duplicate header key", -2},
		{"dtype", file(`{"w":{"dtype":"O","shape":[2],"data_offsets":[0,8]}}`, f32x2, -1), "unknown dtype", -1},
		{"negative shape", file(`{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, f32x2, -1), "non-negative", -1},
		{"float offset", file(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}}`, f32x2, -1), "non-negative", -1},
		{"extra field", file(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}`, f32x2, -1), "unexpected field", -2},
		{"missing field", file(`{"w":{"dtype":"F32","shape":[2]}}`, f32x2, -1), "missing data_offsets", -1},
		{"metadata value", file(`{"__metadata__":{"a":1}}`, nil, -1), "not a string", -2},
		{"size mismatch", file(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32x2, -1), "needs 12 bytes", -2},
		{"out of range", file(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, f32x2, -1), "run past", -2},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x2, -1), "overlaps", -2},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32x2, -1), "unreferenced", -2},
		{"junk after json", file(`{}x`, nil, -1), "non-whitespace", -2},
		{"shape overflow", file(`{"w":{"dtype":"F64","shape":[9223372036854775807,9223372036854775807],"data_offsets":[0,8]}}`, f32x2, -1), "overflows", -2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := Parse(bytes.NewReader(tc.data), int64(len(tc.data)))
			var msgs []string
			for _, p := range h.Problems {
				msgs = append(msgs, p.Msg)
			}
			all := strings.Join(msgs, "; ")
			if tc.want == "" && len(msgs) > 0 {
				t.Fatalf("unexpected problems: %s", all)
			}
			if tc.want != "" && !strings.Contains(all, tc.want) {
				t.Fatalf("want %q among problems, got %q", tc.want, all)
			}
			if tc.dataEnd != -2 && h.DataEnd != tc.dataEnd {
				t.Fatalf("DataEnd %d, want %d", h.DataEnd, tc.dataEnd)
			}
		})
	}
}

func TestFixturesFromGenerator(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.safetensors")
	if len(files) == 0 {
		t.Skip("no generated seeds")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h := Parse(bytes.NewReader(data), int64(len(data)))
		benign := !strings.Contains("pickle_disguised trailing_pickle trailing_zip overlapping_offsets gap_hides_pickle duplicate_keys header_length_past_eof metadata_not_strings object_dtype shape_mismatch junk_after_header", strings.TrimSuffix(filepath.Base(f), ".safetensors"))
		trailing := h.DataEnd >= 0 && h.DataEnd < int64(len(data))
		if benign && (len(h.Problems) > 0 || trailing) {
			t.Errorf("%s: benign file has problems %+v (trailing %v)", f, h.Problems, trailing)
		}
		if !benign && len(h.Problems) == 0 && !trailing {
			t.Errorf("%s: crafted file passes", f)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.safetensors")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h := Parse(bytes.NewReader(data), int64(len(data)))
		if h.DataEnd > int64(len(data)) {
			t.Fatalf("DataEnd %d beyond %d bytes", h.DataEnd, len(data))
		}
		for _, g := range h.Gaps {
			if g[0] < 0 || g[1] > int64(len(data)) || g[0] > g[1] {
				t.Fatalf("gap %v outside file of %d bytes", g, len(data))
			}
		}
	})
}
