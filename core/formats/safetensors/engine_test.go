package safetensors_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/list"
)

// TestThroughEngine: crafted files reach the rules they should, and
// content behind or beside the tensors is scanned as nested members.
func TestThroughEngine(t *testing.T) {
	eng, err := engine.New(engine.Options{Formats: list.Default()})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"testdata/linear.safetensors":              nil,
		"testdata/trailing_pickle.safetensors":     {"MG703", "MG101"},
		"testdata/gap_hides_pickle.safetensors":    {"MG702", "MG101"},
		"testdata/pickle_disguised.safetensors":    {"MG101"},
		"testdata/overlapping_offsets.safetensors": {"MG702"},
	}
	for path, want := range cases {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		res := eng.ScanReaderAt(context.Background(), path, bytes.NewReader(data), int64(len(data)))
		got := map[string]bool{}
		for _, f := range res.Findings {
			got[f.RuleID] = true
			if want == nil && f.Severity >= finding.SeverityLow {
				t.Errorf("%s: unexpected %s %s", path, f.RuleID, f.Message)
			}
		}
		for _, r := range want {
			if !got[r] {
				t.Errorf("%s: missing %s (got %v)", path, r, got)
			}
		}
	}
}
