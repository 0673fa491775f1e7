package pickle

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// memContent is content in memory the way engine.Memory offers it.
type memContent []byte

func (m memContent) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m)) {
		return 0, io.EOF
	}
	n := copy(p, m[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m memContent) Bytes() []byte { return m }

// TestInPlaceReaderSameTrace runs every pickle fixture, benign and
// malicious, from a copying reader and from memory read in place: the
// traces must be identical and the memory must not change.
func TestInPlaceReaderSameTrace(t *testing.T) {
	var files []string
	for _, dir := range []string{"../../test/fixtures/malicious", "../../test/fixtures/benign"} {
		_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() && filepath.Ext(p) == ".pkl" {
				files = append(files, p)
			}
			return nil
		})
	}
	if len(files) == 0 {
		t.Skip("no fixtures")
	}
	// A low threshold makes the memo pre-scan (which reads the content
	// through its own reader) run on the fixtures too.
	defer func(n int) { liveMemoMinEntries = n }(liveMemoMinEntries)
	for _, threshold := range []int{liveMemoMinEntries, 3} {
		liveMemoMinEntries = threshold
		compareInPlace(t, files)
	}
	t.Logf("%d pickles compared", len(files))
}

func compareInPlace(t *testing.T, files []string) {
	t.Helper()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Offsets past the start exercise a pickle that starts inside the
		// content (a member or a joblib array).
		for _, start := range []int64{0, 2} {
			if start > int64(len(data)) {
				continue
			}
			want, werr := Run(context.Background(), bytes.NewReader(data), start, int64(len(data)), Options{})
			mem := memContent(bytes.Clone(data))
			got, gerr := Run(context.Background(), mem, start, int64(len(data)), Options{})
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("%s@%d: errors differ: %v vs %v", f, start, werr, gerr)
			}
			if !reflect.DeepEqual(want, got) {
				t.Errorf("%s@%d: traces differ between a copying reader and memory read in place", f, start)
			}
			if !bytes.Equal(mem, data) {
				t.Fatalf("%s@%d: the in-memory content was modified", f, start)
			}
		}
	}
}
