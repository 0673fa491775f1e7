package sevenzip_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.7z")
	for _, p := range files {
		d, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(d)
	}
}

func scanNoPanic(t *testing.T, data []byte) {
	eng := newEngine(t)
	res := eng.ScanReaderAt(context.Background(), "fuzz.7z", bytes.NewReader(data), int64(len(data)))
	for _, u := range res.Unscanned {
		if strings.Contains(u.Reason, "panic") {
			t.Fatalf("parser panicked: %s", u.Reason)
		}
	}
}

// FuzzSevenZip scans arbitrary bytes as a 7z archive.
func FuzzSevenZip(f *testing.F) {
	addSeeds(f)
	f.Fuzz(scanNoPanic)
}

// FuzzSevenZipHeader fuzzes the header of a valid archive and fixes the
// CRCs, which random mutations almost never get right on their own; this
// reaches the header parsers (ours and the decoder library's).
func FuzzSevenZipHeader(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.7z")
	for _, p := range files {
		d, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		off := binary.LittleEndian.Uint64(d[12:20])
		size := binary.LittleEndian.Uint64(d[20:28])
		f.Add(d[:32+off], d[32+off:32+off+size])
	}
	f.Fuzz(func(t *testing.T, prefix, header []byte) {
		if len(prefix) < 32 || !bytes.HasPrefix(prefix, []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}) {
			return
		}
		out := append(append([]byte(nil), prefix...), header...)
		binary.LittleEndian.PutUint64(out[12:20], uint64(len(prefix)-32))
		binary.LittleEndian.PutUint64(out[20:28], uint64(len(header)))
		binary.LittleEndian.PutUint32(out[28:32], crc32.ChecksumIEEE(header))
		binary.LittleEndian.PutUint32(out[8:12], crc32.ChecksumIEEE(out[12:32]))
		scanNoPanic(t, out)
	})
}
