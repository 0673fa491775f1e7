package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/hooks/gitsource"
)

// configNames are the policy files discovered when --policy is not given.
var configNames = []string{".modelgate.yaml", ".modelgate.yml"}

// policyFileFor decides which policy file a scan uses: --policy when
// given; none with --no-config; otherwise a .modelgate.yaml (or .yml) in
// the scanned directory (a single directory argument), else at the top of
// the repository the current directory is in. The hook runs scan from the
// top of the repository, so a committed .modelgate.yaml takes effect
// without reinstalling it.
func policyFileFor(fl scanFlags, args []string) (string, error) {
	if fl.policyFile != "" {
		if fl.noConfig {
			return "", fmt.Errorf("--policy and --no-config cannot be combined")
		}
		return fl.policyFile, nil
	}
	if fl.noConfig {
		return "", nil
	}
	var dirs []string
	if len(args) == 1 && !fl.staged && fl.gitDiff == "" {
		if st, err := os.Stat(args[0]); err == nil && st.IsDir() {
			dirs = append(dirs, args[0])
		}
	}
	if layout, err := gitsource.Locate("."); err == nil && layout.WorkTree != "" {
		dirs = append(dirs, layout.WorkTree)
	}
	for _, d := range dirs {
		for _, name := range configNames {
			p := filepath.Join(d, name)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return displayName(p), nil
			}
		}
	}
	return "", nil
}

// displayName shows a path relative to the current directory when it is
// inside it.
func displayName(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, abs); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return abs
}

// writeWarnings prints configuration warnings (expired or unmatched
// suppressions) on stderr. Commit hooks scan a few staged files, so there a
// suppression for another file matching nothing is normal and not printed.
func writeWarnings(w io.Writer, warnings []finding.Warning, hook bool) {
	for _, wn := range warnings {
		if hook && wn.Kind == finding.WarnSuppressionUnmatched {
			continue
		}
		fmt.Fprintf(w, "modelgate: warning: %s\n", wn.Message)
	}
}
