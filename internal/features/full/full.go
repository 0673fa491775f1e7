// Package full is every optional feature (see package features), for the
// modelgate-full binary and for tests of the command line.
package full

import (
	"context"
	"io"

	"github.com/modelgate/modelgate/core/plugin"
	"github.com/modelgate/modelgate/core/plugin/pluginspec"
	"github.com/modelgate/modelgate/core/signing/sigstoreverify"
	"github.com/modelgate/modelgate/internal/features"
)

// New returns the complete feature set.
func New() features.Set {
	return features.Set{LoadPlugins: loadPlugins, Signatures: sigstoreverify.Verifier{}}
}

func loadPlugins(ctx context.Context, specs []pluginspec.Spec, log io.Writer) (features.Plugins, error) {
	set, err := plugin.Load(ctx, specs, plugin.Options{Log: log})
	if err != nil {
		// A nil *plugin.Set in the interface would not compare equal to nil.
		return nil, err
	}
	return set, nil
}
