package artifacts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
)

type mapStore struct {
	dirs  map[string][]Entry
	files map[string]string
	opens int
}

func (m *mapStore) List(_ context.Context, dir string) ([]Entry, error) {
	e, ok := m.dirs[dir]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return e, nil
}

func (m *mapStore) Open(_ context.Context, p string) (io.ReadCloser, error) {
	m.opens++
	b, ok := m.files[p]
	if !ok {
		return nil, errors.New("no such object")
	}
	return io.NopCloser(strings.NewReader(b)), nil
}

func TestFS_WalksStreamsAndDropsHostileNames(t *testing.T) {
	st := &mapStore{
		dirs: map[string][]Entry{
			".":    {{Name: "MLmodel", Size: 3}, {Name: "data", IsDir: true}, {Name: ".."}, {Name: "a/b"}, {Name: "MLmodel", Size: 9}},
			"data": {{Name: "model.pkl", Size: 4}},
		},
		files: map[string]string{"MLmodel": "abc", "data/model.pkl": "wxyz"},
	}
	fsys := NewFS(context.Background(), st)
	var got []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			got = append(got, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "MLmodel,data/model.pkl" {
		t.Fatalf("walked %v", got)
	}
	if st.opens != 0 {
		t.Fatalf("walking opened %d streams", st.opens)
	}
	b, err := fs.ReadFile(fsys, "data/model.pkl")
	if err != nil || string(b) != "wxyz" {
		t.Fatalf("read %q %v", b, err)
	}
	info, err := fs.Stat(fsys, "MLmodel")
	if err != nil || info.Size() != 3 {
		t.Fatalf("stat %v %v", info, err)
	}
	for _, bad := range []string{"../x", "/etc/passwd", "data/../../x"} {
		if _, err := fsys.Open(bad); err == nil {
			t.Errorf("opened %q", bad)
		}
	}
	if _, err := fsys.Open("nosuch"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestProxyPath(t *testing.T) {
	for in, want := range map[string]string{
		"mlflow-artifacts:/1/abc/artifacts/model":             "1/abc/artifacts/model",
		"mlflow-artifacts://host:5000/1/models/m-1/artifacts": "1/models/m-1/artifacts",
		"mlflow-artifacts:/1/../../etc":                       "etc",
	} {
		got, err := proxyPath(in)
		if err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := proxyPath("mlflow-artifacts:"); err == nil {
		t.Error("empty proxy path accepted")
	}
}

func TestFS_SpoolsLargeFilesForRandomAccess(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 20000) // 320,000 bytes, above smallFile
	sum := sha256.Sum256([]byte(big))
	for _, tc := range []struct {
		name, served string
		wantErr      bool
	}{
		{"as listed", big, false},
		{"longer than listed", big + "tail the listing hid", true},
		{"shorter than listed", big[:len(big)-10], true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &mapStore{
				dirs:  map[string][]Entry{".": {{Name: "model.pkl", Size: int64(len(big))}, {Name: "MLmodel", Size: 3}}},
				files: map[string]string{"model.pkl": tc.served, "MLmodel": "abc"},
			}
			loc := &Location{FS: NewFS(context.Background(), st)}
			loc.Spool(t.TempDir(), 1<<30)
			f, err := loc.FS.Open("model.pkl")
			if err != nil {
				t.Fatal(err)
			}
			ra, ok := f.(interface {
				io.ReaderAt
				Size() int64
			})
			if !ok || ra.Size() != int64(len(big)) {
				t.Fatalf("spooled file %T offers no random access of the listed size", f)
			}
			if err := f.Close(); err != nil || st.opens != 0 {
				t.Fatalf("closing an unread file: %v, %d downloads", err, st.opens)
			}
			f, _ = loc.FS.Open("model.pkl")
			ra = f.(interface {
				io.ReaderAt
				Size() int64
			})
			// The tail first, as the zip sniff reads it, then the head.
			tail := make([]byte, 100)
			n, tailErr := ra.ReadAt(tail, int64(len(big))-50)
			head := make([]byte, 16)
			_, headErr := ra.ReadAt(head, 0)
			closeErr := f.Close()
			sums := Sums(loc.FS)
			_, reopenErr := loc.FS.Open("model.pkl")
			if tc.wantErr {
				if tailErr == nil || headErr == nil {
					t.Fatalf("reads of content that disagrees with its listing: %v, %v", tailErr, headErr)
				}
				if _, ok := sums["model.pkl"]; ok || reopenErr == nil {
					t.Fatalf("bad content hashed (%v) or opened again (%v)", sums, reopenErr)
				}
				return
			}
			if n != 50 || tailErr != io.EOF || string(tail[:n]) != big[len(big)-50:] {
				t.Fatalf("tail read %d %v %q", n, tailErr, tail[:n])
			}
			if headErr != nil || string(head) != big[:16] || closeErr != nil {
				t.Fatalf("head read %q %v, close %v", head, headErr, closeErr)
			}
			if sums["model.pkl"] != hex.EncodeToString(sum[:]) || reopenErr != nil {
				t.Fatalf("sums %v, reopen %v", sums, reopenErr)
			}
			if st.opens != 1 {
				t.Fatalf("%d downloads, want 1", st.opens)
			}
		})
	}
}
