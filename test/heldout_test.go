package test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelgate/modelgate/core/finding"
)

// TestHeldOutBenign scans the held-out benign corpus (test/gen_heldout_benign.py), which is
// made by a different generator from the one the allowlist was harvested from. Nothing may be
// reported at high or above, and at most 5% of the files may carry a medium finding: this
// measures how the allowlist generalises, not how well it memorised its inputs.
func TestHeldOutBenign(t *testing.T) {
	data, err := os.ReadFile("fixtures/heldout/manifest-benign.json")
	if err != nil {
		t.Fatal(err)
	}
	var fxs []fixture
	if err := json.Unmarshal(data, &fxs); err != nil {
		t.Fatal(err)
	}
	if len(fxs) < 50 {
		t.Fatalf("held-out corpus has %d files, want a corpus", len(fxs))
	}
	eng := newEngine(t)
	ctx := context.Background()
	var high, medium int
	for _, fx := range fxs {
		if !fx.Proven {
			t.Errorf("%s: the generator could not load it back; regenerate the corpus", fx.File)
			continue
		}
		res := eng.ScanFile(ctx, filepath.Join("fixtures", fx.File), fx.File)
		if len(res.Unscanned) > 0 {
			t.Errorf("%s: not fully scanned: %+v", fx.File, res.Unscanned)
		}
		switch w := worst(res); {
		case w >= finding.SeverityHigh:
			high++
			t.Errorf("%s (%s): benign file reported at %s: %+v", fx.File, fx.Technique, w, res.Findings)
		case w == finding.SeverityMedium:
			medium++
			t.Logf("%s: medium: %+v", fx.File, res.Findings)
		}
	}
	t.Logf("held-out benign: %d files, %d with high or above, %d with medium", len(fxs), high, medium)
	if medium*100 > len(fxs)*5 {
		t.Errorf("%d of %d held-out benign files (%.1f%%) have a medium finding, want <= 5%%",
			medium, len(fxs), 100*float64(medium)/float64(len(fxs)))
	}
}
