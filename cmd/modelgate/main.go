// Command modelgate scans machine-learning model artifacts for code that
// runs when they are loaded.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/modelgate/modelgate/internal/cli"
)

func main() {
	os.Exit(run())
}

// run is main with deferred work done before the process exits.
// MODELGATE_CPUPROFILE and MODELGATE_MEMPROFILE name files to write pprof
// profiles to: performance work profiles the real binary on real inputs
// (see test/benchmark), and an environment variable keeps that out of the
// documented command line.
func run() int {
	if p := os.Getenv("MODELGATE_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "modelgate: cpu profile:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "modelgate: cpu profile:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	if p := os.Getenv("MODELGATE_MEMPROFILE"); p != "" {
		runtime.MemProfileRate = 4096
		defer func() {
			f, err := os.Create(p)
			if err != nil {
				fmt.Fprintln(os.Stderr, "modelgate: memory profile:", err)
				return
			}
			defer f.Close()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fmt.Fprintln(os.Stderr, "modelgate: memory profile:", err)
			}
		}()
	}
	return cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}
