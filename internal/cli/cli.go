// Package cli implements the modelgate command line. It only parses flags,
// calls the core engine and renders reports; exit codes follow the contract
// 0 clean, 1 findings at or above --fail-on, 2 usage or scan error.
package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/modelgate/modelgate/internal/climain"
	"github.com/modelgate/modelgate/internal/features"
)

// usageErr is a usage error (exit 2).
func usageErr(format string, a ...any) error {
	return climain.Usage(format, a...)
}

// Run executes the command line of the modelgate binary, which has none
// of the optional features (see package features) and hands a run that
// needs one to modelgate-full, and returns the process exit code.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return RunWith(features.Set{}, args, stdin, stdout, stderr)
}

// RunWith executes the command line of a build with the given features.
func RunWith(feat features.Set, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	b := &build{features: feat, args: args, stdin: stdin, stdout: stdout, stderr: stderr}
	root := climain.Root("modelgate", "Scan ML model files for code that runs when they are loaded", "", stdout, stderr)
	root.AddCommand(newScanCmd(b), newRulesCmd(b), newVersionCmd(stdout), newHookCmd(stdout), newInventoryCmd(b), newVerifySignatureCmd(b))
	root.AddCommand(newActionCmd(b))
	root.AddCommand(newMLflowCmd(stdin, stdout, stderr))
	return climain.Execute(root, args, stdin, stdout, stderr)
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version (also: modelgate --version)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(stdout, "modelgate %s\n", climain.VersionString())
			return nil
		},
	}
}
