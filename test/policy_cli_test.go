package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runIn runs the built binary in dir.
func runIn(t *testing.T, dir string, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(modelgateBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "GIT_CEILING_DIRECTORIES="+filepath.Dir(dir))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run modelgate %v: %v", args, err)
	}
	return runResult{code: code, stdout: out.String(), stderr: errb.String()}
}

// policyTree is a project with a malicious pickle in models/ and a
// policy file at its top.
func policyTree(t *testing.T, policy string) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile("fixtures/malicious/posix_system_reduce_p2.pkl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "evil.pkl"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if policy != "" {
		if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(policy), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const suppressEvil = `suppressions:
  - path: models/evil.pkl
    reason: "Reviewed 2026-11-30 by Ana: test fixture, never loaded"
`

// TestSuppressionPathsRelativeToPolicyFile: the same policy accepts the
// same file from the project top and from a subdirectory.
func TestSuppressionPathsRelativeToPolicyFile(t *testing.T) {
	dir := policyTree(t, suppressEvil)
	for _, tc := range []struct{ cwd, policy, target string }{
		{dir, "policy.yaml", "models"},
		{filepath.Join(dir, "models"), "../policy.yaml", "."},
		{filepath.Join(dir, "models"), "../policy.yaml", "evil.pkl"},
	} {
		r := runIn(t, tc.cwd, "scan", "--policy", tc.policy, tc.target)
		if r.code != 0 || strings.Contains(r.stderr, "warning") {
			t.Errorf("from %s: exit %d\n%s%s", tc.cwd, r.code, r.stdout, r.stderr)
		}
	}
}

// TestSuppressionWarnings: an expired suppression and one whose path
// matches nothing are reported on stderr and in the JSON and SARIF
// reports, and the block message says the suppression expired.
func TestSuppressionWarnings(t *testing.T) {
	dir := policyTree(t, `suppressions:
  - path: models/evil.pkl
    reason: "Reviewed 2020-01-01 by Ana: fixture"
    expires: "2020-02-01"
  - path: modles/*.pkl
    reason: "Reviewed 2026-11-30 by Ana: typo in the path"
`)
	r := runIn(t, dir, "scan", "--policy", "policy.yaml", "--format", "json", "models")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (the expired suppression no longer applies)\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"suppression 1", "expired on 2020-02-01", "reported again", "suppression 2", "matches no scanned file"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	var doc struct {
		PolicyFile string `json:"policy_file"`
		Warnings   []struct{ Kind, Message string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.PolicyFile != "policy.yaml" || len(doc.Warnings) != 2 || doc.Warnings[0].Kind != "suppression-expired" || doc.Warnings[1].Kind != "suppression-unmatched" {
		t.Errorf("json policy_file %q warnings %+v", doc.PolicyFile, doc.Warnings)
	}
	r = runIn(t, dir, "scan", "--policy", "policy.yaml", "--format", "sarif", "models")
	var sarif struct {
		Runs []struct {
			Invocations []struct {
				Properties                     map[string]any `json:"properties"`
				ToolConfigurationNotifications []struct {
					Message struct{ Text string } `json:"message"`
				} `json:"toolConfigurationNotifications"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sarif); err != nil {
		t.Fatal(err)
	}
	inv := sarif.Runs[0].Invocations[0]
	if inv.Properties["policy_file"] != "policy.yaml" || len(inv.ToolConfigurationNotifications) != 2 ||
		!strings.Contains(inv.ToolConfigurationNotifications[0].Message.Text, "expired") {
		t.Errorf("sarif invocation %+v", inv)
	}
	r = runIn(t, dir, "scan", "--hook", "--policy", "policy.yaml", "models/evil.pkl")
	if !strings.Contains(r.stderr, "suppression expired on 2020-02-01") {
		t.Errorf("block message does not show the expired suppression:\n%s", r.stderr)
	}
}

// TestPolicyErrors: a typo names the file, the line, the key and the
// closest valid key; the suggested placeholder reason is refused.
func TestPolicyErrors(t *testing.T) {
	cases := []struct{ policy, want string }{
		{"strict: true\nsuppresions:\n  - path: a\n", `policy.yaml:2:1: unknown key "suppresions" (did you mean "suppressions"?)`},
		{"suppressions:\n  - path: a\n    reson: x\n", `policy.yaml:3:5: unknown key "reson" (did you mean "reason"?)`},
		{"limits:\n  max_file_byte: 1\n", `unknown key "max_file_byte" (did you mean "max_file_bytes"?)`},
		{"suppressions:\n  - path: models/evil.pkl\n    reason: \"Reviewed YYYY-MM-DD by NAME: why this file is safe\"\n", "is still the template"},
	}
	for _, tc := range cases {
		dir := policyTree(t, tc.policy)
		r := runIn(t, dir, "scan", "--policy", "policy.yaml", "models")
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("policy %q: exit %d, stderr %q, want %q", tc.policy, r.code, r.stderr, tc.want)
		}
	}
}

// TestConfigDiscovery: .modelgate.yaml at the repository top or in the
// scanned directory is used without --policy; --policy wins; --no-config
// turns discovery off; -v says which file was used.
func TestConfigDiscovery(t *testing.T) {
	dir := policyTree(t, "")
	if err := os.WriteFile(filepath.Join(dir, ".modelgate.yaml"), []byte(suppressEvil), 0o644); err != nil {
		t.Fatal(err)
	}
	// The scanned directory (not a repository).
	if r := runIn(t, filepath.Dir(dir), "scan", "-v", dir); r.code != 0 || !strings.Contains(r.stderr, "policy "+filepath.Join(filepath.Base(dir), ".modelgate.yaml")) {
		t.Errorf("scanned directory: exit %d\n%s", r.code, r.stderr)
	}
	if r := runIn(t, dir, "scan", "--no-config", "models"); r.code != 1 {
		t.Errorf("--no-config: exit %d, want 1", r.code)
	}
	if err := os.WriteFile(filepath.Join(dir, "strict.yaml"), []byte("strict: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runIn(t, dir, "scan", "--policy", "strict.yaml", "models"); r.code != 1 {
		t.Errorf("--policy wins: exit %d, want 1", r.code)
	}
	// The repository top, from a subdirectory.
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("SKIPPED: git not installed")
	}
	cmd := exec.Command("git", "init", "-q")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	r := runIn(t, filepath.Join(dir, "models"), "scan", "-v", "evil.pkl")
	if r.code != 0 || !strings.Contains(r.stderr, "policy "+filepath.Join(dir, ".modelgate.yaml")) {
		t.Errorf("repository top: exit %d\n%s", r.code, r.stderr)
	}
}
