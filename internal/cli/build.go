package cli

import (
	"context"
	"io"

	"github.com/modelgate/modelgate/internal/climain"
	"github.com/modelgate/modelgate/internal/features"
)

// fullBinary is the command line built with every optional feature
// (cmd/modelgate-full); see package features for why modelgate is not.
const fullBinary = "modelgate-full"

// build is one invocation of one build of the command line: what it can do
// and what it needs to hand the invocation on whole.
type build struct {
	features features.Set
	args     []string
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
}

// handOff returns nil when this build has the feature (has). Otherwise it
// runs this invocation, unchanged, in modelgate-full and returns the
// outcome: always non-nil, so the caller stops and the process exits with
// modelgate-full's code. Callers hand off before reading stdin or writing
// anything, so the other binary sees the invocation as it came.
func (b *build) handOff(ctx context.Context, has bool, what string) error {
	if has {
		return nil
	}
	path, err := findHelper(fullBinary, what+" needs "+fullBinary)
	if err != nil {
		return climain.Exit(2, err)
	}
	if err := runHelper(ctx, path, b.args, b.stdin, b.stdout, b.stderr); err != nil {
		return err
	}
	return climain.Exit(0, nil)
}
