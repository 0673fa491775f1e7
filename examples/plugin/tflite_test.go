package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelgate/modelgate/sdk"
)

func scanFixture(t *testing.T, name string) *sdk.Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	res, err := detector{}.Scan(context.Background(), &sdk.Input{Name: name, Size: int64(len(data)), R: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

// TestFixtures runs the detector on models written with the FlatBuffers
// library and read back by Arm NN's TFLite parser (testdata/gen_tflite.py).
func TestFixtures(t *testing.T) {
	for _, tc := range []struct {
		file, rule, global string
	}{
		{"add.tflite", "", ""},
		{"detection_postprocess.tflite", "", ""},
		{"custom_op.tflite", RuleCustomOp, "AcmeFastNMS"},
		{"flex_readfile.tflite", RuleFlexIO, "FlexReadFile"},
		{"flex_addv2.tflite", RuleFlexOp, "FlexAddV2"},
		{"truncated.tflite", RuleMalformed, ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			res := scanFixture(t, tc.file)
			if tc.rule == "" {
				if len(res.Findings) != 0 {
					t.Errorf("findings %+v", res.Findings)
				}
				return
			}
			if len(res.Findings) != 1 || res.Findings[0].RuleID != tc.rule || res.Findings[0].Global != tc.global {
				t.Fatalf("findings %+v, want one %s for %q", res.Findings, tc.rule, tc.global)
			}
			data, _ := os.ReadFile(filepath.Join("testdata", tc.file))
			if off := res.Findings[0].Offset; tc.global != "" && !bytes.Equal(data[off+4:off+4+int64(len(tc.global))], []byte(tc.global)) {
				t.Errorf("offset %d does not point at the custom_code string", off)
			}
		})
	}
}

func TestDescriptionClaimsTFL3(t *testing.T) {
	d := detector{}.Describe()
	data, _ := os.ReadFile("testdata/add.tflite")
	m := d.Claims[0].Magic[0]
	if !bytes.Equal(data[m.Offset:m.Offset+len(m.Bytes)], m.Bytes) {
		t.Errorf("claim %+v does not match a real model", m)
	}
	ids := map[string]bool{}
	for _, r := range d.Rules {
		ids[r.ID] = true
	}
	for _, id := range []string{RuleCustomOp, RuleFlexIO, RuleFlexOp, RuleMalformed} {
		if !ids[id] {
			t.Errorf("rule %s not described", id)
		}
	}
}

// TestHostileOffsets: offsets that point anywhere are malformed, never a
// panic or a read outside the file.
func TestHostileOffsets(t *testing.T) {
	data, _ := os.ReadFile("testdata/custom_op.tflite")
	for i := 0; i+4 <= len(data); i += 4 {
		mut := bytes.Clone(data)
		copy(mut[i:], []byte{0xf0, 0xff, 0xff, 0x7f})
		_, err := operatorCodes(bytes.NewReader(mut), int64(len(mut)))
		if err != nil && !errors.Is(err, errMalformed) {
			t.Errorf("mutation at %d: %v is not a malformed-file error", i, err)
		}
	}
}

func TestPrintableEscapes(t *testing.T) {
	if got := printable("a\x00b\xffc\\"); got != `a\x00b\xffc\x5c` {
		t.Errorf("printable = %q", got)
	}
}

func FuzzOperatorCodes(f *testing.F) {
	for _, name := range []string{"add.tflite", "custom_op.tflite", "flex_readfile.tflite", "truncated.tflite"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		codes, _ := operatorCodes(bytes.NewReader(data), int64(len(data)))
		for _, c := range codes {
			if c.at < 0 || c.at >= int64(len(data)) {
				t.Fatalf("offset %d outside %d bytes", c.at, len(data))
			}
		}
	})
}
