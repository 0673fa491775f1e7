// Package list is the explicit registry of formats, in the order the engine
// tries them: strong magic numbers first, the weak protocol-0 pickle sniff
// last. Library users can build their own list instead.
package list

import (
	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/formats/picklefmt"
	"github.com/modelgate/modelgate/core/formats/zipfmt"
)

// Default returns every built-in format.
func Default() []engine.Format {
	return []engine.Format{
		zipfmt.PyTorchZip{},
		zipfmt.Zip{},
		picklefmt.LegacyTorch{},
		picklefmt.Pickle{},
		picklefmt.Sniffed{},
	}
}
