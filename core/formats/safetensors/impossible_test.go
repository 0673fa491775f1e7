package safetensors_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/engine/enginetest"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/list"
	"github.com/modelgate/modelgate/core/rules"
)

// TestImpossibleSizes: a header declaring sizes no file of its size could
// hold (limits.Impossible) targets the loader's size arithmetic and is
// reported high as such; a real file cut short keeps the rule's default
// severity and its "truncated" wording.
func TestImpossibleSizes(t *testing.T) {
	real, err := os.ReadFile("testdata/linear.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	hlen := int(binary.LittleEndian.Uint64(real[:8]))
	withLength := func(n uint64) []byte {
		out := append([]byte{}, real...)
		binary.LittleEndian.PutUint64(out, n)
		return out
	}
	f32 := `{"w":{"dtype":"F32","shape":[%s],"data_offsets":[%s]}}`
	sub := func(shape, offs string) string {
		return strings.Replace(strings.Replace(f32, "%s", shape, 1), "%s", offs, 1)
	}
	cases := []struct {
		name       string
		data       []byte
		rule       string
		impossible bool
	}{
		{"header length 2^62 in a small file", withLength(1 << 62), "MG701", true},
		{"tensor of 2^40 x 2^20 floats", stFile(sub("1099511627776,1048576", "0,4611686018427387904"), make([]byte, 8)), "MG702", true},
		{"shape overflowing 64 bits", stFile(sub("4294967296,4294967296,16", "0,8"), make([]byte, 8)), "MG702", true},
		{"data_offsets end at 2^50", stFile(sub("2", "1125899906842616,1125899906842624"), make([]byte, 8)), "MG702", true},
		{"truncated real file: data cut", real[:len(real)-5], "MG702", false},
		{"truncated real file: header cut", real[:8+hlen/2], "MG701", false},
		{"data_offsets a little past the end", stFile(sub("4", "0,16"), make([]byte, 8)), "MG702", false},
	}
	eng := enginetest.New(t, list.Default())
	def := rules.Default()
	for _, tc := range cases {
		res := eng.ScanReaderAt(context.Background(), "x.safetensors", bytes.NewReader(tc.data), int64(len(tc.data)))
		var got *finding.Finding
		for i, f := range res.Findings {
			if f.RuleID == tc.rule && (got == nil || f.Severity > got.Severity) {
				got = &res.Findings[i]
			}
		}
		if got == nil {
			t.Errorf("%s: no %s finding: %+v", tc.name, tc.rule, res.Findings)
			continue
		}
		saysImpossible := strings.Contains(got.Message, "impossible for the file size")
		want := finding.SeverityHigh
		if !tc.impossible {
			r, _ := def.Get(tc.rule)
			want = r.Severity
		}
		if saysImpossible != tc.impossible || got.Severity != want {
			t.Errorf("%s: %s %s %q; want severity %s, impossible %v", tc.name, got.RuleID, got.Severity, got.Message, want, tc.impossible)
		}
	}
}

// stFile is a safetensors file of header (padded to 8 bytes) and data.
func stFile(header string, data []byte) []byte {
	h := []byte(header)
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(out, h...), data...)
}
