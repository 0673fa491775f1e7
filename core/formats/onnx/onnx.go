// Package onnx scans ONNX models (ModelProto, protobuf) without loading
// them: it walks every graph, nested subgraph, training graph and
// model-local function and reports tensors whose external data points
// outside the model directory, operators from custom domains, and
// model-local functions.
package onnx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/limits"
	"github.com/modelgate/modelgate/core/protoscan"
	"github.com/modelgate/modelgate/core/rules"
)

// Format is the ONNX model format.
type Format struct{}

// Name implements engine.Format.
func (Format) Name() string { return "onnx" }

// Version implements engine.Versioned.
func (Format) Version() string { return FormatVersion }

// ModelProto field numbers (onnx/onnx.proto3).
const (
	modelIRVersion     = 1
	modelProducerName  = 2
	modelProducerVer   = 3
	modelDomain        = 4
	modelModelVersion  = 5
	modelDocString     = 6
	modelGraph         = 7
	modelOpsetImport   = 8
	modelMetadataProps = 14
	modelTrainingInfo  = 20
	modelFunctions     = 25
	modelConfiguration = 26
)

// modelFields maps every known ModelProto field to its wire type.
var modelFields = map[protowire.Number]protowire.Type{
	modelIRVersion: protowire.VarintType, modelProducerName: protowire.BytesType,
	modelProducerVer: protowire.BytesType, modelDomain: protowire.BytesType,
	modelModelVersion: protowire.VarintType, modelDocString: protowire.BytesType,
	modelGraph: protowire.BytesType, modelOpsetImport: protowire.BytesType,
	modelMetadataProps: protowire.BytesType, modelTrainingInfo: protowire.BytesType,
	modelFunctions: protowire.BytesType, modelConfiguration: protowire.BytesType,
}

// graphFirstFields are the GraphProto fields a serialized graph can start
// with, all length-delimited.
var graphFields = map[protowire.Number]bool{1: true, 2: true, 5: true, 10: true, 11: true, 12: true, 13: true, 14: true, 15: true, 16: true}

const (
	// maxIRVersion is generous: ONNX is at IR version 11 and bumps it
	// roughly once a year.
	maxIRVersion = 64
	// matchMaxFields bounds the top-level pass Match makes; a valid
	// ModelProto prefix of that many fields is claimed.
	matchMaxFields = 4096
	// maxUnknownTop is how many unknown top-level fields such a prefix
	// may hold (a model's own fields are all known, with ir_version and
	// graph checked only once the walk ends).
	maxUnknownTop = 4
	maxString     = 4096
)

// Match implements engine.Format: the whole input must parse as a
// ModelProto at the top level, with a plausible ir_version and a graph (or
// functions) whose first field is a GraphProto field. Writers put
// ir_version first and add no unknown fields, but protobuf parsers take
// fields in any order and keep unknown ones, so neither is required:
// such a model would otherwise pass unclaimed, as text if its head reads
// like text.
func (Format) Match(in *engine.Input) bool {
	num, typ, n := protowire.ConsumeTag(in.Head)
	if len(in.Head) < 2 || n < 0 {
		return false
	}
	if want, known := modelFields[num]; !known || want != typ {
		return false
	}
	p := protoscan.New(in.R, in.Size, protoscan.Limits{MaxDepth: 2, MaxFields: matchMaxFields})
	ctx := context.Background()
	var ir uint64
	var graph *protoscan.Field
	unknown, funcs := 0, 0
	err := p.Walk(ctx, 0, in.Size, 0, func(f protoscan.Field) error {
		want, known := modelFields[f.Num]
		if !known {
			unknown++ // loaders keep and ignore them
			return nil
		}
		if f.Type != want {
			return errNoMatch
		}
		switch f.Num {
		case modelIRVersion:
			ir = f.Value
		case modelGraph:
			g := f
			graph = &g
		case modelFunctions:
			funcs++
		}
		return nil
	})
	if errors.Is(err, protoscan.ErrLimit) && p.Fields() >= matchMaxFields && unknown <= maxUnknownTop && ir <= maxIRVersion {
		// Thousands of valid ModelProto fields (padding a loader reads
		// through): Scan reads them all, or reports the model not scanned.
		return true
	}
	if err != nil || ir == 0 || ir > maxIRVersion || (graph == nil && funcs == 0) {
		return false
	}
	if graph == nil || graph.Len == 0 {
		return true
	}
	first := true
	ok := false
	_ = p.Sub(ctx, *graph, func(f protoscan.Field) error {
		if first {
			ok = graphFields[f.Num] && f.Type == protowire.BytesType
			first = false
		}
		return errStop
	})
	return ok
}

