// Package tfsavedmodel scans TensorFlow graphs without TensorFlow: the
// SavedModel protobuf (saved_model.pb), frozen GraphDefs (.pb) and Keras'
// keras_metadata.pb. It walks every graph node and every function-library
// body and reports operators that touch files, call back into Python, send
// tensors to URLs, use constant paths outside the model, or that TensorFlow
// does not know, plus Keras Lambda layers.
package tfsavedmodel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/protoscan"
	"github.com/modelgate/modelgate/core/rules"
)

// SavedModel is the saved_model.pb format.
type SavedModel struct{}

// GraphDef is a frozen TensorFlow graph (tf.io.write_graph, freeze_graph).
type GraphDef struct{}

// Name implements engine.Format.
func (SavedModel) Name() string { return "tf-savedmodel" }

// Version implements engine.Versioned.
func (SavedModel) Version() string { return FormatVersion }

// Name implements engine.Format.
func (GraphDef) Name() string { return "tf-graphdef" }

// Version implements engine.Versioned.
func (GraphDef) Version() string { return FormatVersion }

const (
	// matchMaxFields bounds each top-level pass Match makes.
	matchMaxFields = 1 << 16
	// maxSchemaVersion: SavedModel is at schema version 1.
	maxSchemaVersion = 16
)

var (
	errNoMatch = errors.New("no match")
	errStop    = errors.New("stop")
)

func matchReader(in *engine.Input) *protoscan.Reader {
	return protoscan.New(in.R, in.Size, protoscan.Limits{MaxDepth: 3, MaxFields: matchMaxFields})
}

// Match implements engine.Format: the top level holds only the schema
// version and meta graphs, and the first meta graph's own fields are all
// MetaGraphDef messages including meta_info_def or graph_def.
func (SavedModel) Match(in *engine.Input) bool {
	if len(in.Head) < 2 {
		return false
	}
	switch in.Head[0] {
	case byte(protowire.EncodeTag(savedModelSchemaVersion, protowire.VarintType)),
		byte(protowire.EncodeTag(savedModelMetaGraphs, protowire.BytesType)):
	default:
		return false
	}
	p := matchReader(in)
	ctx := context.Background()
	var first *protoscan.Field
	err := p.Walk(ctx, 0, in.Size, 0, func(f protoscan.Field) error {
		switch {
		case f.Num == savedModelSchemaVersion && f.Type == protowire.VarintType && f.Value <= maxSchemaVersion:
		case f.Num == savedModelMetaGraphs && f.IsBytes():
			if first == nil {
				g := f
				first = &g
			}
		default:
			return errNoMatch
		}
		return nil
	})
	if err != nil || first == nil {
		return false
	}
	core := false
	err = p.Sub(ctx, *first, func(f protoscan.Field) error {
		if f.Num < 1 || f.Num > metaGraphMaxNum || !f.IsBytes() {
			return errNoMatch
		}
		if f.Num == metaGraphInfo || f.Num == metaGraphGraph {
			core = true
		}
		return nil
	})
	return err == nil && core
}

// Match implements engine.Format: only GraphDef fields at the top level,
// at least one node, and the first node starts with its name and op.
func (GraphDef) Match(in *engine.Input) bool {
	if len(in.Head) < 4 || in.Head[0] != byte(protowire.EncodeTag(graphNode, protowire.BytesType)) {
		return false
	}
	p := matchReader(in)
	ctx := context.Background()
	var first *protoscan.Field
	err := p.Walk(ctx, 0, in.Size, 0, func(f protoscan.Field) error {
		switch {
		case f.Num == graphNode && f.IsBytes():
			if first == nil {
				g := f
				first = &g
			}
		case (f.Num == graphLibrary || f.Num == 4 || f.Num == 5) && f.IsBytes():
		case f.Num == 3 && f.Type == protowire.VarintType: // deprecated version
		default:
			return errNoMatch
		}
		return nil
	})
	if err != nil || first == nil {
		return false
	}
	var nums []protowire.Number
	var op string
	err = p.Sub(ctx, *first, func(f protoscan.Field) error {
		if !f.IsBytes() {
			return errNoMatch
		}
		nums = append(nums, f.Num)
		if f.Num == nodeOp {
			op, _ = p.String(f, maxName)
		}
		if len(nums) == 2 {
			return errStop
		}
		return nil
	})
	if (err != nil && err != errStop) || len(nums) < 2 || nums[0] != nodeName || nums[1] != nodeOp {
		return false
	}
	return isOpName(op)
}

