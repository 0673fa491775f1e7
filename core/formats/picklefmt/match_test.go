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

// TestPaddedProtocol0: a headerless (protocol 0) pickle is sniffed from its
// first 64 KiB; harmless opcodes filling that sample, or the sniff's stack
// limit, must not leave the payload after them unscanned (CPython loads
// both and runs the call).
func TestPaddedProtocol0(t *testing.T) {
	eng, err := engine.New(engine.Options{Formats: list.Default()})
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte("cposix\nsystem\n(S'touch /tmp/x'\ntR.")
	cases := []struct {
		name string
		pad  []byte
	}{
		{"INT and POP past the sample", bytes.Repeat([]byte("I1\n0"), 20000)},
		{"NONE past the sniff's stack limit", bytes.Repeat([]byte("N"), 70000)},
		{"short padding", bytes.Repeat([]byte("I1\n0"), 100)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := append(append([]byte(nil), tc.pad...), payload...)
			res := eng.ScanReaderAt(context.Background(), "model.pkl", bytes.NewReader(data), int64(len(data)))
			found := false
			for _, f := range res.Findings {
				found = found || f.RuleID == "MG101"
			}
			if !found && len(res.Unscanned) == 0 {
				t.Errorf("payload after %d padding bytes passed (formats %v)", len(tc.pad), res.Formats)
			}
		})
	}
}