var (
	errNoMatch = errors.New("not onnx")
	errStop    = errors.New("stop")
)

// Scan implements engine.Format.
func (Format) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	s := &scanner{
		p:         protoscan.New(in.R, in.Size, protoscan.DefaultLimits()),
		env:       env,
		ops:       map[opKey]*opUse{},
		functions: map[opKey]bool{},
	}
	err := s.model(ctx)
	// Findings gathered before an error are still reported: the parts of
	// the model read so far are what a loader would have read too.
	s.report()
	impossibleLength(env, err)
	if err != nil {
		if errors.Is(err, protoscan.ErrLimit) {
			env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("onnx: %v", err))
			return nil
		}
		return fmt.Errorf("onnx: %w", err)
	}
	return nil
}

// impossibleLength reports a length no file of this size could hold (the
// walk stopped there, which the caller reports as not scanned).
func impossibleLength(env *engine.Env, err error) {
	if errors.Is(err, protoscan.ErrImpossible) {
		env.Report(finding.Finding{RuleID: rules.ImpossibleSize, Offset: -1,
			Message: fmt.Sprintf("ONNX protobuf declares a length no file of this size could hold, aimed at readers' size arithmetic: %v", err)})
	}
}

type opKey struct{ domain, op string }

type opUse struct {
	count int
	where string
}

type function struct {
	key     opKey
	nodes   int
	domains map[string]bool
}

type scanner struct {
	p         *protoscan.Reader
	env       *engine.Env
	ops       map[opKey]*opUse
	functions map[opKey]bool
	funcList  []function
	external  int
	// locations collects every external-data location, in order.
	locations []string
}

// ExternalDataLocations returns the external_data "location" of every
// tensor of an ONNX model (initializers, sparse initializers, constant
// attributes, subgraphs, functions), in file order and as written. Callers
// that see the model's directory check that each exists there.
func ExternalDataLocations(ctx context.Context, r io.ReaderAt, size int64) ([]string, error) {
	s := &scanner{
		p:         protoscan.New(r, size, protoscan.DefaultLimits()),
		ops:       map[opKey]*opUse{},
		functions: map[opKey]bool{},
	}
	if err := s.model(ctx); err != nil {
		return s.locations, fmt.Errorf("onnx: %w", err)
	}
	return s.locations, nil
}

// property records a header value for inventories; a scanner run only
// for its external-data locations has no env to record to.
func (s *scanner) property(key, value string) {
	if s.env != nil {
		s.env.SetProperty(key, value)
	}
}

func (s *scanner) model(ctx context.Context) error {
	return s.p.Walk(ctx, 0, s.p.Size(), 0, func(f protoscan.Field) error {
		if f.Num == modelIRVersion && f.Type == protowire.VarintType {
			s.property("onnx:ir_version", strconv.FormatUint(f.Value, 10))
		}
		if !f.IsBytes() {
			return nil
		}
		switch f.Num {
		case modelProducerName, modelProducerVer:
			key := "onnx:producer_name"
			if f.Num == modelProducerVer {
				key = "onnx:producer_version"
			}
			if v, err := s.p.String(f, 128); err == nil {
				s.property(key, v)
			}
		case modelOpsetImport:
			return s.opset(ctx, f)
		case modelGraph:
			return s.graph(ctx, f, "graph")
		case modelTrainingInfo:
			return s.p.Sub(ctx, f, func(g protoscan.Field) error {
				switch g.Num {
				case 1:
					return s.graph(ctx, g, "training_info/initialization")
				case 2:
					return s.graph(ctx, g, "training_info/algorithm")
				}
				return nil
			})
		case modelFunctions:
			return s.function(ctx, f)
		}
		return nil
	})
}

