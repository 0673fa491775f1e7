package scan_test

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/modelgate/modelgate/core/scan"
)

// TestRunParallel scans the real fixture corpus with one worker and with
// four and wants the same report. CI runs it under the race detector
// (.ci/run), which is what catches shared state in the worker pool, the
// progress callback or a format.
func TestRunParallel(t *testing.T) {
	run := func(jobs int) ([]string, int64) {
		var calls atomic.Int64
		rep, err := scan.Run(context.Background(), scan.Paths([]string{"../../test/fixtures"}, "../.."), scan.Options{
			Jobs: jobs, TempDir: t.TempDir(), Progress: func(int, int, int64) { calls.Add(1) }})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rep.Files {
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
	one, _ := run(1)
	four, calls := run(4)
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
