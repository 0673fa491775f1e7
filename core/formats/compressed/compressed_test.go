package compressed

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/limits"
)

// evilFormat stands in for the pickle scanner.
type evilFormat struct{}

func (evilFormat) Name() string { return "evil" }
func (evilFormat) Match(in *engine.Input) bool {
	return bytes.HasPrefix(in.Head, []byte("EVIL"))
}
func (evilFormat) Scan(_ context.Context, in *engine.Input, env *engine.Env) error {
	env.Report(finding.Finding{RuleID: "MG101", Offset: 0, Message: "evil", Evidence: string(in.Head[:min(len(in.Head), 64)])})
	return nil
}

func scanBytes(t testing.TB, data []byte) finding.FileResult {
	t.Helper()
	eng, err := engine.New(engine.Options{Formats: append(All(), evilFormat{}), Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	return eng.ScanReaderAt(context.Background(), "x", bytes.NewReader(data), int64(len(data)))
}

func compress(t testing.TB, kind string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch kind {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zlib":
		w = zlib.NewWriter(&buf)
	case "zstd":
		w, err = zstd.NewWriter(&buf)
	case "xz":
		w, err = xz.NewWriter(&buf)
	case "lzma":
		w, err = lzma.NewWriter(&buf)
	case "lz4":
		w = lz4.NewWriter(&buf)
	case "bzip2":
		b, err := os.ReadFile("testdata/evil.bz2")
		if err != nil {
			t.Fatal(err)
		}
		return b
	default:
		t.Fatalf("unknown %s", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

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

func TestEachCompression(t *testing.T) {
	payload := []byte("EVIL payload " + strings.Repeat("abc", 100))
	for _, kind := range []string{"gzip", "zlib", "zstd", "xz", "lzma", "lz4", "bzip2"} {
		t.Run(kind, func(t *testing.T) {
			res := scanBytes(t, compress(t, kind, payload))
			fs, us := ids(res)
			if !slices.Equal(fs, []string{"MG101 <" + kind + ">"}) || len(us) > 0 {
				t.Errorf("findings %q unscanned %q", fs, us)
			}
			if !slices.Contains(res.Formats, kind) {
				t.Errorf("formats %v", res.Formats)
			}
		})
	}
}

func TestMultiMember(t *testing.T) {
	gz := append(compress(t, "gzip", []byte("EVIL first ")), compress(t, "gzip", []byte("second"))...)
	bz, err := os.ReadFile("testdata/two.bz2")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"gzip": gz, "bzip2": bz} {
		res := scanBytes(t, data)
		if len(res.Findings) != 1 || !strings.Contains(res.Findings[0].Evidence, "second") || len(res.Unscanned) > 0 {
			t.Errorf("%s: %+v", name, res)
		}
	}
}

func TestCorruptStreamScansPrefix(t *testing.T) {
	// Incompressible tail so truncation cuts the stream mid-way.
	tail := make([]byte, 1<<20)
	rand.New(rand.NewSource(1)).Read(tail)
	// lz4 is left out: it only emits whole blocks (4 MiB by default), so a
	// cut inside the first block leaves nothing to scan.
	for _, kind := range []string{"gzip", "zlib", "zstd", "xz"} {
		t.Run(kind, func(t *testing.T) {
			c := compress(t, kind, append([]byte("EVIL "), tail...))
			res := scanBytes(t, c[:len(c)/2])
			fs, us := ids(res)
			if !slices.Equal(fs, []string{"MG101 <" + kind + ">"}) || !slices.Equal(us, []string{"MG905 "}) {
				t.Errorf("findings %q unscanned %q %+v", fs, us, res.Unscanned)
			}
		})
	}
}

func TestBomb(t *testing.T) {
	data := append([]byte("EVIL "), make([]byte, limits.RatioFloorBytes+1<<20)...)
	res := scanBytes(t, compress(t, "gzip", data))
	fs, _ := ids(res)
	if !slices.Equal(fs, []string{"MG101 <gzip>", "MG203 <gzip>"}) {
		t.Errorf("findings %q", fs)
	}
}

func TestMatchStrictness(t *testing.T) {
	lz := compress(t, "lzma", []byte("hello"))
	cases := []struct {
		name string
		f    engine.Format
		head []byte
		want bool
	}{
		{"lzma real", LZMA{}, lz, true},
		{"lzma odd dict", LZMA{}, append([]byte{0x5d, 0x01, 0x23, 0x45, 0x00}, lz[5:]...), false},
		{"lzma nonzero range byte", LZMA{}, append(slices.Clone(lz[:13]), 1, 2, 3), false},
		{"lzma other props", LZMA{}, append([]byte{0x5e}, lz[1:]...), false},
		{"zlib real", Zlib{}, compress(t, "zlib", []byte("hello hello")), true},
		{"zlib text", Zlib{}, []byte("x^2 + y^2 = z^2, a formula in a text file"), false},
		{"zlib bad check", Zlib{}, []byte{0x78, 0x9d, 1, 2, 3}, false},
		{"gzip real", Gzip{}, compress(t, "gzip", []byte("a")), true},
		{"gzip short", Gzip{}, []byte{0x1f, 0x8b}, false},
		{"bzip2 real", Bzip2{}, compress(t, "bzip2", nil), true},
		{"bzip2 text", Bzip2{}, []byte("BZh9 is how bzip2 files start"), false},
	}
	for _, tc := range cases {
		in := &engine.Input{Head: tc.head, R: bytes.NewReader(tc.head), Size: int64(len(tc.head))}
		if got := tc.f.Match(in); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestLZMAHugeDictIsCapped(t *testing.T) {
	lz := compress(t, "lzma", []byte("EVIL in lzma"))
	// Claim a 1.5 GiB dictionary: it must be decoded with a capped one.
	lz[1], lz[2], lz[3], lz[4] = 0, 0, 0, 0x60
	res := scanBytes(t, lz)
	fs, us := ids(res)
	if !slices.Equal(fs, []string{"MG101 <lzma>"}) || len(us) > 0 {
		t.Errorf("findings %q unscanned %q", fs, us)
	}
}

// TestXZHugeDictIsRefused patches an xz block to declare a 4 GiB LZMA2
// dictionary. Decoders that allocate what the header says run out of
// memory on 100 bytes; this one must refuse the block and report it.
func TestXZHugeDictIsRefused(t *testing.T) {
	x := compress(t, "xz", []byte("EVIL in xz"))
	const block = 12 // after the stream header
	hdrLen := (int(x[block]) + 1) * 4
	hdr := x[block : block+hdrLen]
	i := bytes.Index(hdr, []byte{0x21, 0x01})
	if i < 0 {
		t.Fatalf("no LZMA2 filter flags in block header % x", hdr)
	}
	hdr[i+2] = 40
	binary.LittleEndian.PutUint32(hdr[hdrLen-4:], crc32.ChecksumIEEE(hdr[:hdrLen-4]))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res := scanBytes(t, x)
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
		t.Errorf("allocated %d MiB for a 4 GiB dictionary claim", grew>>20)
	}
	if _, us := ids(res); len(us) == 0 {
		t.Errorf("refused block not reported as not scanned: %+v", res)
	}
}

// zfile writes a joblib < 0.10 Z-file as numpy_pickle_compat.write_zfile
// does; wide adds the extra space of joblib <= 0.8.4.
func zfile(t testing.TB, data []byte, wide bool) []byte {
	hdr := fmt.Sprintf("%-19s", fmt.Sprintf("%#x", len(data)))
	if wide {
		hdr += " "
	}
	return append([]byte("ZF"+hdr), compress(t, "zlib", data)...)
}

// TestJoblibZFile: old joblib compressed pickles (and their .npy.z arrays)
// are scanned, not skipped as unrecognised content.
func TestJoblibZFile(t *testing.T) {
	payload := []byte("EVIL payload " + strings.Repeat("abc", 100))
	for _, wide := range []bool{false, true} {
		res := scanBytes(t, zfile(t, payload, wide))
		fs, us := ids(res)
		if !slices.Equal(fs, []string{"MG101 <zlib>"}) || len(us) > 0 || !slices.Contains(res.Formats, "joblib-zfile") {
			t.Errorf("wide=%v: findings %q unscanned %q formats %v", wide, fs, us, res.Formats)
		}
	}
	for name, head := range map[string][]byte{
		"no digits": []byte("ZF0x                 x\x9cabc"),
		"text":      []byte("ZF0x1f is not a joblib file, just text about it"),
		"not zlib":  append([]byte("ZF0x31f                "), "abcdef"...),
		"short":     []byte("ZF0x1"),
	} {
		in := &engine.Input{Head: head, R: bytes.NewReader(head), Size: int64(len(head))}
		if (JoblibZFile{}).Match(in) {
			t.Errorf("%s: claimed", name)
		}
	}
}
