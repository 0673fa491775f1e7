// Command modelgate scans machine-learning model artifacts for code that
// runs when they are loaded.
package main

import (
	"os"

	"github.com/modelgate/modelgate/internal/cli"
)

func main() {
	os.Exit(run())
}

// run is main with deferred work (profiles, see profile.go) done before
// the process exits.
func run() int {
	stop, err := startProfiles()
	if err != nil {
		os.Stderr.WriteString("modelgate: " + err.Error() + "\n")
		return 2
	}
	defer stop()
	return cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}
