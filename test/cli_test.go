package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/report/cyclonedx/cyclonedxtest"
	"github.com/modelgate/modelgate/core/report/sarif/sariftest"
)

type runResult struct {
	code           int
	stdout, stderr string
}

func runModelgate(t *testing.T, stdin []byte, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(modelgateBinary(t), args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
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

// TestCLIExitCodes pins the exit-code contract: 0 clean, 1 findings at or
// above --fail-on, 2 usage errors and unscannable content under a
// fail-closed policy.
func TestCLIExitCodes(t *testing.T) {
	malicious := "fixtures/malicious/posix_system_reduce_p2.pkl"
	benign := "fixtures/benign/sklearn_logreg.pkl"
	encrypted := "fixtures/malicious/zip_encrypted_pickle.zip"
	pickleBytes, err := os.ReadFile(malicious)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		stdin []byte
		args  []string
		want  int
		check func(t *testing.T, r runResult)
	}{
		{name: "benign file", args: []string{"scan", benign}, want: 0},
		{name: "benign directory", args: []string{"scan", "fixtures/benign"}, want: 0},
		{name: "malicious file", args: []string{"scan", malicious}, want: 1, check: func(t *testing.T, r runResult) {
			if !strings.Contains(r.stdout, "MG101") || !strings.Contains(r.stdout, "posix.system") {
				t.Errorf("text report lacks the rule or the call:\n%s", r.stdout)
			}
		}},
		{name: "fail-on never", args: []string{"scan", "--fail-on", "never", malicious}, want: 0},
		{name: "fail-on critical still fails on critical", args: []string{"scan", "--fail-on", "critical", malicious}, want: 1},
		{name: "stdin", stdin: pickleBytes, args: []string{"scan", "-"}, want: 1},
		{name: "encrypted member fails closed", args: []string{"scan", encrypted}, want: 2, check: func(t *testing.T, r runResult) {
			if !strings.Contains(r.stdout, "MG903") {
				t.Errorf("not-scanned rule missing:\n%s", r.stdout)
			}
		}},
		{name: "findings win over unscanned", args: []string{"scan", encrypted, malicious}, want: 1},
		{name: "missing path", args: []string{"scan", "fixtures/does-not-exist"}, want: 2},
		{name: "bad fail-on", args: []string{"scan", "--fail-on", "urgent", benign}, want: 2},
		{name: "bad format", args: []string{"scan", "--format", "xml", benign}, want: 2},
		{name: "unknown flag", args: []string{"scan", "--frobnicate", benign}, want: 2},
		{name: "no paths", args: []string{"scan"}, want: 2},
		{name: "stdin twice", stdin: pickleBytes, args: []string{"scan", "-", "-"}, want: 2},
		{name: "stdin-name without stdin", args: []string{"scan", "--stdin-name", "model.bin", benign}, want: 2},
		// The same unknown bytes fail closed as a file called model.bin
		// and as stdin named model.bin, and pass as anonymous stdin.
		{name: "stdin named like a model fails closed", stdin: bytes.Repeat([]byte{1, 2, 3, 0xff}, 64), args: []string{"scan", "--stdin-name", "model.bin", "-"}, want: 2},
		{name: "anonymous stdin of unknown bytes", stdin: bytes.Repeat([]byte{1, 2, 3, 0xff}, 64), args: []string{"scan", "-"}, want: 0},
		{name: "jobs 0", args: []string{"scan", "--jobs", "0", benign}, want: 2},
		{name: "jobs negative", args: []string{"scan", "--jobs", "-3", benign}, want: 2},
		{name: "jobs 3", args: []string{"scan", "--jobs", "3", "fixtures/benign"}, want: 0},
		{name: "rules", args: []string{"rules", "--format", "json"}, want: 0, check: func(t *testing.T, r runResult) {
			var v any
			if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
				t.Errorf("rules --format json is not JSON: %v", err)
			}
		}},
		{name: "version", args: []string{"version"}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runModelgate(t, tt.stdin, tt.args...)
			if r.code != tt.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.want, r.stdout, r.stderr)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// TestCLISARIFValid validates the SARIF the CLI writes for every fixture
// directory against the official SARIF 2.1.0 schemas and GitHub's rules.
func TestCLISARIFValid(t *testing.T) {
	for _, dir := range []string{"fixtures/benign", "fixtures/malicious"} {
		t.Run(dir, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.sarif")
			r := runModelgate(t, nil, "scan", "--format", "sarif", "--root", "fixtures", "-o", out, dir)
			if r.code == 2 && !strings.Contains(dir, "malicious") {
				t.Fatalf("exit 2 on %s: %s", dir, r.stderr)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			sariftest.Validate(t, data)
			var log struct {
				Runs []struct {
					Results []struct {
						RuleID    string `json:"ruleId"`
						Locations []struct {
							PhysicalLocation struct {
								ArtifactLocation struct {
									URI string `json:"uri"`
								} `json:"artifactLocation"`
							} `json:"physicalLocation"`
						} `json:"locations"`
					} `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal(data, &log); err != nil {
				t.Fatal(err)
			}
			n := len(log.Runs[0].Results)
			if strings.Contains(dir, "malicious") && n == 0 {
				t.Fatal("no results for the malicious fixtures")
			}
			for _, res := range log.Runs[0].Results {
				uri := res.Locations[0].PhysicalLocation.ArtifactLocation.URI
				if strings.HasPrefix(uri, "/") || strings.HasPrefix(uri, "fixtures/") {
					t.Errorf("uri %q is not relative to --root", uri)
				}
			}
		})
	}
}

// TestCLIJSONReport checks the JSON report's documented top-level shape.
func TestCLIJSONReport(t *testing.T) {
	r := runModelgate(t, nil, "scan", "--format", "json", "fixtures/malicious/builtins_eval.pkl")
	if r.code != 1 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	for _, key := range []string{"schema_version", "files", "summary"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("JSON report lacks %q: keys %v", key, keys(doc))
		}
	}
}

// TestCLIPolicySuppression shows a reviewed finding suppressed by a policy
// file (reason mandatory) no longer fails the gate, and a suppression
// without a reason is a usage error. Suppression paths are relative to the
// policy file's directory (a temporary one here), so they start with **/.
func TestCLIPolicySuppression(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "ok.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte(`suppressions:
  - path: "**/malicious/builtins_eval.pkl"
    rule: MG101
    reason: "test: reviewed"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`suppressions:
  - path: "malicious/builtins_eval.pkl"
    rule: MG101
`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runModelgate(t, nil, "scan", "--root", "fixtures", "--policy", good, "fixtures/malicious/builtins_eval.pkl")
	if r.code != 0 {
		t.Errorf("suppressed finding: exit %d\n%s", r.code, r.stdout)
	}
	unscanned := filepath.Join(dir, "unscanned.yaml")
	if err := os.WriteFile(unscanned, []byte(`suppressions:
  - path: "**/malicious/zip_encrypted_pickle.zip"
    rule: MG903
    reason: "test: vendor archive reviewed offline"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runModelgate(t, nil, "scan", "--root", "fixtures", "--policy", unscanned, "fixtures/malicious/zip_encrypted_pickle.zip")
	if r.code != 0 || !strings.Contains(r.stdout, "suppressed: test: vendor archive") {
		t.Errorf("suppressed not-scanned item: exit %d\n%s", r.code, r.stdout)
	}
	r = runModelgate(t, nil, "scan", "--root", "fixtures", "--policy", bad, "fixtures/malicious/builtins_eval.pkl")
	if r.code != 2 {
		t.Errorf("suppression without reason: exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestCLIAllReportsNameEveryDetection scans the whole fixture tree once per
// output format and checks that every malicious fixture is named, with a
// rule, in the text, JSON and SARIF reports alike: each format row works
// end to end through the CLI, not only through the engine.
func TestCLIAllReportsNameEveryDetection(t *testing.T) {
	var malicious []string
	for _, fx := range loadManifest(t) {
		if fx.Label == "malicious" && !scannerDoS[fx.File] {
			malicious = append(malicious, fx.File)
		}
	}
	reported := map[string]func(out []byte) map[string]bool{
		"text": func(out []byte) map[string]bool {
			got := map[string]bool{}
			for _, line := range strings.Split(string(out), "\n") {
				if line != "" && line[0] != ' ' {
					got[strings.Fields(line)[0]] = true
				}
			}
			return got
		},
		"json": func(out []byte) map[string]bool {
			var doc struct {
				Files []struct {
					Path      string            `json:"path"`
					Findings  []json.RawMessage `json:"findings"`
					Unscanned []json.RawMessage `json:"unscanned"`
				} `json:"files"`
			}
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatalf("json: %v", err)
			}
			got := map[string]bool{}
			for _, f := range doc.Files {
				if len(f.Findings)+len(f.Unscanned) > 0 {
					got[f.Path] = true
				}
			}
			return got
		},
		"sarif": func(out []byte) map[string]bool {
			var log struct {
				Runs []struct {
					Results []struct {
						Locations []struct {
							PhysicalLocation struct {
								ArtifactLocation struct {
									URI string `json:"uri"`
								} `json:"artifactLocation"`
							} `json:"physicalLocation"`
						} `json:"locations"`
					} `json:"results"`
					Invocations []struct {
						Notifications []struct {
							Locations []struct {
								PhysicalLocation struct {
									ArtifactLocation struct {
										URI string `json:"uri"`
									} `json:"artifactLocation"`
								} `json:"physicalLocation"`
							} `json:"locations"`
						} `json:"toolExecutionNotifications"`
					} `json:"invocations"`
				} `json:"runs"`
			}
			if err := json.Unmarshal(out, &log); err != nil {
				t.Fatalf("sarif: %v", err)
			}
			got := map[string]bool{}
			for _, r := range log.Runs[0].Results {
				got[unescapeURI(r.Locations[0].PhysicalLocation.ArtifactLocation.URI)] = true
			}
			for _, inv := range log.Runs[0].Invocations {
				for _, n := range inv.Notifications {
					for _, l := range n.Locations {
						got[unescapeURI(l.PhysicalLocation.ArtifactLocation.URI)] = true
					}
				}
			}
			return got
		},
	}
	for format, parse := range reported {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "report")
			r := runModelgate(t, nil, "scan", "--format", format, "--root", "fixtures", "-o", out, "fixtures/malicious")
			if r.code != 1 {
				t.Fatalf("exit %d, want 1: %s", r.code, r.stderr)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			got := parse(data)
			missing := 0
			for _, f := range malicious {
				if !got[f] {
					missing++
					t.Errorf("%s report does not name %s", format, f)
				}
			}
			t.Logf("%s: %d/%d malicious fixtures named", format, len(malicious)-missing, len(malicious))
		})
	}
}

func unescapeURI(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// TestCLIInventoryValidBOM: the BOM of every fixture validates against the
// official CycloneDX 1.6 and 1.7 schemas, names each malicious fixture as
// failing, and exits 0 unless --gate is given.
func TestCLIInventoryValidBOM(t *testing.T) {
	for _, v := range []string{"1.6", "1.7"} {
		r := runModelgate(t, nil, "inventory", "--cyclonedx-version", v, "--deterministic", "fixtures/benign", "fixtures/malicious")
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s", v, r.code, r.stderr)
		}
		cyclonedxtest.Validate(t, v, []byte(r.stdout))
		var bom struct {
			Components []struct {
				BOMRef     string                         `json:"bom-ref"`
				Properties []struct{ Name, Value string } `json:"properties"`
			} `json:"components"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &bom); err != nil {
			t.Fatal(err)
		}
		verdicts := map[string]string{}
		for _, c := range bom.Components {
			for _, p := range c.Properties {
				if p.Name == "modelgate:verdict" {
					verdicts[c.BOMRef] = p.Value
				}
			}
		}
		if got := verdicts["model:fixtures/malicious/posix_system_reduce_p2.pkl"]; got != "fail" {
			t.Errorf("%s: malicious pickle verdict %q", v, got)
		}
		if got := verdicts["model:fixtures/benign/sklearn_logreg.pkl"]; got != "pass" {
			t.Errorf("%s: benign pickle verdict %q", v, got)
		}
		if len(bom.Components) < 100 {
			t.Errorf("%s: only %d components", v, len(bom.Components))
		}
	}
	if r := runModelgate(t, nil, "inventory", "--gate", "fixtures/malicious/posix_system_reduce_p2.pkl"); r.code != 1 {
		t.Errorf("inventory --gate on a malicious file: exit %d", r.code)
	}
}

// TestCLIVerifySignature pins verify-signature's exit codes on the
// reference signer's vectors: 0 holds, 1 does not, 2 usage.
func TestCLIVerifySignature(t *testing.T) {
	v := filepath.Join("..", "..", "shared", "reference", "model-signing-vectors")
	if _, err := os.Stat(v); err != nil {
		t.Fatalf("model-signing vectors missing: %v", err)
	}
	key := filepath.Join(v, "keys", "signing-key-pub.pem")
	changed := t.TempDir()
	for _, name := range []string{"model.sig", "signme-1", "signme-2", "ignore-me"} {
		b, err := os.ReadFile(filepath.Join(v, "v1.1.0-elliptic-key", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "signme-2" {
			b = append(b, '!')
		}
		if err := os.WriteFile(filepath.Join(changed, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		args []string
		want int
		out  string
	}{
		{"public key", []string{"--public-key", key, filepath.Join(v, "v1.1.0-elliptic-key")}, 0, "verified"},
		{"single-file model", []string{"--public-key", key, filepath.Join(v, "v0.3.1-elliptic-key", "signme-1")}, 0, "verified"},
		{"certificate chain", []string{"--certificate-chain", filepath.Join(v, "keys", "ca-cert.pem"), filepath.Join(v, "v1.1.0-certificate")}, 0, "verified"},
		{"sigstore keyless", []string{"--identity", "stefanb@us.ibm.com", "--oidc-issuer", "https://sigstore.verify.ibm.com/oauth2",
			"--trusted-root", filepath.Join(v, "trusted-root-public-good.json"), filepath.Join(v, "v1.1.0-sigstore")}, 0, "stefanb@us.ibm.com"},
		{"unrecorded ignore without --ignore-paths", []string{"--public-key", key, filepath.Join(v, "v1.0.1-elliptic-key")}, 1, "ignore-me"},
		{"unrecorded ignore with --ignore-paths", []string{"--public-key", key, "--ignore-paths", "ignore-me", filepath.Join(v, "v1.0.1-elliptic-key")}, 0, "verified"},
		{"changed file", []string{"--public-key", key, changed}, 1, "changed"},
		{"no trust", []string{filepath.Join(v, "v1.1.0-elliptic-key")}, 2, ""},
		{"two trusts", []string{"--public-key", key, "--certificate-chain", key, filepath.Join(v, "v1.1.0-elliptic-key")}, 2, ""},
		{"no model", []string{"--public-key", key, filepath.Join(v, "nosuch")}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runModelgate(t, nil, append([]string{"verify-signature"}, tt.args...)...)
			if r.code != tt.want {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tt.want, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.out) {
				t.Errorf("output lacks %q:\n%s", tt.out, r.stdout)
			}
		})
	}
}
