package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/modelgate/modelgate/internal/climain"
)

// mlflowBinary is the MLflow receiver's own executable (cmd/modelgate-mlflow,
// package internal/mlflowcli). It is apart so that its database drivers, S3
// client and metrics do not load on every scan.
const mlflowBinary = "modelgate-mlflow"

func newMLflowCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "mlflow serve|reconcile|audit|verify|jobs|register-webhook ...",
		Short: "Gate an MLflow model registry: webhook receiver, reconcile, verify (runs modelgate-mlflow)",
		Long: `Runs modelgate-mlflow, the MLflow model-registry gate, with the arguments that follow;
"modelgate mlflow --help" lists its commands. modelgate-mlflow is looked for beside this
modelgate binary first, then on PATH.`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := findHelper(mlflowBinary, "modelgate mlflow runs "+mlflowBinary)
			if err != nil {
				return climain.Exit(2, err)
			}
			return runHelper(cmd.Context(), path, args, stdin, stdout, stderr)
		},
	}
}

// findHelper locates a companion binary: beside the running modelgate (the
// same build, as release archives, the container image and go install lay
// them out), else on PATH. purpose says who needs it, for the error.
func findHelper(name, purpose string) (string, error) {
	file := name
	if runtime.GOOS == "windows" {
		file += ".exe"
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), file)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s, which is neither beside this modelgate binary nor on PATH; "+
		"install it with go install github.com/modelgate/modelgate/cmd/%s@<version> (release archives and the container image carry every modelgate binary)", purpose, name)
}

// runHelper runs the helper with args. With the process's own stdio it
// replaces this process where the OS can (so a service manager's signals,
// SIGKILL included, and the exit status reach the receiver itself);
// otherwise it runs it as a child, passes cancellation on as an interrupt
// and exits with its code.
func runHelper(ctx context.Context, path string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if stdin == io.Reader(os.Stdin) && stdout == io.Writer(os.Stdout) && stderr == io.Writer(os.Stderr) {
		if err := replaceProcess(path, args); !errors.Is(err, errCannotReplace) {
			return climain.Exit(2, fmt.Errorf("run %s: %w", path, err))
		}
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute // the receiver's shutdown grace is 30 s
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return climain.Exit(ee.ExitCode(), nil)
	}
	return climain.Exit(2, fmt.Errorf("run %s: %w", path, err))
}

// errCannotReplace: this OS cannot replace the process image.
var errCannotReplace = errors.New("cannot replace the process on this OS")