// opset records an OperatorSetIdProto (domain 1, version 2) for
// inventories: "onnx:opset" for the default domain, "onnx:opset:<domain>"
// for the others.
func (s *scanner) opset(ctx context.Context, f protoscan.Field) error {
	domain, version := "", uint64(0)
	err := s.p.Sub(ctx, f, func(g protoscan.Field) error {
		switch {
		case g.Num == 1 && g.IsBytes():
			d, err := s.p.String(g, 128)
			domain = d
			return err
		case g.Num == 2 && g.Type == protowire.VarintType:
			version = g.Value
		}
		return nil
	})
	if err != nil {
		return err
	}
	key := "onnx:opset"
	if domain != "" && domain != "ai.onnx" {
		key += ":" + domain
	}
	s.property(key, strconv.FormatUint(version, 10))
	return nil
}

func (s *scanner) graph(ctx context.Context, f protoscan.Field, where string) error {
	where = clip(where)
	if !f.IsBytes() {
		return nil
	}
	node, init := 0, 0
	return s.p.Sub(ctx, f, func(g protoscan.Field) error {
		if !g.IsBytes() {
			return nil
		}
		switch g.Num {
		case 1:
			node++
			return s.node(ctx, g, fmt.Sprintf("%s/node[%d]", where, node-1), nil)
		case 5:
			init++
			return s.tensor(ctx, g, fmt.Sprintf("%s/initializer[%d]", where, init-1))
		case 15:
			init++
			return s.sparse(ctx, g, fmt.Sprintf("%s/sparse_initializer[%d]", where, init-1))
		}
		return nil
	})
}

// node records the operator and walks attributes, which carry subgraphs
// (If/Loop/Scan bodies) and constant tensors. fn, when set, collects the
// domains a model-local function uses.
func (s *scanner) node(ctx context.Context, f protoscan.Field, where string, fn *function) error {
	where = clip(where)
	var op, domain, name string
	attr := 0
	err := s.p.Sub(ctx, f, func(g protoscan.Field) error {
		if !g.IsBytes() {
			return nil
		}
		var err error
		switch g.Num {
		case 3:
			name, err = s.p.String(g, maxString)
		case 4:
			op, err = s.p.String(g, maxString)
		case 7:
			domain, err = s.p.String(g, maxString)
		case 5:
			attr++
			label := where
			if op != "" {
				label = fmt.Sprintf("%s(%s)", where, op)
			}
			err = s.attribute(ctx, g, fmt.Sprintf("%s/attribute[%d]", label, attr-1))
		}
		return err
	})
	if err != nil {
		return err
	}
	if domain == "ai.onnx" {
		domain = ""
	}
	k := opKey{domain, op}
	u := s.ops[k]
	if u == nil {
		label := where
		if name != "" {
			label = fmt.Sprintf("%s %q", where, name)
		}
		u = &opUse{where: label}
		s.ops[k] = u
	}
	u.count++
	if fn != nil {
		fn.nodes++
		fn.domains[domain] = true
	}
	return nil
}

func (s *scanner) attribute(ctx context.Context, f protoscan.Field, where string) error {
	where = clip(where)
	var name string
	return s.p.Sub(ctx, f, func(g protoscan.Field) error {
		if !g.IsBytes() {
			return nil
		}
		switch g.Num {
		case 1:
			var err error
			name, err = s.p.String(g, maxString)
			return err
		case 5, 10: // t, tensors
			return s.tensor(ctx, g, where+attrName(name))
		case 6, 11: // g, graphs
			return s.graph(ctx, g, where+attrName(name))
		case 22, 23: // sparse_tensor, sparse_tensors
			return s.sparse(ctx, g, where+attrName(name))
		}
		return nil
	})
}

