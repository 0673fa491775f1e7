package lfs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/lfs"
	"github.com/modelgate/modelgate/core/formats/list"
)

const (
	maliciousPickle = "../../../test/fixtures/malicious/posix_system_reduce_p2.pkl"
	benignPickle    = "../../../test/fixtures/benign/python_data_p2.pkl"
)

func pointerFor(data []byte) []byte {
	sum := sha256.Sum256(data)
	return fmt.Appendf(nil, "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", hex.EncodeToString(sum[:]), len(data))
}

func TestParsePointer(t *testing.T) {
	oid := "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
	tests := []struct {
		name    string
		in      string
		ok      bool
		size    int64
		extKeys int
	}{
		{"spec example", "version https://git-lfs.github.com/spec/v1\noid sha256:" + oid + "\nsize 12345\n", true, 12345, 0},
		{"no final newline", "version https://git-lfs.github.com/spec/v1\noid sha256:" + oid + "\nsize 0", true, 0, 0},
		{"hawser version", "version https://hawser.github.com/spec/v1\noid sha256:" + oid + "\nsize 7\n", true, 7, 0},
		{"unknown key kept", "version https://git-lfs.github.com/spec/v1\nfoo.bar baz\noid sha256:" + oid + "\nsize 7\n", true, 7, 0},
		{"extension", "version https://git-lfs.github.com/spec/v1\next-0-foo sha256:" + oid + "\noid sha256:" + oid + "\nsize 7\n", true, 7, 1},
		{"version not first", "oid sha256:" + oid + "\nversion https://git-lfs.github.com/spec/v1\nsize 7\n", false, 0, 0},
		{"unknown version", "version https://example.com/spec/v9\noid sha256:" + oid + "\nsize 7\n", false, 0, 0},
		{"sha1 oid", "version https://git-lfs.github.com/spec/v1\noid sha1:" + oid[:40] + "\nsize 7\n", false, 0, 0},
		{"upper-case hex", "version https://git-lfs.github.com/spec/v1\noid sha256:" + "4D" + oid[2:] + "\nsize 7\n", false, 0, 0},
		{"short oid", "version https://git-lfs.github.com/spec/v1\noid sha256:" + oid[:63] + "\nsize 7\n", false, 0, 0},
		{"negative size", "version https://git-lfs.github.com/spec/v1\noid sha256:" + oid + "\nsize -1\n", false, 0, 0},
		{"signed size", "version https://git-lfs.github.com/spec/v1\noid sha256:" + oid + "\nsize +1\n", false, 0, 0},
		{"missing size", "version https://git-lfs.github.com/spec/v1\noid sha256:" + oid + "\nx y\n", false, 0, 0},
		{"duplicate oid", "version https://git-lfs.github.com/spec/v1\noid sha256:" + oid + "\noid sha256:" + oid + "\nsize 7\n", false, 0, 0},
		{"CRLF", "version https://git-lfs.github.com/spec/v1\r\noid sha256:" + oid + "\r\nsize 7\r\n", false, 0, 0},
		{"trailing text", "version https://git-lfs.github.com/spec/v1\noid sha256:" + oid + "\nsize 7\n\nimport os\n", false, 0, 0},
		{"empty", "", false, 0, 0},
		{"plain text", "hello world\n", false, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := lfs.ParsePointer([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Fatalf("ParsePointer ok=%v, want %v (err %v)", err == nil, tt.ok, err)
			}
			if !tt.ok {
				return
			}
			if p.OID != oid || p.Size != tt.size || len(p.Extensions) != tt.extKeys {
				t.Errorf("got %+v", p)
			}
		})
	}
}

