package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/internal/features/full"
)

// `modelgate action` (in modelgate-full, see TestHandOff) is wired to the action package and maps its verdict
// to the exit-code contract.
func TestActionCommandExitCodes(t *testing.T) {
	evil, err := os.ReadFile(filepath.Join("..", "..", "test", "fixtures", "malicious", "posix_system_reduce_p2.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		path  string
		model []byte
		want  int
	}{
		{"malicious model", "models", evil, 1},
		{"path naming nothing", "missing", nil, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ws := t.TempDir()
			if tt.model != nil {
				if err := os.MkdirAll(filepath.Join(ws, "models"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(ws, "models", "m.pkl"), tt.model, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(t.TempDir(), "output")
			for k, v := range map[string]string{"GITHUB_WORKSPACE": ws, "GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": "", "RUNNER_TEMP": t.TempDir(),
				"INPUT_PATH": tt.path, "INPUT_UPLOAD-SARIF": "false", "GITHUB_EVENT_NAME": "workflow_dispatch", "GITHUB_EVENT_PATH": ""} {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			if got := RunWith(full.New(), []string{"action"}, nil, &stdout, &stderr); got != tt.want {
				t.Fatalf("exit %d, want %d\n%s%s", got, tt.want, stdout.String(), stderr.String())
			}
			data, _ := os.ReadFile(out)
			if !strings.Contains(string(data), "verdict<<") {
				t.Errorf("no verdict output:\n%s", data)
			}
		})
	}
}
