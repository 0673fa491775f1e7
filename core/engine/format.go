// Package engine drives a scan: it walks inputs, bounds them, sniffs their
// content, hands each to the first format that claims it, and lets container
// formats feed their members back in. Formats live in their own packages and
// are passed in explicitly (see core/formats/list); the engine knows none of
// them.
package engine

import (
	"context"
	"io"
	"path"
	"strings"
)

// HeadSize is how many leading bytes every Format.Match sees.
const HeadSize = 4096

// Input is one piece of content to scan: a top-level file or a member of a
// container. The engine owns opening and closing it.
type Input struct {
	// Path is the top-level file, relative to the report root.
	Path string
	// Member is the full member path inside containers ("" at top level).
	Member string
	// Name is the innermost name (file or member name). It is a hint only:
	// formats decide by content.
	Name string
	// R gives random access to exactly Size bytes of content.
	R    io.ReaderAt
	Size int64
	// Head holds the first min(Size, HeadSize) bytes.
	Head []byte
	// Depth is the container nesting depth (0 at top level).
	Depth int
	// Context carries what the enclosing container knows about this member,
	// e.g. "pytorch-storage" for tensor data referenced by a checkpoint.
	Context string

	// resolves is the input this one stands for (see Env.Resolve).
	resolves *Input
	// memo holds what Memo computed.
	memo map[any]any
}

// Memo returns compute's result for key, calling compute at most once per
// input. Formats that share costly sniffing use it: every file is matched
// against every format, and the two zip formats would otherwise each search
// the end of every file for a zip end record. Matching is sequential, so
// no locking is needed.
func (in *Input) Memo(key any, compute func() any) any {
	if v, ok := in.memo[key]; ok {
		return v
	}
	v := compute()
	if in.memo == nil {
		in.memo = map[any]any{}
	}
	in.memo[key] = v
	return v
}

// topLevel reports whether the input is, or stands for, a top-level file.
func (in *Input) topLevel() bool {
	for in.resolves != nil {
		in = in.resolves
	}
	return in.Depth == 0
}

// Ext returns the lower-cased extension of Name, without the dot.
func (in *Input) Ext() string {
	return strings.TrimPrefix(strings.ToLower(path.Ext(in.Name)), ".")
}

// Format is one parsing logic. Implementations must be safe for concurrent
// use and must not keep state between calls.
type Format interface {
	// Name is stable and appears in reports, e.g. "pickle", "pytorch-zip".
	Name() string
	// Match decides from content whether this format handles the input. It
	// may read from in.R (e.g. a zip's end record) but must stay cheap.
	Match(in *Input) bool
	// Scan reports findings, unscanned content and nested members through env.
	// A returned error means the content could not be scanned completely.
	Scan(ctx context.Context, in *Input, env *Env) error
}

// Versioned is implemented by formats that report a version. Every built-in
// format does (a test in core/formats/list holds them to it); the version
// changes whenever what the format reports for the same bytes changes, and
// reports record it (SARIF tool.extensions) so a result can be traced to
// the detector that produced it.
type Versioned interface {
	Version() string
}

// FormatVersion returns f's version, or "unversioned".
func FormatVersion(f Format) string {
	if v, ok := f.(Versioned); ok && v.Version() != "" {
		return v.Version()
	}
	return "unversioned"
}

// modelExtensions are names that strongly suggest a model; unidentified
// content with such a name is reported as not scanned rather than skipped.
var modelExtensions = map[string]bool{
	"pkl": true, "pickle": true, "pt": true, "pth": true, "bin": true, "ckpt": true,
	"joblib": true, "jl": true, "npy": true, "npz": true, "h5": true, "hdf5": true,
	"keras": true, "pb": true, "onnx": true, "gguf": true, "ggml": true,
	"safetensors": true, "model": true, "mar": true, "nemo": true, "dill": true,
	"sav": true, "p": true, "pck": true, "dat": true, "tar": true, "zip": true,
	"7z": true, "gz": true, "bz2": true, "xz": true, "lzma": true, "zst": true,
	"llamafile": true, "tflite": true, "mlmodel": true, "msgpack": true,
}

// weakModelExtensions are generic data extensions that real models also
// use (finalized_model.sav, weights.dat, model.p). Content in such a file
// is scanned like any other; when no format recognises it, it is reported
// as not scanned without failing closed, because a loader would not take
// it for a model either.
var weakModelExtensions = map[string]bool{"sav": true, "dat": true, "p": true, "pck": true}

// IsWeakModelName reports whether a model-like name is one of the weak
// ones (see weakModelExtensions).
func IsWeakModelName(name string) bool {
	ext := strings.TrimPrefix(strings.ToLower(path.Ext(name)), ".")
	return weakModelExtensions[ext]
}

// IsModelLikeName reports whether a file name suggests model content.
func IsModelLikeName(name string) bool {
	ext := strings.TrimPrefix(strings.ToLower(path.Ext(name)), ".")
	return modelExtensions[ext]
}
