package picklefmt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/list"
)

// TestPROTO1IsNotEnough: Type 1 fonts (.pfb segments start 0x80 0x01, as in
// matplotlib's own test data) once became MG107 "pickle malformed"; a
// pickle that really uses PROTO 0 or 1 is still traced.
func TestPROTO1IsNotEnough(t *testing.T) {
	eng, err := engine.New(engine.Options{Formats: list.Default()})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("%!PS-AdobeFont-1.0: CMR10 003.002\n%%Title: CMR10\n")
	pfb := append([]byte{0x80, 0x01}, binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	pfb = append(append(pfb, body...), 0x80, 0x02, 0xc9, 0x00, 0x00, 0x00)
	cases := []struct {
		name, rule string
		data       []byte
	}{
		{"cmr10.pfb", "", pfb},
		{"proto1.pkl", "MG101", []byte("\x80\x01cposix\nsystem\n(S'touch /tmp/x'\ntR.")},
		{"proto0.pkl", "MG101", []byte("\x80\x00cposix\nsystem\n(S'touch /tmp/x'\ntR.")},
		{"proto2.pkl", "MG101", []byte("\x80\x02cposix\nsystem\n(S'touch /tmp/x'\ntR.")},
	}
	for _, tc := range cases {
		res := eng.ScanReaderAt(context.Background(), tc.name, bytes.NewReader(tc.data), int64(len(tc.data)))
		got := ""
		for _, f := range res.Findings {
			if f.Severity >= finding.SeverityLow && (got == "" || f.RuleID == tc.rule) {
				got = f.RuleID
			}
		}
		if got != tc.rule || len(res.Unscanned) > 0 {
			t.Errorf("%s: got finding %q (unscanned %v), want %q", tc.name, got, res.Unscanned, tc.rule)
		}
	}
}
