package cli

import (
	"io"
	"os"
)

// colorModes are the --color values.
var colorModes = map[string]bool{"auto": true, "always": true, "never": true}

// useColor decides whether text output gets ANSI colours: --color always
// or never wins; auto colours a terminal unless NO_COLOR is set.
func useColor(mode string, toFile bool, stdout io.Writer) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	return !toFile && isTerminal(stdout) && os.Getenv("NO_COLOR") == ""
}

// checkScanFlags rejects flag values runScan cannot honour; it runs before
// any scanning.
func checkScanFlags(fl scanFlags) error {
	if fl.jobs < 1 {
		return usageErr("--jobs must be at least 1, got %d", fl.jobs)
	}
	if !colorModes[fl.color] {
		return usageErr("--color must be auto, always or never, got %q", fl.color)
	}
	if fl.quiet && fl.verbose {
		return usageErr("--quiet and --verbose cannot be combined")
	}
	return nil
}
