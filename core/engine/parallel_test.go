package engine_test

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/formats/list"
)

// TestScanPathsParallel scans the real fixture corpus with one worker and
// with four and wants the same results in the same order. CI runs it under
// the race detector (.ci/run), which is what catches shared state in the
// worker pool, the progress callback or a format.
func TestScanPathsParallel(t *testing.T) {
	scan := func(jobs int) ([]string, int64) {
		eng, err := engine.New(engine.Options{Formats: list.Default(), Jobs: jobs, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		var calls atomic.Int64
		res, err := eng.ScanPaths(context.Background(), []string{"../../test/fixtures"}, "../..", func(done, total int, bytes int64) {
			calls.Add(1)
		})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range res {
			s := r.Path + " " + string(r.Status)
			for _, f := range r.Findings {
				s += " " + f.RuleID + "@" + f.Member
			}
			for _, u := range r.Unscanned {
				s += " !" + u.RuleID + "@" + u.Member
			}
			out = append(out, s)
		}
		return out, calls.Load()
	}
	one, _ := scan(1)
	four, calls := scan(4)
	if len(one) < 100 {
		t.Fatalf("only %d fixtures found", len(one))
	}
	if !reflect.DeepEqual(one, four) {
		for i := range one {
			if i < len(four) && one[i] != four[i] {
				t.Errorf("jobs=1: %s\njobs=4: %s", one[i], four[i])
			}
		}
		t.Fatalf("results differ between 1 and 4 workers")
	}
	if calls != int64(len(four)) {
		t.Errorf("progress called %d times for %d files", calls, len(four))
	}
}
