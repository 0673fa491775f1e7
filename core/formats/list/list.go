// Package list is the explicit registry of formats, in the order the engine
// tries them: strong magic numbers first, the weak protocol-0 pickle sniff
// last. Library users can build their own list instead.
package list

import (
	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/formats/compressed"
	"github.com/modelgate/modelgate/core/formats/onnx"
	"github.com/modelgate/modelgate/core/formats/picklefmt"
	"github.com/modelgate/modelgate/core/formats/tfsavedmodel"
	"github.com/modelgate/modelgate/core/formats/torchscript"
	"github.com/modelgate/modelgate/core/formats/zipfmt"
)

// Default returns every built-in format.
func Default() []engine.Format {
	formats := []engine.Format{
		// Claims only members the torch-zip walker marked as code/ sources.
		torchscript.Format{},
		zipfmt.PyTorchZip{},
		zipfmt.Zip{},
		picklefmt.LegacyTorch{},
		picklefmt.Pickle{},
		// Protobuf formats have no magic number; their Match parses the
		// top-level message strictly.
		onnx.Format{},
		tfsavedmodel.SavedModel{},
		tfsavedmodel.KerasMetadata{},
		tfsavedmodel.GraphDef{},
		tfsavedmodel.Fingerprint{},
		tfsavedmodel.SavedModelText{},
	}
	formats = append(formats, compressed.All()...)
	// The protocol 0/1 sniff accepts almost any text-like bytes, so every
	// format with a real magic number goes before it.
	return append(formats, picklefmt.Sniffed{})
}
