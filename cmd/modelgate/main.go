// Command modelgate scans machine-learning model artifacts for code that
// runs when they are loaded.
package main

import (
	"os"

	"github.com/modelgate/modelgate/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