// store writes objects in git-lfs's layout and returns it.
func store(t *testing.T, objects map[string][]byte) lfs.DirStore {
	t.Helper()
	dir := t.TempDir()
	for oid, data := range objects {
		p := filepath.Join(dir, oid[0:2], oid[2:4], oid)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return lfs.DirStore(dir)
}

func oidOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func scan(t *testing.T, st lfs.Store, name string, content []byte) finding.FileResult {
	t.Helper()
	formats := list.Default()
	if st != nil {
		formats = list.WithLFSStore(formats, st)
	}
	eng, err := engine.New(engine.Options{Formats: formats, Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	return eng.ScanReaderAt(context.Background(), name, bytes.NewReader(content), int64(len(content)))
}

func ruleIDs(r finding.FileResult) (found, unscanned []string, modelLike bool) {
	for _, f := range r.Findings {
		found = append(found, f.RuleID)
	}
	for _, u := range r.Unscanned {
		unscanned = append(unscanned, u.RuleID)
		modelLike = modelLike || u.ModelLike
	}
	return found, unscanned, modelLike
}

func TestPointerScan(t *testing.T) {
	evil, err := os.ReadFile(maliciousPickle)
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(benignPickle)
	if err != nil {
		t.Fatal(err)
	}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")
	tampered := append(slices.Clone(good[:len(good)-1]), good[len(good)-1]^1)

	tests := []struct {
		name      string
		store     map[string][]byte // nil: no store at all
		file      string
		content   []byte
		findings  []string
		unscanned []string
		modelLike bool
	}{
		{"malicious object found through its pointer", map[string][]byte{oidOf(evil): evil}, "model.pkl", pointerFor(evil), []string{"MG101"}, nil, false},
		{"benign object", map[string][]byte{oidOf(good): good}, "model.pkl", pointerFor(good), nil, nil, false},
		{"object missing, model name", map[string][]byte{}, "model.pkl", pointerFor(evil), nil, []string{"MG904"}, true},
		{"object missing, image name", map[string][]byte{}, "cat.png", pointerFor(png), nil, []string{"MG904"}, false},
		{"no store", nil, "weights.bin", pointerFor(good), nil, []string{"MG904"}, true},
		{"object differs from oid", map[string][]byte{oidOf(good): tampered}, "model.pkl", pointerFor(good), []string{"MG250"}, nil, false},
		{"object differs and is malicious", map[string][]byte{oidOf(good): evil}, "model.pkl", pointerFor(good), []string{"MG250", "MG101"}, nil, false},
		{"unknown binary object under a data name", map[string][]byte{oidOf(png): png}, "cat.png", pointerFor(png), nil, nil, false},
		{"unknown binary object under a model name", map[string][]byte{oidOf(png): png}, "model.bin", pointerFor(png), nil, []string{"MG901"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st lfs.Store
			if tt.store != nil {
				st = store(t, tt.store)
			}
			res := scan(t, st, tt.file, tt.content)
			found, unscanned, modelLike := ruleIDs(res)
			for _, want := range tt.findings {
				if !slices.Contains(found, want) {
					t.Errorf("findings %v lack %s", found, want)
				}
			}
			if len(tt.findings) == 0 && len(found) > 0 {
				t.Errorf("unexpected findings %v", res.Findings)
			}
			if !slices.Equal(unscanned, tt.unscanned) {
				t.Errorf("unscanned %v, want %v (%+v)", unscanned, tt.unscanned, res.Unscanned)
			}
			if modelLike != tt.modelLike {
				t.Errorf("model-like %v, want %v", modelLike, tt.modelLike)
			}
			if !slices.Contains(res.Formats, "lfs-pointer") {
				t.Errorf("formats %v lack lfs-pointer", res.Formats)
			}
			for _, f := range res.Findings {
				if f.Path != tt.file || f.Member != "" {
					t.Errorf("finding located at %q member %q, want the file itself", f.Path, f.Member)
				}
			}
		})
	}
}

// A pointer whose object is itself a pointer to it must end at the depth
// limit, not loop.
func TestPointerChainBounded(t *testing.T) {
	inner := pointerFor([]byte("x"))
	oid := oidOf([]byte("x"))
	res := scan(t, store(t, map[string][]byte{oid: inner}), "m.pkl", inner)
	_, unscanned, _ := ruleIDs(res)
	if !slices.Contains(unscanned, "MG906") {
		t.Fatalf("want MG906 for a self-referencing pointer, got %+v %+v", res.Findings, res.Unscanned)
	}
}

func TestDirStoreRejectsBadOID(t *testing.T) {
	st := lfs.DirStore(t.TempDir())
	for _, oid := range []string{"../../etc/passwd", "", "ab"} {
		if _, _, err := st.Open(oid); err == nil {
			t.Errorf("Open(%q) succeeded", oid)
		}
	}
}

func FuzzParsePointer(f *testing.F) {
	evil, err := os.ReadFile(maliciousPickle)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pointerFor(evil))
	f.Add([]byte("version https://hawser.github.com/spec/v1\next-0-x sha256:00\noid sha256:" + oidOf(nil) + "\nsize 0"))
	f.Add([]byte("version https://git-lfs.github.com/spec/v1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := lfs.ParsePointer(data)
		if err != nil {
			return
		}
		if len(p.OID) != 64 || p.Size < 0 || len(data) >= lfs.MaxPointerSize {
			t.Fatalf("accepted an invalid pointer: %+v", p)
		}
	})
}
