//go:build harvest

// Command classify reads dotted global names (one per line) on stdin and
// prints "name<TAB>class" judged by modelgate's denylist alone. The
// allowlist harvester (test/harvest_packages.py) uses it so that the
// harvest never allowlists what the denylist covers.
package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/modelgate/modelgate/core/policy"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		q := in.Text()
		if q == "" {
			continue
		}
		fmt.Fprintf(out, "%s\t%s\n", q, policy.DenylistClass(q))
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "classify:", err)
		os.Exit(1)
	}
}
