package artifacts

import (
	"context"
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
