// Package hooks puts modelgate at the commit stage: it installs and removes
// a native git pre-commit hook and words the message shown when a commit is
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
	// pre-commit.modelgate-backup).
	Force bool
	// Chain keeps a hook modelgate did not write and runs it first.
	Chain bool
}

// ErrForeignHook is returned when a pre-commit hook modelgate did not
// write is in the way.
var ErrForeignHook = errors.New("a pre-commit hook that modelgate did not write is installed")

// Install writes the pre-commit hook into the repository's hooks
// directory (core.hooksPath honoured) and returns its path.
func Install(l gitsource.Layout, opts Options) (string, error) {
	dir := l.HooksDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create hooks directory: %w", err)
	}
	hook := filepath.Join(dir, "pre-commit")
	chained := hook + chainedSuffix
	old, err := os.ReadFile(hook)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return "", fmt.Errorf("read existing hook: %w", err)
	case isOurs(old):
		// Reinstalling keeps a chain set up earlier.
	case opts.Chain:
		if _, err := os.Stat(chained); err == nil {
			return "", fmt.Errorf("%s already exists; remove it or uninstall first", chained)
		}
		if err := os.Rename(hook, chained); err != nil {
			return "", fmt.Errorf("keep existing hook: %w", err)
		}
	case opts.Force:
		if err := os.Rename(hook, hook+".modelgate-backup"); err != nil {
			return "", fmt.Errorf("back up existing hook: %w", err)
		}
	default:
		return "", fmt.Errorf("%s: %w; use --chain to run it before modelgate, or --force to replace it", hook, ErrForeignHook)
	}
	_, chainErr := os.Stat(chained)
	script := Script(opts.Binary, opts.Args, chainErr == nil)
	tmp := hook + ".modelgate-tmp"
	if err := os.WriteFile(tmp, []byte(script), 0o755); err != nil {
		return "", fmt.Errorf("write hook: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // WriteFile's mode is masked by umask
		return "", fmt.Errorf("write hook: %w", err)
	}
	if err := os.Rename(tmp, hook); err != nil {
		return "", fmt.Errorf("write hook: %w", err)
	}
	return hook, nil
}

// Uninstall removes modelgate's hook and puts a chained hook back. It
// refuses to remove a hook modelgate did not write.
func Uninstall(l gitsource.Layout) (string, error) {
	hook := filepath.Join(l.HooksDir(), "pre-commit")
	chained := hook + chainedSuffix
	old, err := os.ReadFile(hook)
	if errors.Is(err, os.ErrNotExist) {
		return hook, fmt.Errorf("%s: no pre-commit hook installed", hook)
	}
	if err != nil {
		return hook, fmt.Errorf("read hook: %w", err)
	}
	if !isOurs(old) {
		return hook, fmt.Errorf("%s: %w; not removing it", hook, ErrForeignHook)
	}
	if _, err := os.Stat(chained); err == nil {
		if err := os.Rename(chained, hook); err != nil {
			return hook, fmt.Errorf("restore chained hook: %w", err)
		}
		return hook, nil
	}
	if err := os.Remove(hook); err != nil {
		return hook, fmt.Errorf("remove hook: %w", err)
	}
	return hook, nil
}

func isOurs(script []byte) bool {
	return strings.Contains(string(script), marker)
}

// Script is the pre-commit hook: it runs a chained hook first, then
// modelgate on the staged content. A missing binary fails the commit
// rather than letting it through unscanned.
func Script(binary string, args []string, chain bool) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString(marker + " (modelgate hook install); remove with: modelgate hook uninstall\n")
	b.WriteString("# Scans the staged content of model files and blocks the commit if one is unsafe.\n")
	if chain {
		fmt.Fprintf(&b, "chained=\"$(dirname \"$0\")/pre-commit%s\"\n", chainedSuffix)
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
