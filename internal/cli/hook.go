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
		Short: "Install or remove the native git pre-commit hook",
	}
	var opts hooks.Options
	var policyFile, failOn string
	install := &cobra.Command{
		Use:   "install",
		Short: "Install a pre-commit hook that scans staged model files",
		Long: `Install a pre-commit hook into the repository's hooks directory
(core.hooksPath is honoured). The hook runs this modelgate binary on the
staged content and blocks the commit when a model is unsafe or cannot be
scanned. An existing hook that modelgate did not write is left alone
unless --chain (keep it and run it first) or --force (replace it).`,
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
			path, err := hooks.Install(layout, opts)
			if err != nil {
				return usageErr("%v", err)
			}
			fmt.Fprintf(stdout, "modelgate: pre-commit hook installed at %s\n", path)
			return nil
		},
	}
	install.Flags().BoolVar(&opts.Force, "force", false, "replace a pre-commit hook modelgate did not write (kept as pre-commit.modelgate-backup)")
	install.Flags().BoolVar(&opts.Chain, "chain", false, "keep an existing pre-commit hook and run it before modelgate")
	install.Flags().StringVar(&policyFile, "policy", "", "policy file the hook passes to scan (a path inside the repository stays relative to its top)")
	install.Flags().StringVar(&failOn, "fail-on", "", "--fail-on value the hook passes to scan (default high)")

	uninstall := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove modelgate's pre-commit hook (a chained hook is put back)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			layout, err := gitsource.Locate(".")
			if err != nil {
				return usageErr("%v", err)
			}
			path, err := hooks.Uninstall(layout)
			if err != nil {
				return usageErr("%v", err)
			}
			fmt.Fprintf(stdout, "modelgate: pre-commit hook removed from %s\n", path)
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