// isOpName accepts the shape of TensorFlow op names: an identifier.
func isOpName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || c == '>' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || (i > 0 && '0' <= c && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// Scan implements engine.Format.
func (SavedModel) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	c := newCollector(protoscan.New(in.R, in.Size, protoscan.DefaultLimits()))
	keras := newLambdaReporter(env)
	mg := 0
	err := c.p.Walk(ctx, 0, in.Size, 0, func(f protoscan.Field) error {
		if f.Num != savedModelMetaGraphs || !f.IsBytes() {
			return nil
		}
		mg++
		idx := mg - 1
		return c.p.Sub(ctx, f, func(h protoscan.Field) error {
			if !h.IsBytes() {
				return nil
			}
			switch h.Num {
			case metaGraphGraph:
				return c.graphDef(ctx, h, fmt.Sprintf("meta_graphs[%d] graph", idx))
			case metaGraphAssetFile:
				return assetFile(ctx, c.p, h, env)
			case metaGraphObjectGraph:
				return objectGraph(ctx, c.p, h, env, keras)
			}
			return nil
		})
	})
	return finish(c, err, env, "saved_model")
}

// Scan implements engine.Format.
func (GraphDef) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	c := newCollector(protoscan.New(in.R, in.Size, protoscan.DefaultLimits()))
	whole := protoscan.Field{Num: 0, Type: protowire.BytesType, Off: 0, Len: in.Size, Depth: -1}
	err := c.graphDef(ctx, whole, "graph")
	return finish(c, err, env, "graphdef")
}

// finish reports what was collected (also after an error: a loader reads
// the same prefix) and classifies the error.
func finish(c *collector, err error, env *engine.Env, what string) error {
	for _, f := range analyze(c.graphs, c.functions) {
		env.Report(f)
	}
	for _, g := range c.graphs {
		if g.unresolved != "" {
			env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("%s: in %s %s; the constants behind it were not checked", what, g.label, g.unresolved))
			break // one report says it: the file is not completely scanned
		}
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, protoscan.ErrLimit):
		env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("%s: %v", what, err))
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// assetFile checks an AssetFileDef: TensorFlow joins its filename to the
// SavedModel's assets directory, so an escaping name points elsewhere.
func assetFile(ctx context.Context, p *protoscan.Reader, f protoscan.Field, env *engine.Env) error {
	return p.Sub(ctx, f, func(h protoscan.Field) error {
		if h.Num != assetFileName || !h.IsBytes() {
			return nil
		}
		name, err := p.String(h, maxAttrString)
		if err != nil {
			return err
		}
		if why := PathEscapes(name); why != "" {
			env.Report(finding.Finding{RuleID: rules.TFPathOutsideModel, Offset: h.Off, Global: "AssetFileDef",
				Message:  fmt.Sprintf("asset file %q, which the loader joins to the SavedModel's assets directory, %s", name, why),
				Evidence: fmt.Sprintf("asset_file_def filename=%q", name)})
		}
		return nil
	})
}

// objectGraph reads the Keras metadata that TF 2.0-2.4 stored in
// SavedUserObject.metadata (later versions write keras_metadata.pb).
func objectGraph(ctx context.Context, p *protoscan.Reader, f protoscan.Field, env *engine.Env, keras *lambdaReporter) error {
	return p.Sub(ctx, f, func(n protoscan.Field) error {
		if n.Num != objectGraphNodes || !n.IsBytes() {
			return nil
		}
		return p.Sub(ctx, n, func(o protoscan.Field) error {
			if o.Num != savedObjectUserObject || !o.IsBytes() {
				return nil
			}
			var id string
			var meta *protoscan.Field
			err := p.Sub(ctx, o, func(u protoscan.Field) error {
				switch {
				case u.Num == userObjectIdentifier && u.IsBytes():
					var err error
					id, err = p.String(u, maxName)
					return err
				case u.Num == userObjectMetadata && u.IsBytes():
					m := u
					meta = &m
				}
				return nil
			})
			if err != nil || meta == nil || !strings.HasPrefix(id, "_tf_keras_") {
				return err
			}
			return keras.check(p, *meta, "SavedUserObject "+id)
		})
	})
}

// AssetFiles returns the asset file names a SavedModel's meta graphs
// declare (AssetFileDef.filename), which TensorFlow resolves inside the
// SavedModel's assets directory. Callers that see the directory check that
// each exists there.
func AssetFiles(ctx context.Context, r io.ReaderAt, size int64) ([]string, error) {
	p := protoscan.New(r, size, protoscan.DefaultLimits())
	var out []string
	err := p.Walk(ctx, 0, size, 0, func(f protoscan.Field) error {
		if f.Num != savedModelMetaGraphs || !f.IsBytes() {
			return nil
		}
		return p.Sub(ctx, f, func(h protoscan.Field) error {
			if h.Num != metaGraphAssetFile || !h.IsBytes() {
				return nil
			}
			return p.Sub(ctx, h, func(a protoscan.Field) error {
				if a.Num != assetFileName || !a.IsBytes() {
					return nil
				}
				name, err := p.String(a, maxAttrString)
				if err == nil {
					out = append(out, name)
				}
				return err
			})
		})
	})
	return out, err
}
