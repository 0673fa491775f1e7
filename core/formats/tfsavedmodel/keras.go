package tfsavedmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/protoscan"
	"github.com/modelgate/modelgate/core/rules"
)

// KerasMetadata is keras_metadata.pb, which TF-Keras writes next to
// saved_model.pb: SavedMetadata{repeated SavedObject nodes = 1}, each with
// an identifier ("_tf_keras_layer", ...) and a JSON metadata string.
type KerasMetadata struct{}

// Name implements engine.Format.
func (KerasMetadata) Name() string { return "keras-metadata" }

// Version implements engine.Versioned.
func (KerasMetadata) Version() string { return FormatVersion }

// SavedObject field numbers (keras/protobuf/saved_metadata.proto). The
// VersionDef was field 1 in TF 2.4-2.5 (tensorflow.VersionDef); TF-Keras
// 2.6 and later reserve 1 and write their own VersionDef as field 6, which
// is how every current keras_metadata.pb is written.
const (
	kerasNodes      = 1
	kerasVersionOld = 1
	kerasVersion    = 6
	kerasNodeID     = 2
	kerasNodePath   = 3
	kerasIdentifier = 4
	kerasMetadata   = 5

	// maxMetadata bounds the JSON read per object; model-level metadata
	// of large functional models reaches a few MB.
	maxMetadata = 64 << 20
)

// Match implements engine.Format: only SavedObject nodes at the top level,
// the first of which has a Keras identifier.
func (KerasMetadata) Match(in *engine.Input) bool {
	if len(in.Head) < 4 || in.Head[0] != byte(protowire.EncodeTag(kerasNodes, protowire.BytesType)) {
		return false
	}
	p := matchReader(in)
	ctx := context.Background()
	var first *protoscan.Field
	err := p.Walk(ctx, 0, in.Size, 0, func(f protoscan.Field) error {
		if f.Num != kerasNodes || !f.IsBytes() {
			return errNoMatch
		}
		if first == nil {
			g := f
			first = &g
		}
		return nil
	})
	if err != nil || first == nil {
		return false
	}
	id := ""
	err = p.Sub(ctx, *first, func(f protoscan.Field) error {
		switch {
		case f.Num == kerasNodeID && f.Type == protowire.VarintType:
		case (f.Num == kerasVersion || f.Num == kerasVersionOld || f.Num == kerasNodePath || f.Num == kerasMetadata) && f.IsBytes():
		case f.Num == kerasIdentifier && f.IsBytes():
			id, _ = p.String(f, maxName)
		default:
			return errNoMatch
		}
		return nil
	})
	return err == nil && strings.HasPrefix(id, "_tf_keras_")
}

// Scan implements engine.Format.
func (KerasMetadata) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	p := protoscan.New(in.R, in.Size, protoscan.DefaultLimits())
	lam := newLambdaReporter(env)
	err := p.Walk(ctx, 0, in.Size, 0, func(f protoscan.Field) error {
		if f.Num != kerasNodes || !f.IsBytes() {
			return nil
		}
		var path string
		var meta *protoscan.Field
		err := p.Sub(ctx, f, func(h protoscan.Field) error {
			switch {
			case h.Num == kerasNodePath && h.IsBytes():
				var err error
				path, err = p.String(h, maxName)
				return err
			case h.Num == kerasMetadata && h.IsBytes():
				m := h
				meta = &m
			}
			return nil
		})
		if err != nil || meta == nil {
			return err
		}
		return lam.check(p, *meta, path)
	})
	if err != nil {
		if errors.Is(err, protoscan.ErrLimit) {
			env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("keras_metadata: %v", err))
			return nil
		}
		return fmt.Errorf("keras_metadata: %w", err)
	}
	return nil
}

type lambdaLayer struct{ name, kind, evidence string }

const maxJSONDepth = 256

// lambdas finds every {"class_name": "Lambda", "config": {...}} object.
func lambdas(v any, depth int) []lambdaLayer {
	if depth > maxJSONDepth {
		return nil
	}
	var out []lambdaLayer
	switch t := v.(type) {
	case map[string]any:
		if cn, _ := t["class_name"].(string); cn == "Lambda" {
			if cfg, ok := t["config"].(map[string]any); ok {
				out = append(out, describeLambda(cfg))
			}
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, lambdas(t[k], depth+1)...)
		}
	case []any:
		for _, e := range t {
			out = append(out, lambdas(e, depth+1)...)
		}
	}
	return out
}

func describeLambda(cfg map[string]any) lambdaLayer {
	name, _ := cfg["name"].(string)
	kind, _ := cfg["function_type"].(string)
	if kind == "" {
		kind = "lambda"
	}
	ev := ""
	switch fn := cfg["function"].(type) {
	case string:
		ev = "function=" + clip(fn)
	case []any:
		if len(fn) > 0 {
			s, _ := fn[0].(string)
			ev = "function[0]=" + clip(s)
		}
	case map[string]any:
		// Keras' JSON encoding of the (code, defaults, closure) tuple.
		if items, ok := fn["items"].([]any); ok && len(items) > 0 {
			s, _ := items[0].(string)
			ev = "function[0]=" + clip(s)
		} else {
			b, _ := json.Marshal(fn)
			ev = "function=" + clip(string(b))
		}
	}
	if mod, _ := cfg["module"].(string); mod != "" {
		ev += " module=" + mod
	}
	switch kind {
	case "lambda":
		kind = "marshalled bytecode"
	case "function":
		kind = "a function looked up by name"
	}
	return lambdaLayer{name: name, kind: kind, evidence: ev}
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// lambdaReporter reports each Lambda layer of one file once.
type lambdaReporter struct {
	env  *engine.Env
	seen map[string]bool
}

func newLambdaReporter(env *engine.Env) *lambdaReporter {
	return &lambdaReporter{env: env, seen: map[string]bool{}}
}

// check parses one Keras metadata JSON string and reports its Lambda layers.
func (r *lambdaReporter) check(p *protoscan.Reader, meta protoscan.Field, path string) error {
	if meta.Len > maxMetadata {
		r.env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("keras metadata of %s is %d bytes, more than %d", path, meta.Len, maxMetadata))
		return nil
	}
	raw, _, err := p.Bytes(meta, maxMetadata)
	if err != nil {
		return err
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		r.env.NotScanned(rules.NotScannedError, "", fmt.Sprintf("keras metadata of %s is not JSON: %v", path, err))
		return nil
	}
	for _, l := range lambdas(doc, 0) {
		if r.seen[l.name] {
			continue
		}
		r.seen[l.name] = true
		r.env.Report(finding.Finding{
			RuleID: rules.KerasLambdaMetadata, Offset: meta.Off, Global: "Lambda",
			Message:  fmt.Sprintf("Keras Lambda layer %q (object %s) carries a Python function (%s) that Keras deserializes and runs when it loads and calls the model", l.name, path, l.kind),
			Evidence: l.evidence,
		})
	}
	return nil
}
