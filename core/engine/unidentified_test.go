package engine_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/formats/list"
)

// TestUnidentifiedBinaryByName: unrecognised binary fails closed only when
// its name says model; generic data names (.dat, .sav) are reported
// without failing, and other names are skipped.
func TestUnidentifiedBinaryByName(t *testing.T) {
	eng, err := engine.New(engine.Options{Formats: list.Default(), Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	data := []byte{0x79, 0x70, 0x83, 0x8a, 0x81, 0x94, 0x99, 0x90, 0x01, 0x02, 0xff, 0xfe}
	cases := []struct {
		name                  string
		reported, failsClosed bool
	}{
		{"pytorch_model.bin", true, true},
		{"model.pkl", true, true},
		{"face.dat", true, false},
		{"idl.sav", true, false},
		{"cmr10.pfb", false, false},
	}
	for _, tc := range cases {
		res := eng.ScanReaderAt(context.Background(), tc.name, bytes.NewReader(data), int64(len(data)))
		if got := len(res.Unscanned) > 0; got != tc.reported {
			t.Errorf("%s: reported as not scanned = %v, want %v", tc.name, got, tc.reported)
			continue
		}
		if tc.reported && res.Unscanned[0].ModelLike != tc.failsClosed {
			t.Errorf("%s: model-like = %v, want %v", tc.name, res.Unscanned[0].ModelLike, tc.failsClosed)
		}
	}
}
