package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// TestScanJobsAgree scans the same staged files, and the same directory,
// with one and with three workers through the whole command and wants the
// same report. CI runs it under the race detector (.ci/run): the git scan
// and the engine each run a worker pool.
func TestScanJobsAgree(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("SKIPPED: git not installed")
	}
	fixtures, err := filepath.Glob("../../test/fixtures/malicious/*.pkl")
	if err != nil || len(fixtures) < 4 {
		t.Fatalf("fixtures: %v (%d)", err, len(fixtures))
	}
	benign, _ := filepath.Glob("../../test/fixtures/benign/*.pkl")
	dir := t.TempDir()
	for _, f := range append(fixtures[:min(12, len(fixtures))], benign[:min(12, len(benign))]...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	t.Chdir(dir)
	scan := func(args ...string) any {
		var out bytes.Buffer
		if code := Run(append([]string{"scan", "--format", "json", "--no-config"}, args...), nil, &out, io.Discard); code != 1 {
			t.Fatalf("%v: exit %d, want 1", args, code)
		}
		var doc map[string]any
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		return []any{doc["files"], doc["summary"], doc["verdict"]}
	}
	for _, mode := range [][]string{{"--staged"}, {"."}} {
		one := scan(append(mode, "--jobs", "1")...)
		three := scan(append(mode, "--jobs", "3")...)
		if !reflect.DeepEqual(one, three) {
			t.Errorf("%v: reports differ between --jobs 1 and --jobs 3", mode)
		}
	}
}
