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
// names instead of keeping them in the trace, and the events on results
// InertResult names instead of recording them, must leave every verdict as
// it was, on every real benign and malicious pickle.
func TestRoutineCallsDoNotChangeVerdicts(t *testing.T) {
	p := Default()
	counted, inert := int64(0), int64(0)
	for name, data := range fixturePickles(t) {
		judge := func(opts pickle.Options) (string, *pickle.Trace) {
			tr, err := pickle.Run(context.Background(), bytes.NewReader(data), 0, int64(len(data)), opts)
			if err != nil {
				t.Fatal(err)
			}
			return verdictText(p.JudgePickle(tr, "")), tr
		}
		all, _ := judge(pickle.Options{})
		some, tr := judge(pickle.Options{Routine: p.RoutineCallee})
		counted += tr.Routine
		if all != some {
			t.Errorf("%s: verdict changes when routine calls are counted\nall calls:\n%s\nroutine counted:\n%s", name, all, some)
		}
		fewer, tr := judge(pickle.Options{Routine: p.RoutineCallee, Inert: p.InertResult})
		inert += tr.Inert
		if all != fewer {
			t.Errorf("%s: verdict changes when events on inert results are counted\nall events:\n%s\ninert counted:\n%s", name, all, fewer)
		}
	}
	if counted == 0 || inert == 0 {
		t.Errorf("no fixture made a routine call (%d) or an event on an inert result (%d); the test compares nothing", counted, inert)
	}
	t.Logf("%d routine calls and %d events on inert results counted", counted, inert)
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

func TestInertResult(t *testing.T) {
	p := Default()
	for _, tc := range []struct {
		module, name string
		want         bool
	}{
		{"collections", "OrderedDict", true},
		{"torch.nn.modules.conv", "Conv2d", true},
		{"datetime", "datetime", true},
		// Routine or not, the judge reads what these return: a BUILD
		// state can replace what a partial calls.
		{"functools", "partial", false},
		{"builtins", "getattr", false},
		{"operator", "itemgetter", false},
		{"numpy.core", "_ufunc_reconstruct", false},
		{"os", "system", false},
		{"some.unknown", "thing", false},
	} {
		if got := p.InertResult(tc.module, tc.name); got != tc.want {
			t.Errorf("InertResult(%s, %s) = %v, want %v", tc.module, tc.name, got, tc.want)
		}
	}
}

// TestRoutineCallHandedAGlobalIsKept: an allowlisted constructor handed an
// unknown global may call it, which the policy judges from the call; the
// VM keeps such a call even when its callee is routine (a mutant of a
// numpy fixture showed the gap).
func TestRoutineCallHandedAGlobalIsKept(t *testing.T) {
	data := []byte("\x80\x02cnumpy.core.multiarray\n_reconstruct\ncevil.mod\nthing\nK\x00\x85C\x01b\x87R.")
	p := Default()
	if !p.RoutineCallee("numpy.core.multiarray", "_reconstruct") {
		t.Skip("_reconstruct is no routine callee; the case tests nothing")
	}
	var verdicts []string
	for _, opts := range []pickle.Options{{}, {Routine: p.RoutineCallee, Inert: p.InertResult}} {
		tr, err := pickle.Run(context.Background(), bytes.NewReader(data), 0, int64(len(data)), opts)
		if err != nil {
			t.Fatal(err)
		}
		verdicts = append(verdicts, verdictText(p.JudgePickle(tr, "")))
	}
	if verdicts[0] != verdicts[1] {
		t.Errorf("verdict changes when routine calls are counted\nall calls:\n%s\nroutine counted:\n%s", verdicts[0], verdicts[1])
	}
	if !strings.Contains(verdicts[1], "handed to numpy.core.multiarray._reconstruct") {
		t.Errorf("the handed-over global is not judged as such:\n%s", verdicts[1])
	}
}
