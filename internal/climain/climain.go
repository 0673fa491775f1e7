// Package climain runs a cobra command tree under the command-line contract
// every modelgate binary keeps: exit 0 clean, 1 findings at or above the
// fail threshold (or a failed check), 2 usage error or unscannable input;
// SIGINT and SIGTERM cancel the command's context. It is apart from package
// cli so that the MLflow receiver's binary shares the contract without
// linking the scanner's adapters, and the scanner without the receiver's.
package climain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
)

// Version is set at build time with
// -ldflags "-X github.com/modelgate/modelgate/internal/climain.Version=v1.2.3";
// see VersionString for what is printed without it.
var Version = "dev"

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Exit makes the command exit with code, printing err unless it is nil.
func Exit(code int, err error) error {
	return &exitError{code: code, err: err}
}

// Usage is a usage error: the command prints it and exits 2.
func Usage(format string, a ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, a...)}
}

// Root is a binary's root command: --version prints name and
// VersionString, and a bare invocation prints the help and is a usage
// error (exit 2), not a success. Callers add the subcommands.
func Root(name, short, long string, stdout, stderr io.Writer) *cobra.Command {
	var showVersion bool
	root := &cobra.Command{
		Use:   name,
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if showVersion {
				fmt.Fprintf(stdout, "%s %s\n", name, VersionString())
				return nil
			}
			cmd.SetOut(stderr)
			_ = cmd.Help()
			return Usage("a command is required")
		},
	}
	// A flag of our own rather than cobra's Version field: a custom version
	// template would link text/template, whose reflection keeps every
	// exported method in the binary (8 MB).
	root.Flags().BoolVar(&showVersion, "version", false, "print the version and exit")
	return root
}

// Execute runs root with args and returns the process exit code. An error
// that carries no code (see Exit) exits 2: whatever stopped the command, the
// input was not judged.
func Execute(root *cobra.Command, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// SIGTERM (CI cancelling a job, systemd stopping a service) cancels
	// like Ctrl-C, so child processes are stopped and spool files removed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root.SilenceUsage, root.SilenceErrors = true, true
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "modelgate:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "modelgate:", err)
	return 2
}

// VersionString is the release version set with -ldflags (see Version),
// else the module version the go command recorded (go install ...@v1.2.3
// or @<commit>), else the VCS revision of a build from a clone, else
// "(devel)"; with the Go version that built it.
func VersionString() string {
	v := Version
	bi, ok := debug.ReadBuildInfo()
	if v == "dev" && ok {
		switch {
		case bi.Main.Version != "" && bi.Main.Version != "(devel)":
			v = bi.Main.Version
		default:
			v = "(devel)"
			var rev, dirty string
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					if s.Value == "true" {
						dirty = "-dirty"
					}
				}
			}
			if rev != "" {
				v = "devel-" + rev[:min(12, len(rev))] + dirty
			}
		}
	}
	return fmt.Sprintf("%s (%s)", v, runtime.Version())
}
