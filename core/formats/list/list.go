// Package list is the explicit registry of formats, in the order the engine
// tries them: strong magic numbers first, the weak protocol-0 pickle sniff
// last. Library users can build their own list instead.
package list

import (
	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/formats/chattemplate"
	"github.com/modelgate/modelgate/core/formats/compressed"
	"github.com/modelgate/modelgate/core/formats/datafile"
	"github.com/modelgate/modelgate/core/formats/gguf"
	"github.com/modelgate/modelgate/core/formats/keras"
	"github.com/modelgate/modelgate/core/formats/lfs"
	"github.com/modelgate/modelgate/core/formats/numpy"
	"github.com/modelgate/modelgate/core/formats/onnx"
	"github.com/modelgate/modelgate/core/formats/picklefmt"
	"github.com/modelgate/modelgate/core/formats/safetensors"
	"github.com/modelgate/modelgate/core/formats/sevenzip"
	"github.com/modelgate/modelgate/core/formats/tarfmt"
	"github.com/modelgate/modelgate/core/formats/tfsavedmodel"
	"github.com/modelgate/modelgate/core/formats/torchscript"
	"github.com/modelgate/modelgate/core/formats/xgboost"
	"github.com/modelgate/modelgate/core/formats/zipfmt"
)

// Default returns every built-in format. Git LFS pointers are recognised
// but, with no object store, reported as not scanned; see WithLFSStore.
func Default() []engine.Format {
	formats := []engine.Format{
		// Claims only members the torch-zip walker marked as code/ sources.
		torchscript.Format{},
		gguf.Format{},
		// A safetensors header length whose low byte is 0x80 looks like a
		// pickle PROTO opcode, so safetensors goes before pickle.
		safetensors.Format{},
		numpy.Npy{},
		// ustar magic sits at offset 257; v7 headers are validated by checksum.
		// A valid tar header at offset 0 wins over a zip end record found
		// further on: a release tarball whose first member is a torch
		// checkpoint is a tar, not "a zip with 512 bytes prepended", and
		// every member after the zip must be scanned.
		tarfmt.TorchTar{},
		tarfmt.Tar{},
		zipfmt.PyTorchZip{},
		zipfmt.Zip{},
		sevenzip.SevenZip{},
		// "binf" would otherwise reach the pickle sniff ('b' is BUILD).
		xgboost.Binary{},
		picklefmt.LegacyTorch{},
		picklefmt.Pickle{},
		// HDF5's signature is strong; the Keras-specific match goes first so
		// reports name the format, the plain one catches every other HDF5.
		keras.H5{},
		keras.HDF5{},
	}
	formats = append(formats, compressed.All()...)
	formats = append(formats,
		// Protobuf formats have no magic number; their Match parses the
		// top-level message strictly, so they follow every magic-number format.
		onnx.Format{},
		tfsavedmodel.SavedModel{},
		tfsavedmodel.KerasMetadata{},
		tfsavedmodel.GraphDef{},
		tfsavedmodel.Fingerprint{},
		tfsavedmodel.SavedModelText{},
		// A bare TensorProto: data, with external data paths to check.
		onnx.TensorFile{},
		// JSON and text formats match strictly on content and go before
		// the protocol 0/1 pickle sniff, which accepts almost any text.
		keras.Config{},
		chattemplate.TokenizerConfig{},
		// Without a store, pointers are reported as not scanned (MG904);
		// WithLFSStore swaps in one that resolves objects.
		lfs.Pointer{},
	)
	return append(formats, picklefmt.Sniffed{},
		// Data-only formats that share extensions with models (.sav, .dat)
		// come after everything that can hold code: a polyglot is judged as
		// the code it could be.
		datafile.IDLSave{}, datafile.FortranRecords{})
}

// WithLFSStore returns formats with every Git LFS pointer format replaced by
// one that resolves pointers through store, so the objects are scanned in
// their place. The engine has no per-scan settings; callers that know where
// the objects live (the CLI inside a git repository) build their list with
// this.
func WithLFSStore(formats []engine.Format, store lfs.Store) []engine.Format {
	out := make([]engine.Format, len(formats))
	for i, f := range formats {
		switch f.(type) {
		case lfs.Pointer, *lfs.Pointer:
			f = lfs.Pointer{Store: store}
		}
		out[i] = f
	}
	return out
}
