package zipfmt

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/limits"
)

// evilFormat stands in for the pickle scanner: content starting with
// "EVIL" is reported, and its input context is recorded in the evidence.
type evilFormat struct{}

func (evilFormat) Name() string { return "evil" }
func (evilFormat) Match(in *engine.Input) bool {
	return bytes.HasPrefix(in.Head, []byte("EVIL"))
}
func (evilFormat) Scan(_ context.Context, in *engine.Input, env *engine.Env) error {
	env.Report(finding.Finding{RuleID: "MG101", Offset: 0, Message: "evil", Evidence: "context=" + in.Context})
	return nil
}

func scanBytes(t testing.TB, data []byte) finding.FileResult {
	t.Helper()
	eng, err := engine.New(engine.Options{Formats: []engine.Format{PyTorchZip{}, Zip{}, evilFormat{}}, Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	return eng.ScanReaderAt(context.Background(), "x.zip", bytes.NewReader(data), int64(len(data)))
}

type member struct {
	name   string
	data   string
	method uint16
	mode   os.FileMode
}

func buildZip(t testing.TB, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		h := &zip.FileHeader{Name: m.name, Method: m.method}
		if m.mode != 0 {
			h.SetMode(m.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// offsets returns the offsets of every occurrence of a 4-byte signature.
func offsets(data []byte, sig uint32) []int {
	var s [4]byte
	binary.LittleEndian.PutUint32(s[:], sig)
	var out []int
	for i := 0; ; {
		j := bytes.Index(data[i:], s[:])
		if j < 0 {
			return out
		}
		out = append(out, i+j)
		i += j + 1
	}
}

func put16(b []byte, off int, v uint16) { binary.LittleEndian.PutUint16(b[off:], v) }

// ids lists "rule member" for findings and "rule member" for unscanned.
func ids(res finding.FileResult) (fs, us []string) {
	for _, f := range res.Findings {
		fs = append(fs, f.RuleID+" "+f.Member)
	}
	for _, u := range res.Unscanned {
		us = append(us, u.RuleID+" "+u.Member)
	}
	slices.Sort(fs)
	slices.Sort(us)
	return fs, us
}

func TestZipScan(t *testing.T) {
	evil := "EVIL payload"
	tests := []struct {
		name      string
		build     func(t *testing.T) []byte
		findings  []string
		unscanned []string
		format    string
	}{
		{
			name: "stored",
			build: func(t *testing.T) []byte {
				return buildZip(t, member{name: "a/readme.txt", data: "hello"}, member{name: "a/x.bin", data: evil})
			},
			findings: []string{"MG101 a/x.bin"},
			format:   "zip",
		},
		{
			name: "deflate",
			build: func(t *testing.T) []byte {
				return buildZip(t, member{name: "x.bin", data: evil + strings.Repeat("a", 1000), method: zip.Deflate})
			},
			findings: []string{"MG101 x.bin"},
		},
		{
			name: "bad CRC in central directory and local header",
			build: func(t *testing.T) []byte {
				b := buildZip(t, member{name: "x.bin", data: evil})
				for _, o := range offsets(b, sigCentral) {
					b[o+16] ^= 0xff
				}
				for _, o := range offsets(b, sigLocal) {
					b[o+14] ^= 0xff
				}
				return b
			},
			findings: []string{"MG101 x.bin", "MG201 x.bin"},
		},
		{
			name: "bad CRC on deflated member",
			build: func(t *testing.T) []byte {
				b := buildZip(t, member{name: "x.bin", data: evil, method: zip.Deflate})
				b[offsets(b, sigCentral)[0]+16] ^= 0xff
				return b
			},
			findings: []string{"MG101 x.bin", "MG201 x.bin"},
		},
		{
			name: "encrypted flag only in local header",
			build: func(t *testing.T) []byte {
				b := buildZip(t, member{name: "x.bin", data: evil})
				b[offsets(b, sigLocal)[0]+6] |= 0x41
				return b
			},
			findings: []string{"MG101 x.bin", "MG201 x.bin"},
		},
		{
			name: "encrypted flag in both headers on plain deflate",
			build: func(t *testing.T) []byte {
				b := buildZip(t, member{name: "x.bin", data: evil, method: zip.Deflate})
				b[offsets(b, sigLocal)[0]+6] |= 1
				b[offsets(b, sigCentral)[0]+8] |= 1
				return b
			},
			findings: []string{"MG101 x.bin", "MG201 x.bin"},
		},
		{
			name: "unusual flag bit",
			build: func(t *testing.T) []byte {
				b := buildZip(t, member{name: "x.bin", data: evil})
				b[offsets(b, sigCentral)[0]+8] |= 0x20
				return b
			},
			findings: []string{"MG101 x.bin", "MG201 x.bin"},
		},
		{
			name: "really encrypted deflate",
			build: func(t *testing.T) []byte {
				rnd := make([]byte, 200)
				rand.New(rand.NewSource(1)).Read(rnd)
				b := buildZip(t, member{name: "x.bin", data: string(rnd)})
				// Turn the stored member into a "deflated, encrypted" one
				// whose data is random bytes.
				for _, o := range offsets(b, sigLocal) {
					b[o+6] |= 1
					put16(b, o+8, 8)
				}
				for _, o := range offsets(b, sigCentral) {
					b[o+8] |= 1
					put16(b, o+10, 8)
				}
				return b
			},
			unscanned: []string{"MG903 x.bin"},
		},
		{
			name: "really encrypted stored (ZipCrypto header)",
			build: func(t *testing.T) []byte {
				rnd := make([]byte, 212)
				rand.New(rand.NewSource(2)).Read(rnd)
				b := buildZip(t, member{name: "x.bin", data: string(rnd)})
				for _, o := range offsets(b, sigLocal) {
					b[o+6] |= 1
					binary.LittleEndian.PutUint32(b[o+22:], 200)
				}
				for _, o := range offsets(b, sigCentral) {
					b[o+8] |= 1
					binary.LittleEndian.PutUint32(b[o+24:], 200)
				}
				return b
			},
			unscanned: []string{"MG903 x.bin"},
		},
		{
			name: "local name differs",
			build: func(t *testing.T) []byte {
				b := buildZip(t, member{name: "archive/data.pkl", data: evil})
				o := offsets(b, sigLocal)[0]
				copy(b[o+30:], "archive/other.pk")
				return b
			},
			findings: []string{"MG101 archive/data.pkl", "MG206 archive/data.pkl"},
			format:   "pytorch-zip",
		},
		{
			name: "duplicate names",
			build: func(t *testing.T) []byte {
				return buildZip(t, member{name: "archive/data.pkl", data: "benign"}, member{name: "archive/data.pkl", data: evil})
			},
			findings: []string{"MG101 archive/data.pkl#2", "MG205 archive/data.pkl#2"},
			format:   "pytorch-zip",
		},
		{
			name: "prepended data",
			build: func(t *testing.T) []byte {
				return append([]byte(evil+" stub\x00\x01"), buildZip(t, member{name: "y.bin", data: evil})...)
			},
			findings: []string{"MG101 <prepended>", "MG101 y.bin", "MG204 "},
		},
		{
			name: "prepended data before an empty archive",
			build: func(t *testing.T) []byte {
				return append([]byte(evil), buildZip(t)...)
			},
			findings: []string{"MG101 <prepended>", "MG204 "},
		},
		{
			name: "path traversal",
			build: func(t *testing.T) []byte {
				return buildZip(t, member{name: "../../evil.txt", data: "x"}, member{name: "/etc/x", data: "x"}, member{name: `C:\x`, data: "x"})
			},
			findings: []string{"MG202 ../../evil.txt", "MG202 /etc/x", `MG202 C:\x`},
		},
		{
			name: "symlink",
			build: func(t *testing.T) []byte {
				return buildZip(t, member{name: "link", data: "/etc/passwd", mode: os.ModeSymlink | 0o777})
			},
			findings: []string{"MG202 link"},
		},
		{
			name: "unknown method",
			build: func(t *testing.T) []byte {
				b := buildZip(t, member{name: "x.bin", data: evil})
				put16(b, offsets(b, sigCentral)[0]+10, 77)
				return b
			},
			unscanned: []string{"MG901 x.bin"},
		},
		{
			name: "truncated deflate stream",
			build: func(t *testing.T) []byte {
				rnd := make([]byte, 100000)
				rand.New(rand.NewSource(3)).Read(rnd)
				b := buildZip(t, member{name: "x.bin", data: evil + string(rnd), method: zip.Deflate})
				// Shrink the recorded compressed size so inflate runs out.
				o := offsets(b, sigCentral)[0]
				binary.LittleEndian.PutUint32(b[o+20:], 5000)
				return b
			},
			findings:  []string{"MG101 x.bin"},
			unscanned: []string{"MG905 x.bin"},
		},
		{
			name: "no central directory",
			build: func(t *testing.T) []byte {
				b := buildZip(t, member{name: "a.txt", data: "hello"}, member{name: "x.bin", data: evil, method: zip.Deflate})
				return b[:offsets(b, sigCentral)[0]]
			},
			findings:  []string{"MG101 x.bin"},
			unscanned: []string{"MG905 "},
		},
		{
			name: "torch storages get the tensor context",
			build: func(t *testing.T) []byte {
				return buildZip(t, member{name: "archive/data.pkl", data: "stands in for a pickle"}, member{name: "archive/data/0", data: evil}, member{name: "archive/version", data: "3\n"})
			},
			findings: []string{"MG101 archive/data/0"},
			format:   "pytorch-zip",
		},
		{
			name: "decompression bomb",
			build: func(t *testing.T) []byte {
				return buildZip(t, member{name: "x.bin", data: evil + strings.Repeat("\x00", limits.RatioFloorBytes+1000), method: zip.Deflate})
			},
			findings: []string{"MG101 x.bin", "MG203 x.bin"},
		},
		{
			name: "nested zip",
			build: func(t *testing.T) []byte {
				inner := buildZip(t, member{name: "x.bin", data: evil})
				return buildZip(t, member{name: "inner.zip", data: string(inner), method: zip.Deflate})
			},
			findings: []string{"MG101 inner.zip!x.bin"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := scanBytes(t, tc.build(t))
			fs, us := ids(res)
			want := slices.Clone(tc.findings)
			slices.Sort(want)
			wantU := slices.Clone(tc.unscanned)
			slices.Sort(wantU)
			if !slices.Equal(fs, want) {
				t.Errorf("findings = %q, want %q\n%+v", fs, want, res.Findings)
			}
			if !slices.Equal(us, wantU) {
				t.Errorf("unscanned = %q, want %q\n%+v", us, wantU, res.Unscanned)
			}
			if tc.format != "" && !slices.Contains(res.Formats, tc.format) {
				t.Errorf("formats = %v, want %s", res.Formats, tc.format)
			}
		})
	}
}

func TestTensorContext(t *testing.T) {
	b := buildZip(t, member{name: "archive/data.pkl", data: "EVIL"}, member{name: "archive/data/0", data: "EVIL"})
	res := scanBytes(t, b)
	got := map[string]string{}
	for _, f := range res.Findings {
		got[f.Member] = f.Evidence
	}
	if got["archive/data.pkl"] != "context=" || got["archive/data/0"] != "context="+engine.ContextTensorData {
		t.Errorf("contexts = %v", got)
	}
	if slices.Contains(res.Formats, "zip") {
		t.Errorf("both zip formats matched: %v", res.Formats)
	}
}

func TestWalkEntries(t *testing.T) {
	b := buildZip(t, member{name: "a", data: "hello"}, member{name: "b", data: strings.Repeat("x", 5000), method: zip.Deflate})
	var got []string
	err := Walk(context.Background(), bytes.NewReader(b), int64(len(b)), limits.Default(), func(e *Entry) error {
		rc, err := e.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		data, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		got = append(got, fmt.Sprintf("%s %d %d %d", e.Name, e.Method, e.UncompressedSize, len(data)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a 0 5 5", "b 8 5000 5000"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWalkMaxMembers(t *testing.T) {
	b := buildZip(t, member{name: "a"}, member{name: "b"}, member{name: "c"})
	n := 0
	lim := limits.Default()
	lim.MaxMembers = 2
	err := Walk(context.Background(), bytes.NewReader(b), int64(len(b)), lim, func(*Entry) error { n++; return nil })
	if !errors.Is(err, ErrTooManyMembers) || n != 2 {
		t.Errorf("err = %v, n = %d", err, n)
	}
}

func TestZip64(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 65536-member archive")
	}
	// archive/zip switches to ZIP64 end records at 65535 entries.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < 65536; i++ {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprint(i), Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if i == 65535 {
			io.WriteString(w, "EVIL")
		}
	}
	zw.Close()
	b := buf.Bytes()
	a, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Zip64 || a.Count != 65536 {
		t.Errorf("zip64=%v count=%d", a.Zip64, a.Count)
	}
	res := scanBytes(t, b)
	fs, us := ids(res)
	if !slices.Equal(fs, []string{"MG101 65535"}) || len(us) != 0 {
		t.Errorf("findings %q unscanned %q", fs, us)
	}
}

func TestMatch(t *testing.T) {
	z := buildZip(t, member{name: "a", data: "x"})
	cases := []struct {
		name string
		data []byte
		want bool
	}{
		{"zip", z, true},
		{"prepended", append([]byte("garbage"), z...), true},
		{"empty", []byte{}, false},
		{"text", []byte("hello PK\x05\x06 world"), false},
		{"stray EOCD signature", append(bytes.Repeat([]byte{1}, 100), "PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00\x10\x00\x00\x00\x05\x00\x00\x00\x00\x00"...), false},
	}
	for _, tc := range cases {
		in := &engine.Input{R: bytes.NewReader(tc.data), Size: int64(len(tc.data)), Head: tc.data[:min(len(tc.data), engine.HeadSize)]}
		if got := (Zip{}).Match(in) || (PyTorchZip{}).Match(in); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
}
