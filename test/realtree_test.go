package test

import (
	"context"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/scan"
)

// realTreePackages are Debian packages whose installed files nobody here
// wrote: source, JSON and gzipped JSON fixtures, Type 1 fonts, IDL and
// Fortran data, ONNX tensors, and the libraries' own test pickles (joblib
// 0.8-0.11 Z-files among them). .ci/run installs them.
var realTreePackages = []string{
	"python3-sklearn", "python3-scipy", "python3-matplotlib", "python3-joblib", "python3-torch",
	"python3-pandas", "python3-numpy", "python3-onnx", "python3-pip",
}

// TestRealTreeIsQuiet scans every file those packages install, as a gate
// on a Python installation would, and asserts what a user needs to keep
// the gate installed: no finding at medium or above (their pickles only
// use the libraries' own classes) and nothing that fails closed as
// unscannable. It also checks the old joblib Z-files are scanned, not
// skipped.
func TestRealTreeIsQuiet(t *testing.T) {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("SKIPPED: dpkg-query not found; this test reads the files of Debian packages")
	}
	var files []string
	for _, pkg := range realTreePackages {
		out, err := exec.Command("dpkg-query", "-L", pkg).Output()
		if err != nil {
			if !installable(pkg) {
				t.Logf("SKIPPED PART: %s is not installed and apt has no candidate for it; its files are left out", pkg)
				continue
			}
			t.Errorf("%s is not installed (.ci/run installs it: apt-get install %s): %v", pkg, pkg, err)
			continue
		}
		for _, f := range strings.Split(string(out), "\n") {
			if st, err := os.Lstat(f); err == nil && st.Mode().IsRegular() {
				files = append(files, f)
			}
		}
	}
	if t.Failed() {
		return
	}
	pol := policy.Default()
	rep, err := scan.Run(context.Background(), scan.Paths(files, "/"), scan.Options{Policy: pol, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	results := rep.Files
	scanned, zfiles := 0, 0
	for _, r := range results {
		if r.Status == finding.StatusScanned {
			scanned++
		}
		if slices.Contains(r.Formats, "joblib-zfile") {
			zfiles++
		}
		for _, f := range r.Findings {
			if f.Severity >= finding.SeverityMedium {
				t.Errorf("%s: %s (%s) %s %s", r.Path, f.RuleID, f.Severity, f.Member, f.Message)
			}
		}
		for _, u := range r.Unscanned {
			if pol.FailsOnUnscanned(u) {
				t.Errorf("%s: fails closed: %s %s %s", r.Path, u.RuleID, u.Member, u.Reason)
			}
		}
		if strings.Contains(r.Path, "joblib/test/data/") && (path.Ext(r.Path) == ".gz" || path.Ext(r.Path) == ".z") && r.Status != finding.StatusScanned {
			t.Errorf("%s: old joblib file %s, want scanned", r.Path, r.Status)
		}
	}
	if rep.Outcome != report.OutcomePass {
		t.Errorf("verdict %s: %s", rep.Outcome, rep.Verdict)
	}
	t.Logf("%d files from %d packages, %d scanned as models or data, %d joblib Z-files", len(files), len(realTreePackages), scanned, zfiles)
	if zfiles < 6 || scanned < 100 {
		t.Errorf("only %d files scanned and %d joblib Z-files: the tree is not what this test expects", scanned, zfiles)
	}
}

// installable reports whether apt knows a candidate version of pkg.
func installable(pkg string) bool {
	out, err := exec.Command("apt-cache", "policy", pkg).Output()
	return err == nil && strings.Contains(string(out), "Candidate:") && !strings.Contains(string(out), "Candidate: (none)")
}
