package list

import (
	"archive/zip"
	"bytes"
	"context"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
)

// TestTensorStoragesAreNotPickles: torch reads "<dir>/data/N" records as raw
// storage bytes and never unpickles them, so a 12-byte float storage that
// happens to start with 80 02 (a PROTO opcode) is not a malformed pickle.
func TestTensorStoragesAreNotPickles(t *testing.T) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	add := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	add("archive/data.pkl", []byte("\x80\x02}q\x00."))
	add("archive/data/8", []byte("\x80\x02\x11\x3f\x00\x00\x80\x3f\xcd\xcc\x4c\x3e"))
	add("archive/version", []byte("3\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Options{Formats: Default(), Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	res := eng.ScanReaderAt(context.Background(), "model.pt", bytes.NewReader(b.Bytes()), int64(b.Len()))
	if len(res.Findings) != 0 || len(res.Unscanned) != 0 {
		t.Errorf("findings %+v, not scanned %+v; want none", res.Findings, res.Unscanned)
	}
}
