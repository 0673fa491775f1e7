package policy

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/pickle"
)

// fixturePickles returns the repository's pickles made by real libraries:
// plain pickle files and the .pkl members of zip checkpoints.
func fixturePickles(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.Walk("../../test/fixtures", func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() || fi.Size() > 8<<20 {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case len(data) > 0 && data[0] == 0x80:
			out[p] = data
		case bytes.HasPrefix(data, []byte("PK\x03\x04")):
			zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				return nil
			}
			for _, f := range zr.File {
				if !strings.HasSuffix(f.Name, ".pkl") || f.UncompressedSize64 > 8<<20 {
					continue
				}
				rc, err := f.Open()
				if err != nil {
					continue
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err == nil {
					out[p+"!"+f.Name] = b
				}
			}
		}
		return nil
	})
	if err != nil || len(out) < 100 {
		t.Fatalf("fixtures: %d pickles, %v", len(out), err)
	}
	return out
}

func verdictText(v PickleVerdict) string {
	var b strings.Builder
	for _, f := range v.Findings {
		fmt.Fprintf(&b, "F %s %s %d %s %s %q %q\n", f.RuleID, f.Severity, f.Offset, f.Global, f.Call, f.Message, f.Evidence)
	}
	for _, n := range v.Nested {
		fmt.Fprintf(&b, "N %s %d %v %s\n", n.Loader, n.Offset, n.Routine, n.Data)
	}
	return b.String()
}

// TestRoutineCallsDoNotChangeVerdicts: counting the calls RoutineCallee
// names instead of keeping them in the trace must leave every verdict as
// it was, on every real benign and malicious pickle.
func TestRoutineCallsDoNotChangeVerdicts(t *testing.T) {
	p := Default()
	counted := int64(0)
	for name, data := range fixturePickles(t) {
		judge := func(routine func(string, string) bool) (string, *pickle.Trace) {
			tr, err := pickle.Run(context.Background(), bytes.NewReader(data), 0, int64(len(data)), pickle.Options{Routine: routine})
			if err != nil {
				t.Fatal(err)
			}
			return verdictText(p.JudgePickle(tr, "")), tr
		}
		all, _ := judge(nil)
		some, tr := judge(p.RoutineCallee)
		counted += tr.Routine
		if all != some {
			t.Errorf("%s: verdict changes when routine calls are counted\nall calls:\n%s\nroutine counted:\n%s", name, all, some)
		}
	}
	if counted == 0 {
		t.Error("no fixture made a routine call; the test compares nothing")
	}
	t.Logf("%d routine calls counted", counted)
}

func TestRoutineCallee(t *testing.T) {
	p := Default()
	for _, tc := range []struct {
		module, name string
		want         bool
	}{
		{"datetime", "datetime", true},
		{"decimal", "Decimal", true},
		{"collections", "OrderedDict", true},
		{"builtins", "getattr", false},                    // judged by its arguments
		{"torch._tensor", "_rebuild_from_type_v2", false}, // calls an argument
		{"torch.storage", "_load_from_bytes", false},      // deserializes one
		{"os", "system", false},
		{"some.unknown", "thing", false},
	} {
		if got := p.RoutineCallee(tc.module, tc.name); got != tc.want {
			t.Errorf("RoutineCallee(%s, %s) = %v, want %v", tc.module, tc.name, got, tc.want)
		}
	}
}
