// Package full is every optional feature (see package features), for the
// modelgate-full binary and for tests of the command line.
package full

import (
	"context"
	"io"
	"os"

	"github.com/modelgate/modelgate/action"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/internal/climain"

	"github.com/modelgate/modelgate/core/plugin"
	"github.com/modelgate/modelgate/core/plugin/pluginspec"
	"github.com/modelgate/modelgate/core/signing/sigstoreverify"
	"github.com/modelgate/modelgate/internal/features"
)

// New returns the complete feature set.
func New() features.Set {
	return features.Set{LoadPlugins: loadPlugins, Signatures: sigstoreverify.Verifier{}, GitHubAction: gitHubAction}
}

func gitHubAction(ctx context.Context, stdout io.Writer) int {
	return action.Run(ctx, action.Env{
		Getenv: os.Getenv, Stdout: stdout, Signatures: sigstoreverify.Verifier{},
		Tool: report.Tool{Name: "modelgate", Version: climain.Version, URI: "https://github.com/modelgate/modelgate"},
	}).ExitCode
}

func loadPlugins(ctx context.Context, specs []pluginspec.Spec, log io.Writer) (features.Plugins, error) {
	set, err := plugin.Load(ctx, specs, plugin.Options{Log: log})
	if err != nil {
		// A nil *plugin.Set in the interface would not compare equal to nil.
		return nil, err
	}
	return set, nil
}
