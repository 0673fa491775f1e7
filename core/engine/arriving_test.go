package engine_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/formats/list"
	"github.com/modelgate/modelgate/core/rules"
)

// trickle is content that arrives only as it is read: the first read past
// what has arrived brings in the bytes up to the end of that read, and
// Wait brings in the rest. So matching sees the head alone, and a scan
// that reads to the end before Wait ran alongside the arrival.
type trickle struct {
	data []byte
	// failAt is where the arrival fails (0: never); from then on every
	// read fails, as a spooled download that broke off does.
	failAt int64
	failed bool

	mu        sync.Mutex
	have      int64
	waited    bool
	readAhead bool // a read went to the end before Wait
}

var _ engine.Arriving = (*trickle)(nil)

var errLost = errors.New("connection lost")

func (t *trickle) Arrived() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.have
}

func (t *trickle) arrive(end int64) error {
	if t.failed || t.failAt > 0 && end > t.failAt {
		t.failed = true
		return errLost
	}
	t.have = max(t.have, end)
	return nil
}

func (t *trickle) ReadAt(p []byte, off int64) (int, error) {
	t.mu.Lock()
	end := min(off+int64(len(p)), int64(len(t.data)))
	err := t.arrive(end)
	if end == int64(len(t.data)) && !t.waited {
		t.readAhead = true
	}
	t.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return engine.Memory(t.data).ReadAt(p, off)
}

func (t *trickle) Wait(context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.waited = true
	return t.arrive(int64(len(t.data)))
}

func newListEngine(t *testing.T) *engine.Engine {
	t.Helper()
	eng, err := engine.New(engine.Options{Formats: list.Default(), Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// TestArrivingScansLikeCompleteContent holds the head-first scan of
// arriving content to the scan of the complete file, for every fixture:
// the same findings, formats and not-scanned items, byte for byte. The
// pickles among them must have been scanned alongside the arrival, and
// the polyglots (a pickle or safetensors file with a zip after it), whose
// tail changes the first format that claims them, must still come out as
// the zip they also are.
func TestArrivingScansLikeCompleteContent(t *testing.T) {
	eng := newListEngine(t)
	root := filepath.Join("..", "..", "test", "fixtures")
	ctx := context.Background()
	var files, alongside int
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".md") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		want := eng.ScanReaderAt(ctx, p, engine.Memory(data), int64(len(data)))
		tr := &trickle{data: data}
		got := eng.ScanReaderAt(ctx, p, tr, int64(len(data)))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: arriving scan differs from the complete scan\n got %+v\nwant %+v", p, got, want)
		}
		if tr.readAhead {
			alongside++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 150 || alongside < 100 {
		t.Fatalf("%d fixtures, %d scanned alongside their arrival: the test saw too little", files, alongside)
	}
	t.Logf("%d fixtures, %d scanned alongside their arrival", files, alongside)

	data := polyglot(t)
	want := eng.ScanReaderAt(ctx, "poly.pt", engine.Memory(data), int64(len(data)))
	tr := &trickle{data: data}
	got := eng.ScanReaderAt(ctx, "poly.pt", tr, int64(len(data)))
	if !reflect.DeepEqual(got, want) || !slices.Contains(got.Formats, "pytorch-zip") {
		t.Errorf("pickle with a zip after it: formats %v, want %v with pytorch-zip", got.Formats, want.Formats)
	}
	if !tr.readAhead {
		t.Error("the pickle head of the polyglot was not scanned alongside its arrival")
	}
}

// polyglot is a real joblib pickle (larger than the head, so matching
// sees no zip end record while it arrives) with a real torch checkpoint
// after it: zipfile, and so torch.load, opens it through its end record.
func polyglot(t *testing.T) []byte {
	t.Helper()
	var out []byte
	for _, name := range []string{"benign/sklearn_gradient_boosting.joblib", "benign/torch_checkpoint_dict.pt"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "test", "fixtures", name))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	if len(out) < 2*engine.HeadSize {
		t.Fatalf("polyglot of %d bytes: too small to arrive in parts", len(out))
	}
	return out
}

// TestArrivingThatFailsIsNotScanned: a download that breaks off leaves the
// file not scanned, never judged on the part that arrived.
func TestArrivingThatFailsIsNotScanned(t *testing.T) {
	eng := newListEngine(t)
	data := polyglot(t)
	for _, failAt := range []int64{engine.HeadSize / 2, engine.HeadSize + 1, int64(len(data)) - 10} {
		got := eng.ScanReaderAt(context.Background(), "m.pt", &trickle{data: data, failAt: failAt}, int64(len(data)))
		if len(got.Unscanned) == 0 || got.Unscanned[0].RuleID != rules.NotScannedError {
			t.Errorf("arrival failing at %d: %+v, want not scanned (%s)", failAt, got, rules.NotScannedError)
		}
	}
}
