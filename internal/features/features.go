// Package features names what a build of the modelgate command line can do
// beyond the core scanner: host detector plugins (gRPC, go-plugin), verify
// model signatures (sigstore-go) and run as the GitHub Action (go-github).
// Those libraries double the scanner's start-up time and memory, and most
// runs use none of them, so the
// modelgate binary is built without them and hands a run that needs them to
// modelgate-full, the same command line built with package full.
package features

import (
	"context"
	"io"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/plugin/pluginspec"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
	"github.com/modelgate/modelgate/core/signing"
)

// Set is one build's optional features; a nil field is one the build lacks.
type Set struct {
	// LoadPlugins starts the plugins and validates what they declare; log
	// receives their host-side log (nil discards it).
	LoadPlugins func(ctx context.Context, specs []pluginspec.Spec, log io.Writer) (Plugins, error)
	// Signatures verifies OpenSSF model signatures.
	Signatures signing.Verifier
	// GitHubAction runs `modelgate action` (package action, which links
	// the GitHub API client) and returns its exit code.
	GitHubAction func(ctx context.Context, stdout io.Writer) int
}

// Plugins is a started set of detector plugins (plugin.Set).
type Plugins interface {
	// Formats is base with the plugins' formats placed by their claims.
	Formats(base []engine.Format) ([]engine.Format, error)
	// Rules are the rules the plugins declare.
	Rules() []rules.Rule
	// Detectors are the plugins' entries for the report's detector list.
	Detectors() []report.Detector
	// Close stops the plugin processes.
	Close()
}
