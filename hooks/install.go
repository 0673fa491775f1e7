// Package hooks puts modelgate at the commit stage: it installs and removes
// native git hooks (pre-commit, pre-merge-commit) and words the message shown when a commit is
// blocked. Reading what is staged lives in hooks/gitsource.
package hooks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/modelgate/modelgate/hooks/gitsource"
)

// marker identifies hooks written by modelgate, so that they can be
// replaced and removed while anything else is left alone.
const marker = "# managed by modelgate"

// chainedSuffix names the previous hook kept by --chain, next to ours.
const chainedSuffix = ".modelgate-chained"

// Options configures Install.
type Options struct {
	// Binary is the modelgate executable the hook runs (absolute path).
	Binary string
	// Args are extra scan flags, e.g. --policy FILE.
	Args []string
	// Force replaces a hook modelgate did not write (it is kept as
	// <name>.modelgate-backup).
	Force bool
	// Chain keeps a hook modelgate did not write and runs it first.
	Chain bool
}

// ErrForeignHook is returned when a hook modelgate did not write is in the
// way.
var ErrForeignHook = errors.New("a hook that modelgate did not write is installed")

// Names are the hooks modelgate installs: pre-commit for commits, and
// pre-merge-commit because git runs only that one for a merge that needs
// no conflict resolution, which would otherwise bring a branch's models in
// unchecked.
var Names = []string{"pre-commit", "pre-merge-commit"}

// Install writes modelgate's hooks into the repository's hooks directory
// (core.hooksPath honoured) and returns their paths. It checks every hook
// before changing any, so a refusal leaves the directory as it was.
func Install(l gitsource.Layout, opts Options) ([]string, error) {
	dir := l.HooksDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create hooks directory: %w", err)
	}
	type plan struct{ hook, action string }
	var plans []plan
	for _, name := range Names {
		hook := filepath.Join(dir, name)
		old, err := os.ReadFile(hook)
		switch {
		case errors.Is(err, os.ErrNotExist):
			plans = append(plans, plan{hook, "write"})
		case err != nil:
			return nil, fmt.Errorf("read existing hook: %w", err)
		case isOurs(old):
			plans = append(plans, plan{hook, "write"}) // keeps a chain set up earlier
		case opts.Chain:
			if _, err := os.Stat(hook + chainedSuffix); err == nil {
				return nil, fmt.Errorf("%s already exists; remove it or uninstall first", hook+chainedSuffix)
			}
			plans = append(plans, plan{hook, "chain"})
		case opts.Force:
			plans = append(plans, plan{hook, "backup"})
		default:
			return nil, fmt.Errorf("%s: %w; use --chain to run it before modelgate, or --force to replace it", hook, ErrForeignHook)
		}
	}
	var paths []string
	for _, p := range plans {
		switch p.action {
		case "chain":
			if err := os.Rename(p.hook, p.hook+chainedSuffix); err != nil {
				return paths, fmt.Errorf("keep existing hook: %w", err)
			}
		case "backup":
			if err := os.Rename(p.hook, p.hook+".modelgate-backup"); err != nil {
				return paths, fmt.Errorf("back up existing hook: %w", err)
			}
		}
		_, chainErr := os.Stat(p.hook + chainedSuffix)
		script := Script(opts.Binary, opts.Args, filepath.Base(p.hook), chainErr == nil)
		if err := writeExecutable(p.hook, script); err != nil {
			return paths, err
		}
		paths = append(paths, p.hook)
	}
	return paths, nil
}

func writeExecutable(path, content string) error {
	tmp := path + ".modelgate-tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o755); err != nil {
		return fmt.Errorf("write hook: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // WriteFile's mode is masked by umask
		return fmt.Errorf("write hook: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write hook: %w", err)
	}
	return nil
}

// Uninstall removes modelgate's hooks, puts chained hooks back and leaves
// hooks modelgate did not write alone. It returns the paths it changed.
func Uninstall(l gitsource.Layout) ([]string, error) {
	var changed []string
	foreign := ""
	for _, name := range Names {
		hook := filepath.Join(l.HooksDir(), name)
		old, err := os.ReadFile(hook)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return changed, fmt.Errorf("read hook: %w", err)
		}
		if !isOurs(old) {
			foreign = hook
			continue
		}
		if _, err := os.Stat(hook + chainedSuffix); err == nil {
			if err := os.Rename(hook+chainedSuffix, hook); err != nil {
				return changed, fmt.Errorf("restore chained hook: %w", err)
			}
		} else if err := os.Remove(hook); err != nil {
			return changed, fmt.Errorf("remove hook: %w", err)
		}
		changed = append(changed, hook)
	}
	if len(changed) == 0 {
		if foreign != "" {
			return nil, fmt.Errorf("%s: %w; not removing it", foreign, ErrForeignHook)
		}
		return nil, fmt.Errorf("no modelgate hook installed in %s", l.HooksDir())
	}
	return changed, nil
}

func isOurs(script []byte) bool {
	return strings.Contains(string(script), marker)
}

// Script is one hook (name is pre-commit or pre-merge-commit): it runs a
// chained hook first, then modelgate on the staged content. A missing
// binary fails the commit rather than letting it through unscanned.
func Script(binary string, args []string, name string, chain bool) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString(marker + " (modelgate hook install); remove with: modelgate hook uninstall\n")
	b.WriteString("# Scans the staged content of model files and blocks the commit if one is unsafe.\n")
	if chain {
		fmt.Fprintf(&b, "chained=\"$(dirname \"$0\")/%s%s\"\n", name, chainedSuffix)
		b.WriteString("if [ -x \"$chained\" ]; then \"$chained\" \"$@\" || exit $?; fi\n")
	}
	fmt.Fprintf(&b, "modelgate=%s\n", shellQuote(binary))
	b.WriteString("if [ ! -x \"$modelgate\" ]; then modelgate=modelgate; fi\n")
	b.WriteString("exec \"$modelgate\" scan --staged --hook")
	for _, a := range args {
		b.WriteString(" " + shellQuote(a))
	}
	b.WriteString("\n")
	return b.String()
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
