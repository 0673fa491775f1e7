// Package list is the explicit registry of formats, in the order the engine
// tries them: strong magic numbers first, the weak protocol-0 pickle sniff
// last. Library users can build their own list instead.
package list

import (
	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/formats/compressed"
	"github.com/modelgate/modelgate/core/formats/numpy"
	"github.com/modelgate/modelgate/core/formats/picklefmt"
	"github.com/modelgate/modelgate/core/formats/sevenzip"
	"github.com/modelgate/modelgate/core/formats/tarfmt"
	"github.com/modelgate/modelgate/core/formats/zipfmt"
)

// Default returns every built-in format.
func Default() []engine.Format {
	formats := []engine.Format{
		numpy.Npy{},
		zipfmt.PyTorchZip{},
		zipfmt.Zip{},
		sevenzip.SevenZip{},
		tarfmt.TorchTar{},
		tarfmt.Tar{},
		picklefmt.LegacyTorch{},
		picklefmt.Pickle{},
	}
	formats = append(formats, compressed.All()...)
	// The protocol 0/1 sniff accepts almost any text-like bytes, so every
	// format with a real magic number goes before it.
	return append(formats, picklefmt.Sniffed{})
}
