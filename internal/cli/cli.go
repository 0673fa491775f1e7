// Package cli implements the modelgate command line. It only parses flags,
// calls the core engine and renders reports; exit codes follow the contract
// 0 clean, 1 findings at or above --fail-on, 2 usage or scan error.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=v1.2.3";
// see versionString for what is printed without it.
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

func usageErr(format string, a ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, a...)}
}

// Run executes the command line and returns the process exit code.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// SIGTERM (CI cancelling a job) cancels like Ctrl-C, so plugin
	// processes are stopped before exit.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var showVersion bool
	root := &cobra.Command{
		Use:           "modelgate",
		Short:         "Scan ML model files for code that runs when they are loaded",
		SilenceUsage:  true,
		SilenceErrors: true,
		// A bare "modelgate" is a usage error (exit 2), not a success.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if showVersion {
				fmt.Fprintf(stdout, "modelgate %s\n", versionString())
				return nil
			}
			cmd.SetOut(stderr)
			_ = cmd.Help()
			return usageErr("a command is required")
		},
	}
	// A flag of our own rather than cobra's Version field: a custom version
	// template would link text/template, whose reflection keeps every
	// exported method in the binary (8 MB).
	root.Flags().BoolVar(&showVersion, "version", false, "print the version and exit")
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newScanCmd(stdin, stdout, stderr), newRulesCmd(stdout), newVersionCmd(stdout), newHookCmd(stdout), newInventoryCmd(stdin, stdout, stderr), newVerifySignatureCmd(stdout))
	root.AddCommand(newActionCmd(stdout))
	root.AddCommand(newMLflowCmd(stdout, stderr))
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

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version (also: modelgate --version)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(stdout, "modelgate %s\n", versionString())
			return nil
		},
	}
}
