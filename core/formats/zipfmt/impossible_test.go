package zipfmt

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/rules"
)

// rawZip writes one member with the given declared sizes around data, as
// archive/zip does (with a ZIP64 extra when a size needs one).
func rawZip(t *testing.T, method uint16, data []byte, uncompressed uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "data.pkl", Method: method,
		CompressedSize64: uint64(len(data)), UncompressedSize64: uncompressed})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withZip64Count rewrites a zip's end record as a ZIP64 one declaring count
// entries (the directory itself is unchanged).
func withZip64Count(t *testing.T, z []byte, count uint64) []byte {
	t.Helper()
	eocd := len(z) - 22
	if binary.LittleEndian.Uint32(z[eocd:]) != 0x06054b50 {
		t.Fatal("no end record")
	}
	cdSize := uint64(binary.LittleEndian.Uint32(z[eocd+12:]))
	cdOff := uint64(binary.LittleEndian.Uint32(z[eocd+16:]))
	out := append([]byte(nil), z[:eocd]...)
	z64 := len(out)
	le := binary.LittleEndian
	out = le.AppendUint32(out, 0x06064b50)
	out = le.AppendUint64(out, 44)
	out = le.AppendUint16(out, 45)
	out = le.AppendUint16(out, 45)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint64(out, count)
	out = le.AppendUint64(out, count)
	out = le.AppendUint64(out, cdSize)
	out = le.AppendUint64(out, cdOff)
	out = le.AppendUint32(out, 0x07064b50)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint64(out, uint64(z64))
	out = le.AppendUint32(out, 1)
	out = le.AppendUint32(out, 0x06054b50)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint16(out, 0xffff)
	out = le.AppendUint16(out, 0xffff)
	out = le.AppendUint32(out, 0xffffffff)
	out = le.AppendUint32(out, 0xffffffff)
	return le.AppendUint16(out, 0)
}

// TestImpossibleSizes: sizes no file of this size could hold are MG209
// high; a real torch checkpoint cut short, ZIP64 archives and deflate or
// bzip2 members within what compression can do are not.
func TestImpossibleSizes(t *testing.T) {
	real, err := os.ReadFile("../../../test/fixtures/benign/torch_checkpoint_dict.pt")
	if err != nil {
		t.Fatal(err)
	}
	deflated := buildZip(t, member{name: "a.txt", data: strings.Repeat("a", 100000), method: zip.Deflate})
	cases := []struct {
		name string
		data []byte
		want bool
	}{
		{"stored member declaring 2^40 bytes", rawZip(t, zip.Store, []byte("EVIL data"), 1<<40), true},
		{"deflated member declaring 2^40 bytes from 9", rawZip(t, zip.Deflate, []byte("\x03\x00"), 1<<40), true},
		{"ZIP64 end record declaring 2^60 entries", withZip64Count(t, deflated, 1<<60), true},
		{"ZIP64 end record with the true count", withZip64Count(t, deflated, 1), false},
		{"deflate at 1000:1, ZIP64 sizes", rawZip(t, zip.Deflate, make([]byte, 5<<20), 5<<30), false},
		{"bzip2 member at 100000:1", rawZip(t, 12, make([]byte, 64<<10), 64<<30), false},
		{"real torch checkpoint", real, false},
		{"real torch checkpoint cut short", real[:len(real)*3/4], false},
		{"real torch checkpoint missing its last member's bytes", append(append([]byte(nil), real[:len(real)/2]...), real[len(real)-600:]...), false},
	}
	for _, tc := range cases {
		res := scanBytes(t, tc.data)
		got := false
		for _, f := range res.Findings {
			if f.RuleID == rules.ImpossibleSize {
				got = true
				if f.Severity != finding.SeverityHigh {
					t.Errorf("%s: %s at %s", tc.name, f.RuleID, f.Severity)
				}
			}
		}
		if got != tc.want {
			t.Errorf("%s: MG209 %v, want %v: %+v", tc.name, got, tc.want, res.Findings)
		}
	}
}
