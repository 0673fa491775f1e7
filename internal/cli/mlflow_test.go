//go:build unix

package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMLflowRunsTheReceiverBinary: `modelgate mlflow ARGS` hands ARGS,
// flags included, to modelgate-mlflow and exits with its code. Here the
// helper is a shell script on PATH and stdio are buffers, so it runs as a
// child; mlflowplugin's process tests cover the exec in place with the real
// binary beside modelgate.
func TestMLflowRunsTheReceiverBinary(t *testing.T) {
	helperOnPath(t, mlflowBinary, "echo \"args: $*\"\necho \"stdin: $(cat)\"\necho oops >&2\nexit 3")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"mlflow", "jobs", "--state", "failed"}, "args: jobs --state failed\n"},
		{[]string{"mlflow", "--help"}, "args: --help\n"},
		{[]string{"mlflow"}, "args: \n"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := Run(tt.args, strings.NewReader("in"), &stdout, &stderr)
		if code != 3 {
			t.Errorf("%v: exit %d, want the helper's 3 (stderr %q)", tt.args, code, stderr.String())
		}
		if want := tt.want + "stdin: in\n"; stdout.String() != want {
			t.Errorf("%v: stdout %q, want %q", tt.args, stdout.String(), want)
		}
		if stderr.String() != "oops\n" {
			t.Errorf("%v: stderr %q, want the helper's own", tt.args, stderr.String())
		}
	}
}

// helperOnPath puts a shell script named name, running body, first on PATH
// for the test.
func helperOnPath(t *testing.T, name, body string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func TestMLflowWithoutTheReceiverBinaryIsAUsageError(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var stdout, stderr bytes.Buffer
	if code := Run([]string{"mlflow", "serve"}, nil, &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "go install github.com/modelgate/modelgate/cmd/modelgate-mlflow@") {
		t.Errorf("stderr %q does not say how to install modelgate-mlflow", stderr.String())
	}
}
