package numpy_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/engine/enginetest"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/list"
)

func newEngine(t testing.TB) *engine.Engine { return enginetest.New(t, list.Default()) }

func rules(res finding.FileResult) (string, string) { return enginetest.RuleIDs(res) }

// TestScan runs real numpy files and hand-made hostile ones through the
// whole engine: real files are clean and fully scanned, object arrays are
// judged as pickles, and bytes numpy never reads are reported and scanned.
func TestScan(t *testing.T) {
	tests := []struct {
		file      string
		findings  string
		unscanned string
	}{
		{file: "f32.npy"},
		{file: "i8_fortran.npy"},
		{file: "scalar_f64.npy"},
		{file: "empty.npy"},
		{file: "unicode.npy"},
		{file: "datetime.npy"},
		{file: "structured_nested.npy"},
		{file: "padded_struct.npy"},
		{file: "v2.npy"},
		{file: "v3_utf8.npy"},
		{file: "object_plain.npy"},
		{file: "object_in_struct.npy"},
		{file: "object_evil.npy", findings: "MG101"},
		{file: "object_evil_nested.npy", findings: "MG101"},
		{file: "numeric_then_pickle.npy", findings: "MG101,MG207"},
		{file: "truncated_data.npy", findings: "MG207"},
		{file: "bad_header.npy", unscanned: "MG905"},
		{file: "bad_version.npy", unscanned: "MG905"},
	}
	eng := newEngine(t)
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			res := eng.ScanFile(context.Background(), filepath.Join("testdata", tc.file), tc.file)
			f, u := rules(res)
			if f != tc.findings || u != tc.unscanned {
				t.Errorf("findings %q unscanned %q, want %q %q\n%+v\n%+v", f, u, tc.findings, tc.unscanned, res.Findings, res.Unscanned)
			}
			if len(res.Formats) == 0 || res.Formats[0] != "npy" {
				t.Errorf("formats %v, want npy", res.Formats)
			}
		})
	}
}

// npyWith builds a version 1.0 .npy header for descr and shape followed by data.
func npyWith(header string, data []byte) []byte {
	pad := 64 - (10+len(header)+1)%64
	h := header + strings.Repeat(" ", pad%64) + "\n"
	out := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	return append(append(out, h...), data...)
}

// TestImpossibleShapeIsHigh: a shape that needs orders of magnitude more
// bytes than the file has targets readers (high); a cut-off array stays at
// MG207's default.
func TestImpossibleShapeIsHigh(t *testing.T) {
	eng := newEngine(t)
	for _, tc := range []struct {
		name  string
		shape string
		want  finding.Severity
	}{
		{"2^61 elements in 64 bytes", "(2305843009213693952,)", finding.SeverityHigh},
		{"cut off", "(100,)", finding.SeverityLow},
	} {
		data := npyWith("{'descr': '<f8', 'fortran_order': False, 'shape': "+tc.shape+", }", make([]byte, 64))
		res := enginetest.ScanBytes(eng, "a.npy", data)
		var got *finding.Finding
		for i := range res.Findings {
			if res.Findings[i].RuleID == "MG207" {
				got = &res.Findings[i]
			}
		}
		if got == nil {
			t.Fatalf("%s: no MG207: %+v", tc.name, res)
		}
		if got.Severity != tc.want {
			t.Errorf("%s: severity %q, want %q: %s", tc.name, got.Severity, tc.want, got.Message)
		}
	}
}
