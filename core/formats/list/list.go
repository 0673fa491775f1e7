// Package list is the explicit registry of formats, in the order the engine
// tries them: strong magic numbers first, the weak protocol-0 pickle sniff
// last. Library users can build their own list instead.
package list

import (
	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/formats/compressed"
	"github.com/modelgate/modelgate/core/formats/lfs"
	"github.com/modelgate/modelgate/core/formats/picklefmt"
	"github.com/modelgate/modelgate/core/formats/zipfmt"
)

// Default returns every built-in format. Git LFS pointers are recognised
// but, with no object store, reported as not scanned; see WithLFSStore.
func Default() []engine.Format {
	formats := []engine.Format{
		zipfmt.PyTorchZip{},
		zipfmt.Zip{},
		picklefmt.LegacyTorch{},
		picklefmt.Pickle{},
	}
	formats = append(formats, compressed.All()...)
	formats = append(formats, lfs.Pointer{})
	// The protocol 0/1 sniff accepts almost any text-like bytes, so every
	// format with a real magic number goes before it.
	return append(formats, picklefmt.Sniffed{})
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
