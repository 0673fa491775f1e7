// Package list is the explicit registry of formats, in the order the engine
// tries them: strong magic numbers first, the weak protocol-0 pickle sniff
// last. Library users can build their own list instead.
package list

import (
	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/formats/chattemplate"
	"github.com/modelgate/modelgate/core/formats/compressed"
	"github.com/modelgate/modelgate/core/formats/gguf"
	"github.com/modelgate/modelgate/core/formats/keras"
	"github.com/modelgate/modelgate/core/formats/picklefmt"
	"github.com/modelgate/modelgate/core/formats/safetensors"
	"github.com/modelgate/modelgate/core/formats/zipfmt"
)

// Default returns every built-in format.
func Default() []engine.Format {
	formats := []engine.Format{
		gguf.Format{},
		// A safetensors header length whose low byte is 0x80 looks like a
		// pickle PROTO opcode, so safetensors goes before pickle.
		safetensors.Format{},
		zipfmt.PyTorchZip{},
		zipfmt.Zip{},
		picklefmt.LegacyTorch{},
		picklefmt.Pickle{},
		// HDF5's signature is strong; the Keras-specific match goes first so
		// reports name the format, the plain one catches every other HDF5.
		keras.H5{},
		keras.HDF5{},
	}
	formats = append(formats, compressed.All()...)
	// Keras JSON is matched by its first key, strictly, before the sniff.
	formats = append(formats, keras.Config{})
	// The protocol 0/1 sniff accepts almost any text-like bytes, so every
	// format with a real magic number goes before it.
	// Tokenizer configs are JSON text; claim them before the text-like
	// pickle sniff.
	formats = append(formats, chattemplate.TokenizerConfig{})
	return append(formats, picklefmt.Sniffed{})
}
