// Command modelgate scans machine-learning model artifacts for code that
// runs when they are loaded.
package main

import (
	"os"
	"runtime/debug"

	"github.com/modelgate/modelgate/internal/cli"
)

// softMemoryLimit keeps the garbage collector ahead of the short-lived
// buffers (decompression dictionaries, spools, reader buffers) that a scan
// allocates per file, so peak memory tracks what is live rather than twice
// that. It is a target, not a cap: a scan that needs more still gets it.
// GOMEMLIMIT overrides it.
const softMemoryLimit = 80 << 20

// gcPercent lets the heap grow to five times what is live before a
// collection, where the default is twice. A scan's allocations are almost
// all short-lived (a pickle of records builds and drops millions of
// values, a few KB of them live), so collections cost in proportion to
// their number; the soft limit above still bounds the heap. GOGC
// overrides it.
const gcPercent = 400

func main() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(softMemoryLimit)
	}
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
