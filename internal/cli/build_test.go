//go:build unix

package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/internal/features/full"
)

// TestHandOff: the modelgate binary, which links neither plugins nor
// signature verification, runs an invocation that needs one of them in
// modelgate-full, unchanged, and exits with its code; every other
// invocation stays in process. The helper here is a script on PATH and
// stdio are buffers, so it runs as a child; test/handoff_test.go execs the
// real binaries.
func TestHandOff(t *testing.T) {
	helperOnPath(t, fullBinary, "echo \"full: $*\"\necho \"stdin: $(cat)\"\nexit 3")
	models := t.TempDir()
	if err := os.WriteFile(filepath.Join(models, "notes.txt"), []byte("plain text\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	signed := filepath.Join(models, "signed.yaml")
	if err := os.WriteFile(signed, []byte("signatures:\n  - path: models/*\n    public_key: key.pem\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(models, "key.pem"), []byte("read by modelgate-full\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	withPlugin := filepath.Join(models, "plugins.yaml")
	if err := os.WriteFile(withPlugin, []byte("plugins:\n  - path: ./detector\n    sha256: "+strings.Repeat("ab", 32)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		handOff bool
	}{
		{"plain scan", []string{"scan", "--no-config", models}, false},
		{"plugin flag", []string{"scan", "--plugin", "./detector", "-q", models}, true},
		{"policy with plugins", []string{"scan", "--policy", withPlugin, models}, true},
		{"policy requiring signatures", []string{"scan", "--policy", signed, models}, true},
		{"inventory requiring signatures", []string{"inventory", "--policy", signed, models}, true},
		{"plugin rules", []string{"rules", "--plugin", "./detector"}, true},
		{"built-in rules", []string{"rules", "MG101"}, false},
		{"verify-signature", []string{"verify-signature", "--public-key", "k.pem", models}, true},
		{"action", []string{"action"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(tt.args, strings.NewReader("in"), &stdout, &stderr)
			handed := strings.HasPrefix(stdout.String(), "full: ")
			if handed != tt.handOff {
				t.Fatalf("handed to %s: %v, want %v (exit %d)\n%s%s", fullBinary, handed, tt.handOff, code, stdout.String(), stderr.String())
			}
			if !tt.handOff {
				if code != 0 {
					t.Errorf("exit %d, want 0\n%s", code, stderr.String())
				}
				return
			}
			if want := "full: " + strings.Join(tt.args, " ") + "\nstdin: in\n"; stdout.String() != want {
				t.Errorf("stdout %q, want %q", stdout.String(), want)
			}
			if code != 3 {
				t.Errorf("exit %d, want modelgate-full's 3", code)
			}
		})
	}
}

// TestFullBuildNeverHandsOff: with every feature, the same invocations
// run in process even when a modelgate-full is on PATH (no loop).
func TestFullBuildNeverHandsOff(t *testing.T) {
	helperOnPath(t, fullBinary, "echo handed off\nexit 3")
	var stdout, stderr bytes.Buffer
	code := RunWith(full.New(), []string{"verify-signature", "--public-key", "missing.pem", t.TempDir()}, nil, &stdout, &stderr)
	if code != 2 || strings.Contains(stdout.String(), "handed off") || !strings.Contains(stderr.String(), "--public-key") {
		t.Fatalf("exit %d, stdout %q, stderr %q: want verify-signature's own usage error", code, stdout.String(), stderr.String())
	}
}

func TestHandOffWithoutTheFullBinaryIsAUsageError(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var stdout, stderr bytes.Buffer
	if code := Run([]string{"scan", "--plugin", "./detector", "."}, nil, &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	msg := stderr.String()
	if !strings.Contains(msg, "a scan with detector plugins needs modelgate-full") || !strings.Contains(msg, "go install github.com/modelgate/modelgate/cmd/modelgate-full@") {
		t.Errorf("stderr %q does not say what needs modelgate-full and how to install it", msg)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
}
