package keras

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/hdf5"
	"github.com/modelgate/modelgate/core/jsonkeys"
	"github.com/modelgate/modelgate/core/rules"
)

// configAttrs are the root-group attributes Keras writes that hold JSON
// Keras deserializes (keras_version and backend are plain strings).
var configAttrs = []string{"model_config", "training_config"}

// H5 claims HDF5 files whose root group carries a Keras model_config.
type H5 struct{}

// Name implements engine.Format.
func (H5) Name() string { return "keras-h5" }

// Version implements engine.Versioned.
func (H5) Version() string { return FormatVersion }

// Match implements engine.Format. Reading the root attributes is bounded by
// the header size limits, so this stays cheap even for large models.
func (H5) Match(in *engine.Input) bool {
	if _, ok := hdf5.FindSignature(in.R, in.Size); !ok {
		return false
	}
	f, err := hdf5.Open(in.R, in.Size, hdf5.DefaultLimits())
	if err != nil {
		return false
	}
	attrs, _ := f.RootAttributes()
	for _, a := range attrs {
		if a.Name == "model_config" {
			return true
		}
	}
	return false
}

// Scan implements engine.Format.
func (H5) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	return scanHDF5(ctx, in, env)
}

// HDF5 claims every other HDF5 file (Keras weights files, model.weights.h5
// inside .keras archives, plain datasets). Its root attributes get the
// same checks, so a model_config hidden from H5.Match is still read.
type HDF5 struct{}

// Name implements engine.Format.
func (HDF5) Name() string { return "hdf5" }

// Version implements engine.Versioned.
func (HDF5) Version() string { return FormatVersion }

// Match implements engine.Format.
func (HDF5) Match(in *engine.Input) bool {
	_, ok := hdf5.FindSignature(in.R, in.Size)
	return ok
}

// Scan implements engine.Format.
func (HDF5) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	return scanHDF5(ctx, in, env)
}

func scanHDF5(ctx context.Context, in *engine.Input, env *engine.Env) error {
	f, err := hdf5.Open(in.R, in.Size, hdf5.DefaultLimits())
	if err != nil {
		return unreadable(in, env, err)
	}
	attrs, aerr := f.RootAttributes()
	for _, a := range attrs {
		for _, name := range configAttrs {
			if a.Name != name {
				continue
			}
			if !a.IsString || len(a.Strings) != 1 {
				env.Report(finding.Finding{RuleID: rules.KerasMalformedConfig, Offset: -1,
					Message: fmt.Sprintf("root attribute %s is not a single string (datatype class %d, %d values)", name, a.Class, len(a.Strings))})
				continue
			}
			if err := checkJSON(ctx, []byte(a.Strings[0]), name, env); err != nil {
				return err
			}
		}
	}
	if aerr != nil {
		return unreadable(in, env, aerr)
	}
	return nil
}

// unreadable reports an HDF5 file this reader could not fully parse as not
// scanned, and adds the byte-pattern safety net: h5py may still load it.
func unreadable(in *engine.Input, env *engine.Env, err error) error {
	if errors.Is(err, hdf5.ErrImpossible) {
		// Orders of magnitude beyond the file: aimed at the reader's
		// size arithmetic, not a cut-off download.
		env.Report(finding.Finding{RuleID: rules.ImpossibleSize, Offset: -1,
			Message: fmt.Sprintf("HDF5 header declares a size no file of this size could hold, aimed at readers' size arithmetic: %v", err)})
	}
	if hit, off := containsLambda(in); hit {
		env.Report(finding.Finding{RuleID: rules.KerasUnreadableConfig, Offset: off,
			Message: fmt.Sprintf("HDF5 structure could not be read (%v) and the file contains a Keras Lambda layer marker", err)})
	}
	env.NotScanned(rules.NotScannedError, "", fmt.Sprintf("hdf5: %v", err))
	return nil
}

// lambdaMarkers are byte strings every serialized Lambda layer contains.
var lambdaMarkers = [][]byte{[]byte(`"class_name": "Lambda"`), []byte(`"class_name":"Lambda"`), []byte(`"__lambda__"`)}

// containsLambda searches the whole input in overlapping chunks.
func containsLambda(in *engine.Input) (bool, int64) {
	const chunk = 1 << 20
	const overlap = 64
	buf := make([]byte, chunk+overlap)
	for off := int64(0); off < in.Size; off += chunk {
		n, err := in.R.ReadAt(buf, off)
		if n == 0 && err != nil {
			break
		}
		for _, m := range lambdaMarkers {
			if i := bytes.Index(buf[:n], m); i >= 0 {
				return true, off + int64(i)
			}
		}
	}
	return false, -1
}