// maxWhere bounds the location labels built while descending into
// subgraphs. Each level adds an operator and attribute name of up to
// maxString bytes, and a label is kept per distinct operator: unclipped, a
// deep chain of long names would make every inner node cost its whole path.
const maxWhere = 1024

// clip shortens a label to maxWhere bytes, copying so that the long
// original is not kept alive by the prefix.
func clip(where string) string {
	if len(where) <= maxWhere {
		return where
	}
	return strings.Clone(where[:maxWhere]) + "..."
}

func attrName(n string) string {
	if n == "" {
		return ""
	}
	return "(" + n + ")"
}

func (s *scanner) sparse(ctx context.Context, f protoscan.Field, where string) error {
	where = clip(where)
	return s.p.Sub(ctx, f, func(g protoscan.Field) error {
		switch {
		case g.Num == 1 && g.IsBytes():
			return s.tensor(ctx, g, where+"/values")
		case g.Num == 2 && g.IsBytes():
			return s.tensor(ctx, g, where+"/indices")
		}
		return nil
	})
}

// TensorProto fields that matter here.
const (
	tensorDims         = 1
	tensorName         = 8
	tensorExternalData = 13
	tensorDataLocation = 14
	locationExternal   = 1
)

// tensor checks the external_data "location" of one TensorProto.
func (s *scanner) tensor(ctx context.Context, f protoscan.Field, where string) error {
	where = clip(where)
	var name string
	external := false
	type loc struct {
		path string
		off  int64
	}
	var locs []loc
	// elements is the product of dims; dims lists no more than a few
	// entries in real tensors, so a float product cannot wrap around.
	elements, hasDims, externalData := 1.0, false, false
	err := s.p.Sub(ctx, f, func(g protoscan.Field) error {
		switch {
		case g.Num == tensorDims && g.Type == protowire.VarintType:
			elements, hasDims = elements*float64(int64(g.Value)), true
		case g.Num == tensorDims && g.IsBytes():
			b, _, err := s.p.Bytes(g, 4096) // packed: at most 4096 bytes of varints count
			if err != nil {
				return err
			}
			for len(b) > 0 {
				v, n := protowire.ConsumeVarint(b)
				if n < 0 {
					break
				}
				elements, hasDims = elements*float64(int64(v)), true
				b = b[n:]
			}
		case g.Num == tensorName && g.IsBytes():
			var err error
			name, err = s.p.String(g, maxString)
			return err
		case g.Num == tensorDataLocation && g.Type == protowire.VarintType:
			external = g.Value == locationExternal
		case g.Num == tensorExternalData && g.IsBytes():
			externalData = true
			var key, value string
			err := s.p.Sub(ctx, g, func(e protoscan.Field) error {
				if !e.IsBytes() {
					return nil
				}
				var err error
				switch e.Num {
				case 1:
					key, err = s.p.String(e, maxString)
				case 2:
					value, err = s.p.String(e, maxString)
				}
				return err
			})
			if err != nil {
				return err
			}
			if key == "location" {
				locs = append(locs, loc{value, g.Off})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Without external data the elements are in this file, at least half
	// a byte each (4-bit types pack two to a byte).
	if hasDims && !external && !externalData && s.env != nil && limits.Impossible(elements/2, s.p.Size()) {
		s.env.Report(finding.Finding{RuleID: rules.ImpossibleSize, Offset: f.Off,
			Message: fmt.Sprintf("tensor %q (%s) declares %.4g elements in a %d-byte file with no external data: impossible for its size, aimed at readers' size arithmetic", name, where, elements, s.p.Size())})
	}
	for _, l := range locs {
		s.external++
		s.locations = append(s.locations, l.path)
		why := Escapes(l.path)
		if why == "" || s.env == nil {
			continue
		}
		note := ""
		if !external {
			note = " (data_location is not EXTERNAL, so current loaders ignore it)"
		}
		s.env.Report(finding.Finding{
			RuleID:   rules.OnnxExternalDataEscape,
			Offset:   l.off,
			Message:  fmt.Sprintf("tensor %q (%s) loads its data from %q, which %s%s", name, where, l.path, why, note),
			Evidence: "external_data location=" + quote(l.path),
		})
	}
	return nil
}

func (s *scanner) function(ctx context.Context, f protoscan.Field) error {
	fn := function{domains: map[string]bool{}}
	idx := len(s.funcList)
	node := 0
	err := s.p.Sub(ctx, f, func(g protoscan.Field) error {
		if !g.IsBytes() {
			return nil
		}
		var err error
		switch g.Num {
		case 1:
			fn.key.op, err = s.p.String(g, maxString)
		case 10:
			fn.key.domain, err = s.p.String(g, maxString)
		case 7:
			node++
			err = s.node(ctx, g, fmt.Sprintf("functions[%d]/node[%d]", idx, node-1), &fn)
		case 11: // attribute_proto: default attribute values
			err = s.attribute(ctx, g, fmt.Sprintf("functions[%d]/attribute", idx))
		}
		return err
	})
	if fn.key.domain == "ai.onnx" {
		fn.key.domain = ""
	}
	s.functions[fn.key] = true
	s.funcList = append(s.funcList, fn)
	return err
}

// report judges operators once the whole model is read: a node may call a
// model-local function defined after it.
func (s *scanner) report() {
	keys := make([]opKey, 0, len(s.ops))
	for k := range s.ops {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].domain != keys[j].domain {
			return keys[i].domain < keys[j].domain
		}
		return keys[i].op < keys[j].op
	})
	for _, k := range keys {
		if s.functions[k] {
			continue
		}
		kind, vendor := ClassifyDomain(k.domain)
		u := s.ops[k]
		switch kind {
		case DomainStandard:
			continue
		case DomainKnownVendor:
			s.env.Report(finding.Finding{
				RuleID: rules.OnnxVendorDomain, Offset: -1, Global: k.domain + "::" + k.op,
				Message:  fmt.Sprintf("operator %s from domain %q (%s) is used %d time(s), first at %s; it runs only where that extension library is installed", k.op, k.domain, vendor, u.count, u.where),
				Evidence: "domain=" + quote(k.domain),
			})
		default:
			s.env.Report(finding.Finding{
				RuleID: rules.OnnxCustomDomain, Offset: -1, Global: k.domain + "::" + k.op,
				Message:  fmt.Sprintf("operator %s from custom domain %q is used %d time(s), first at %s; no standard runtime implements it, so running the model means loading a native custom-op library from outside the model", k.op, k.domain, u.count, u.where),
				Evidence: "domain=" + quote(k.domain),
			})
		}
	}
	for _, fn := range s.funcList {
		var custom []string
		for d := range fn.domains {
			if kind, _ := ClassifyDomain(d); kind == DomainCustom && !s.functionDomain(d) {
				custom = append(custom, d)
			}
		}
		sort.Strings(custom)
		msg := fmt.Sprintf("the model defines local function %s::%s (%d nodes); its body is scanned like the main graph", fn.key.domain, fn.key.op, fn.nodes)
		if len(custom) > 0 {
			msg += fmt.Sprintf("; it calls operators from custom domains %s", strings.Join(custom, ", "))
		}
		s.env.Report(finding.Finding{
			RuleID: rules.OnnxLocalFunction, Offset: -1, Global: fn.key.domain + "::" + fn.key.op,
			Message: msg, Evidence: "FunctionProto " + quote(fn.key.op),
		})
	}
}

// functionDomain reports whether some model-local function lives in d (then
// calls into d are calls to those functions, already judged per operator).
func (s *scanner) functionDomain(d string) bool {
	for k := range s.functions {
		if k.domain == d {
			return true
		}
	}
	return false
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// FormatVersion changes whenever this package reports differently for the
// same bytes; reports record it next to the format name.
const FormatVersion = "1.1.0"
