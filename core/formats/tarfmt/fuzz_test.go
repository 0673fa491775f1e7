package tarfmt_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzTar scans arbitrary bytes through the engine (tar and PyTorch tar
// formats included) and fails on any parser panic.
func FuzzTar(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.tar")
	for _, p := range files {
		d, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(d)
	}
	eng := newEngine(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		res := eng.ScanReaderAt(context.Background(), "fuzz.tar", bytes.NewReader(data), int64(len(data)))
		for _, u := range res.Unscanned {
			if strings.Contains(u.Reason, "panic") {
				t.Fatalf("parser panicked: %s", u.Reason)
			}
		}
	})
}

// FuzzTorchTarMembers wraps fuzzed "storages", "tensors" and "pickle"
// contents in a well-formed tar, so mutations reach the legacy-layout
// walker instead of failing the header checksum.
func FuzzTorchTarMembers(f *testing.F) {
	for _, name := range []string{"torch_benign.tar", "torch_truncated_storage.tar", "torch_views_evil.tar"} {
		d, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		m := members(f, d)
		f.Add(m["storages"], m["tensors"], m["pickle"])
	}
	eng := newEngine(f)
	f.Fuzz(func(t *testing.T, storages, tensors, pickle []byte) {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, m := range []struct {
			name string
			data []byte
		}{{"storages", storages}, {"tensors", tensors}, {"pickle", pickle}} {
			if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg}); err != nil {
				t.Fatal(err)
			}
			if _, err := tw.Write(m.data); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		data := buf.Bytes()
		res := eng.ScanReaderAt(context.Background(), "fuzz.tar", bytes.NewReader(data), int64(len(data)))
		for _, u := range res.Unscanned {
			if strings.Contains(u.Reason, "panic") {
				t.Fatalf("parser panicked: %s", u.Reason)
			}
		}
	})
}

func members(t testing.TB, data []byte) map[string][]byte {
	out := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err != nil {
			return out
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = b
	}
}
