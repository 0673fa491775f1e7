package test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCLIContract: usage errors exit 2 (including a bare modelgate and an
// unknown hook subcommand), --version, -q, --color and rules ID.
func TestCLIContract(t *testing.T) {
	evil := "fixtures/malicious/posix_system_reduce_p2.pkl"
	benign := "fixtures/benign/sklearn_logreg.pkl"
	for _, args := range [][]string{
		{}, {"hook"}, {"hook", "bogus"}, {"bogus"},
		{"scan", "--jobs", "0", benign}, {"scan", "--jobs", "-3", benign},
		{"scan", "--color", "sometimes", benign}, {"scan", "-q", "-v", benign},
		{"rules", "MG999"}, {"version", "extra"},
	} {
		if r := runModelgate(t, nil, args...); r.code != 2 {
			t.Errorf("modelgate %v: exit %d, want 2\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	v1, v2 := runModelgate(t, nil, "--version"), runModelgate(t, nil, "version")
	if v1.code != 0 || v1.stdout != v2.stdout || !strings.HasPrefix(v1.stdout, "modelgate ") {
		t.Errorf("--version %q, version %q", v1.stdout, v2.stdout)
	}
	q := runModelgate(t, nil, "scan", "-q", evil)
	if q.code != 1 || strings.Count(q.stdout, "\n") != 1 || !strings.HasPrefix(q.stdout, "FAIL: ") {
		t.Errorf("-q: exit %d, stdout %q", q.code, q.stdout)
	}
	if r := runModelgate(t, nil, "scan", "--color", "always", evil); !strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("--color always: no escape codes")
	}
	if r := runModelgate(t, nil, "scan", "--color", "never", evil); strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("--color never: escape codes")
	}
	r := runModelgate(t, nil, "rules", "--format", "json", "MG101")
	var doc struct {
		SchemaVersion string           `json:"schema_version"`
		Rules         []map[string]any `json:"rules"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("rules json: %v\n%s", err, r.stdout)
	}
	if doc.SchemaVersion == "" || len(doc.Rules) != 1 || doc.Rules[0]["id"] != "MG101" || doc.Rules[0]["severity"] != "critical" || doc.Rules[0]["ID"] != nil {
		t.Errorf("rules json: %+v", doc)
	}
}

// TestVersionFallback: a release version set with -ldflags -X wins; a
// build from a clone with VCS stamping shows its revision; without either
// the version says it is a development build rather than a bare "dev".
func TestVersionFallback(t *testing.T) {
	dir := t.TempDir()
	build := func(name string, args ...string) string {
		bin := filepath.Join(dir, name)
		cmd := exec.Command(goTool(), append(append([]string{"build", "-o", bin}, args...), "../cmd/modelgate")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %v: %v\n%s", args, err, out)
		}
		out, err := exec.Command(bin, "version").Output()
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	if got := build("release", "-buildvcs=false", "-ldflags", "-X github.com/modelgate/modelgate/internal/climain.Version=v9.8.7"); !strings.HasPrefix(got, "modelgate v9.8.7 (go") {
		t.Errorf("ldflags version: %q", got)
	}
	if got := build("novcs", "-buildvcs=false"); !strings.HasPrefix(got, "modelgate (devel) (go") {
		t.Errorf("no VCS: %q", got)
	}
	got := build("vcs", "-buildvcs=true")
	info, err := exec.Command(goTool(), "version", "-m", filepath.Join(dir, "vcs")).Output()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`vcs\.revision=([0-9a-f]+)`).FindSubmatch(info)
	if m == nil {
		t.Skip("SKIPPED: the go command recorded no VCS revision here (not a git checkout it can read)")
	}
	// The go command stamps a pseudo-version (v0.0.0-<time>-<rev>) when it
	// can, which is printed as is; otherwise the revision is.
	rev := string(m[1][:12])
	if !strings.HasPrefix(got, "modelgate devel-"+rev) && !regexp.MustCompile(`^modelgate v\S*-`+rev+`(\+dirty)? \(go`).MatchString(got) {
		t.Errorf("VCS build: %q, want the revision %s in it", got, rev)
	}
}