// maxConfigBytes bounds a JSON config read into memory.
const maxConfigBytes = 256 << 20

// Config claims Keras JSON: a .keras archive's config.json and
// metadata.json, and model.to_json() output.
type Config struct{}

// Name implements engine.Format.
func (Config) Name() string { return "keras-config" }

// Version implements engine.Versioned.
func (Config) Version() string { return FormatVersion }

// Match implements engine.Format: the first key of the top-level object
// is one Keras writes first and the head mentions class_name or
// keras_version (cheap, and excludes other JSON and pickles); failing
// that, the top-level keys are those of a Keras object or metadata.
func (Config) Match(in *engine.Input) bool {
	head := bytes.TrimLeft(in.Head, " \t\r\n")
	if len(head) == 0 && in.Size <= int64(len(in.Head)) || len(head) > 0 && head[0] != '{' {
		return false
	}
	if headMatch(head) {
		return true
	}
	// Keras reads every top-level key, whichever comes first and however
	// long the values before it: such padding must not leave a config
	// unclaimed, to pass as plain text.
	if m, ok := in.R.(interface{ Bytes() []byte }); ok && int64(len(m.Bytes())) == in.Size {
		return kerasKeys(bytes.NewReader(m.Bytes()))
	}
	return kerasKeys(io.NewSectionReader(in.R, 0, in.Size))
}

// kerasKeys reports whether a JSON object has the top-level keys of a
// serialized Keras object (class_name and config) or of Keras metadata
// (keras_version).
func kerasKeys(r io.Reader) bool {
	var class, config bool
	return jsonkeys.TopLevel(r, func(k string) bool {
		switch k {
		case "keras_version":
			return true
		case "class_name":
			class = true
		case "config":
			config = true
		}
		return class && config
	})
}

func headMatch(head []byte) bool {
	if !bytes.Contains(head, []byte(`"class_name"`)) && !bytes.Contains(head, []byte(`"keras_version"`)) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(head))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	tok, err := dec.Token()
	if err != nil {
		return false
	}
	switch tok {
	case "module", "class_name", "keras_version", "config", "registered_name":
		return true
	}
	return false
}

// Scan implements engine.Format.
func (Config) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	if in.Size > maxConfigBytes {
		// Claimed all the same: left to the other formats, a config
		// padded past the bound would pass as plain text.
		env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("Keras config is %d bytes, more than the %d read", in.Size, maxConfigBytes))
		return nil
	}
	b := make([]byte, in.Size)
	if _, err := in.R.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read config: %w", err)
	}
	return checkJSON(ctx, b, "", env)
}

// checkJSON parses one config and reports what Check finds; embedded
// payloads go back through the engine.
func checkJSON(ctx context.Context, b []byte, where string, env *engine.Env) error {
	doc, err := ParseJSON(b)
	if err != nil {
		env.Report(finding.Finding{RuleID: rules.KerasMalformedConfig, Offset: -1,
			Message: fmt.Sprintf("%s: %v", orDefault(where, "config"), err)})
		return nil
	}
	issues, payloads := Check(doc, env.Policy.Classify)
	for _, is := range issues {
		if is.CodeSHA256 != "" && env.Policy.AllowsCode(is.CodeSHA256) {
			continue // reviewed Lambda bytecode (allow_code_sha256)
		}
		loc := is.Path
		if where != "" {
			loc = strings.TrimSuffix(where+"."+is.Path, ".")
		}
		msg := is.Message
		if loc != "" {
			msg = loc + ": " + msg
		}
		if is.Unscanned {
			env.NotScanned(is.RuleID, "", msg)
			continue
		}
		env.Report(finding.Finding{RuleID: is.RuleID, Severity: is.Severity, Offset: -1,
			Global: is.Global, Message: msg, Evidence: is.Evidence})
	}
	for _, p := range payloads {
		member := p.Path
		if where != "" {
			member = where + "." + p.Path
		}
		if err := env.Recurse(ctx, member, bytes.NewReader(p.Data), int64(len(p.Data)), ""); err != nil {
			return err
		}
	}
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// FormatVersion changes whenever this package reports differently for the
// same bytes; reports record it next to the format name.
const FormatVersion = "1.1.0"
