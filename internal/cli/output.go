package cli

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
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

// versionString is the release version set with
// -ldflags "-X github.com/modelgate/modelgate/internal/cli.Version=v1.2.3",
// else the module version the go command recorded (go install ...@v1.2.3
// or @<commit>), else the VCS revision of a build from a clone, else
// "(devel)"; with the Go version that built it.
func versionString() string {
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
