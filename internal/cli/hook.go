package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/modelgate/modelgate/hooks"
	"github.com/modelgate/modelgate/hooks/gitsource"
)

func newHookCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hook",
		Short: "Install or remove native git hooks (pre-commit, pre-merge-commit)",
		// "modelgate hook" and "modelgate hook bogus" are usage errors.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErr("hook needs a subcommand: install or uninstall (see modelgate hook --help)")
		},
	}
	var opts hooks.Options
	var policyFile, failOn string
	install := &cobra.Command{
		Use:   "install",
		Short: "Install git hooks that scan staged model files",
		Long: `Install pre-commit and pre-merge-commit hooks into the repository's
hooks directory (core.hooksPath is honoured). They run this modelgate binary
on the staged content and block the commit (or a merge that commits without
conflicts) when a model is unsafe or cannot be scanned. An existing hook
that modelgate did not write is left alone unless --chain (keep it and run
it first) or --force (replace it).`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			layout, err := gitsource.Locate(".")
			if err != nil {
				return usageErr("%v", err)
			}
			if opts.Force && opts.Chain {
				return usageErr("--force and --chain cannot be combined")
			}
			bin, err := os.Executable()
			if err != nil {
				return usageErr("find the modelgate binary: %v", err)
			}
			opts.Binary = bin
			opts.Args = nil
			if policyFile != "" {
				p, err := repoRelative(layout, policyFile)
				if err != nil {
					return usageErr("--policy: %v", err)
				}
				opts.Args = append(opts.Args, "--policy", p)
			}
			if failOn != "" {
				opts.Args = append(opts.Args, "--fail-on", failOn)
			}
			paths, err := hooks.Install(layout, opts)
			for _, p := range paths {
				fmt.Fprintf(stdout, "modelgate: installed %s\n", p)
			}
			if err != nil {
				return usageErr("%v", err)
			}
			return nil
		},
	}
	install.Flags().BoolVar(&opts.Force, "force", false, "replace hooks modelgate did not write (kept as <hook>.modelgate-backup)")
	install.Flags().BoolVar(&opts.Chain, "chain", false, "keep existing hooks and run them before modelgate")
	install.Flags().StringVar(&policyFile, "policy", "", "policy file the hook passes to scan (a path inside the repository stays relative to its top)")
	install.Flags().StringVar(&failOn, "fail-on", "", "--fail-on value the hook passes to scan (default high)")

	uninstall := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove modelgate's hooks (chained hooks are put back)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			layout, err := gitsource.Locate(".")
			if err != nil {
				return usageErr("%v", err)
			}
			paths, err := hooks.Uninstall(layout)
			for _, p := range paths {
				fmt.Fprintf(stdout, "modelgate: removed %s\n", p)
			}
			if err != nil {
				return usageErr("%v", err)
			}
			return nil
		},
	}
	cmd.AddCommand(install, uninstall)
	return cmd
}

// repoRelative keeps a policy file inside the working tree relative to its
// top (where git runs hooks), so the hook works in every clone; other
// paths become absolute.
func repoRelative(layout gitsource.Layout, p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", err
	}
	if layout.WorkTree != "" {
		if rel, err := filepath.Rel(layout.WorkTree, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return filepath.ToSlash(rel), nil
		}
	}
	return abs, nil
}
