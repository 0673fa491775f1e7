// Command modelgate-full is modelgate with every optional feature linked in:
// detector plugins (hashicorp/go-plugin, gRPC) and OpenSSF model-signature
// verification (sigstore-go). modelgate leaves them out, because they double
// its start-up time and memory, and runs this binary in its place when an
// invocation needs one (--plugin, a policy with plugins or signatures,
// verify-signature, action). It takes the same arguments as modelgate.
package main

import (
	"os"

	"github.com/modelgate/modelgate/internal/cli"
	"github.com/modelgate/modelgate/internal/features/full"
)

func main() {
	os.Exit(cli.RunWith(full.New(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
