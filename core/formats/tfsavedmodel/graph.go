package tfsavedmodel

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/modelgate/modelgate/core/pathcheck"
	"github.com/modelgate/modelgate/core/protoscan"
)

// Field numbers from tensorflow/core/framework/{graph,node_def,function,
// attr_value,tensor,op_def}.proto and protobuf/{saved_model,meta_graph}.proto.
const (
	savedModelSchemaVersion = 1
	savedModelMetaGraphs    = 2

	metaGraphInfo        = 1
	metaGraphGraph       = 2
	metaGraphAssetFile   = 6
	metaGraphObjectGraph = 7
	metaGraphMaxNum      = 7

	assetFileName = 2

	objectGraphNodes      = 1
	savedObjectUserObject = 4
	userObjectIdentifier  = 1
	userObjectMetadata    = 3

	graphNode    = 1
	graphLibrary = 2

	libraryFunction = 1

	functionSignature = 1
	functionNodeDef   = 3
	opDefName         = 1

	nodeName  = 1
	nodeOp    = 2
	nodeInput = 3
	nodeAttr  = 5

	attrValueList   = 1
	attrValueS      = 2
	attrValueTensor = 8
	listValueS      = 2

	tensorStringVal = 8
)

const (
	maxName       = 1024
	maxAttrString = 4096
	// maxKeptInputs is how many inputs of a node are kept unless its op
	// passes every input through (allInputs): path inputs and fixed
	// pass-through inputs have lower indices.
	maxKeptInputs = 4
	// maxKeptStrings is how many strings of an attr, and of a resolved
	// path input, are kept as evidence; strings that escape the model
	// directory are kept past it (charged to maxKept), since they carry
	// the verdict.
	maxKeptStrings = 16
)

// node is what the analysis needs of a NodeDef.
type node struct {
	name, op string
	inputs   []string
	// strs holds the string constants of the attrs the rules read:
	// Const "value", debug "debug_urls"/"debug_ops_spec",
	// ImmutableConst "memory_region_name".
	strs map[string][]string
	off  int64
}

// graph is one node list: the main graph of a meta graph, a frozen
// GraphDef, or the body of a library function.
type graph struct {
	label  string
	nodes  []node
	byName map[string]int
	// resolved memoizes constStrings per node, so that a node shared by
	// many path inputs is walked once; resolving marks the nodes on the
	// current walk (a cycle resolves to nothing).
	resolved  map[int][]string
	resolving map[int]bool
	// unresolved says why a walk gave up ("" if none did): past
	// maxResolveDepth, or at a name cut at maxName that may stand for
	// another node than the one of the same prefix; the constants behind
	// it were not looked at.
	unresolved string
}

func (g *graph) add(n node) {
	if g.byName == nil {
		g.byName = map[string]int{}
	}
	if _, dup := g.byName[n.name]; !dup {
		g.byName[n.name] = len(g.nodes)
	}
	g.nodes = append(g.nodes, n)
}

// interestingAttrs are the attrs whose strings are kept.
var interestingAttrs = map[string]bool{
	"value": true, "token": true, "debug_urls": true, "debug_ops_spec": true, "memory_region_name": true,
}

// collector gathers every graph and function of one file.
type collector struct {
	p         *protoscan.Reader
	graphs    []*graph
	functions map[string]bool
	// kept counts the nodes and graphs held for the analysis, at most
	// maxKept (a field so that tests can lower it).
	kept, maxKept int
}

// maxKept bounds the nodes and graphs (functions) held in memory for one
// file. Each costs a few hundred bytes however few bytes it takes in the
// file (an empty NodeDef is two), so the field limit alone would allow
// gigabytes. The largest real graphs have around a million nodes.
const maxKept = 4 << 20

// keep counts one more node or graph against maxKept.
func (c *collector) keep() error {
	c.kept++
	if c.kept > c.maxKept {
		return fmt.Errorf("%w: more than %d graph nodes and functions", protoscan.ErrLimit, c.maxKept)
	}
	return nil
}

func newCollector(p *protoscan.Reader) *collector {
	return &collector{p: p, functions: map[string]bool{}, maxKept: maxKept}
}

// graphDef walks a GraphDef: its nodes and its function library.
func (c *collector) graphDef(ctx context.Context, f protoscan.Field, label string) error {
	if err := c.keep(); err != nil {
		return err
	}
	g := &graph{label: label}
	c.graphs = append(c.graphs, g)
	return c.p.Sub(ctx, f, func(h protoscan.Field) error {
		if !h.IsBytes() {
			return nil
		}
		switch h.Num {
		case graphNode:
			if err := c.keep(); err != nil {
				return err
			}
			n, err := c.nodeDef(ctx, h)
			if err != nil {
				return err
			}
			g.add(n)
		case graphLibrary:
			return c.p.Sub(ctx, h, func(l protoscan.Field) error {
				if l.Num == libraryFunction && l.IsBytes() {
					return c.functionDef(ctx, l)
				}
				return nil
			})
		}
		return nil
	})
}

func (c *collector) functionDef(ctx context.Context, f protoscan.Field) error {
	if err := c.keep(); err != nil {
		return err
	}
	g := &graph{}
	var name string
	err := c.p.Sub(ctx, f, func(h protoscan.Field) error {
		if !h.IsBytes() {
			return nil
		}
		switch h.Num {
		case functionSignature:
			return c.p.Sub(ctx, h, func(s protoscan.Field) error {
				if s.Num == opDefName && s.IsBytes() {
					var err error
					name, err = c.p.String(s, maxName)
					return err
				}
				return nil
			})
		case functionNodeDef:
			if err := c.keep(); err != nil {
				return err
			}
			n, err := c.nodeDef(ctx, h)
			if err != nil {
				return err
			}
			g.add(n)
		}
		return nil
	})
	g.label = "function " + name
	c.functions[name] = true
	c.graphs = append(c.graphs, g)
	return err
}

func (c *collector) nodeDef(ctx context.Context, f protoscan.Field) (node, error) {
	n := node{off: f.Off}
	err := c.p.Sub(ctx, f, func(h protoscan.Field) error {
		if !h.IsBytes() {
			return nil
		}
		var err error
		switch h.Num {
		case nodeName:
			n.name, err = c.p.String(h, maxName)
		case nodeOp:
			n.op, err = c.p.String(h, maxName)
		case nodeInput:
			if len(n.inputs) >= maxKeptInputs {
				if err = c.keep(); err != nil {
					return err
				}
			}
			var in string
			in, err = c.p.String(h, maxName)
			n.inputs = append(n.inputs, in)
		case nodeAttr:
			err = c.attrEntry(ctx, h, &n)
		}
		return err
	})
	if extra := len(n.inputs) - maxKeptInputs; extra > 0 && !allInputs[n.op] {
		// The op is only known once the node is read: no rule reads
		// these inputs, so they are given back.
		n.inputs = slices.Clone(n.inputs[:maxKeptInputs])
		c.kept -= extra
	}
	return n, err
}

// attrEntry reads one map<string, AttrValue> entry, keeping the strings of
// interesting attrs.
func (c *collector) attrEntry(ctx context.Context, f protoscan.Field, n *node) error {
	var key string
	var val *protoscan.Field
	err := c.p.Sub(ctx, f, func(h protoscan.Field) error {
		if !h.IsBytes() {
			return nil
		}
		switch h.Num {
		case 1:
			var err error
			key, err = c.p.String(h, maxName)
			return err
		case 2:
			v := h
			val = &v
		}
		return nil
	})
	if err != nil || val == nil || !interestingAttrs[key] {
		return err
	}
	var strs []string
	keep := func(h protoscan.Field) error {
		s, err := c.p.String(h, maxAttrString)
		if err != nil {
			return err
		}
		if len(strs) >= maxKeptStrings {
			if PathEscapes(s) == "" {
				return nil
			}
			if err := c.keep(); err != nil {
				return err
			}
		}
		strs = append(strs, s)
		return nil
	}
	err = c.p.Sub(ctx, *val, func(h protoscan.Field) error {
		if !h.IsBytes() {
			return nil
		}
		switch h.Num {
		case attrValueS:
			return keep(h)
		case attrValueList:
			return c.p.Sub(ctx, h, func(l protoscan.Field) error {
				if l.Num == listValueS && l.IsBytes() {
					return keep(l)
				}
				return nil
			})
		case attrValueTensor:
			return c.p.Sub(ctx, h, func(t protoscan.Field) error {
				if t.Num == tensorStringVal && t.IsBytes() {
					return keep(t)
				}
				return nil
			})
		}
		return nil
	})
	if len(strs) > 0 {
		if n.strs == nil {
			n.strs = map[string][]string{}
		}
		n.strs[key] = append(n.strs[key], strs...)
	}
	return err
}

// inputNode returns the producing node's name of a NodeDef input: "^ctrl"
// control inputs give "", "node:0" and function-body "node:output:0" give
// "node".
func inputNode(in string) string {
	if strings.HasPrefix(in, "^") {
		return ""
	}
	if i := strings.IndexByte(in, ':'); i >= 0 {
		return in[:i]
	}
	return in
}

// passThrough says which inputs of an op carry a path string unchanged or
// as a part (so constants behind them are the path).
var passThrough = map[string][]int{
	"Identity": {0}, "PlaceholderWithDefault": {0},
	"Select": {1, 2}, "SelectV2": {1, 2}, "ShardedFilename": {0}, "ShardedFilespec": {0},
}

// allInputs are the pass-through ops with any number of inputs, each of
// which may carry the path or a part of it (ConcatV2's last input, the
// axis, is an integer and resolves to no strings).
var allInputs = map[string]bool{"StringJoin": true, "Pack": true, "ConcatV2": true}

// maxResolveDepth bounds the pass-through ops followed from one input;
// real graphs put a few Identity nodes between a constant and its reader.
// Deeper chains are reported as not scanned (unresolved).
const maxResolveDepth = 256

// constStrings follows input idx of n back through pass-through ops to
// Const nodes and returns their strings: the first maxKeptStrings, and
// up to maxKeptStrings more that escape the model directory.
func (g *graph) constStrings(n *node, idx int) []string {
	if idx >= len(n.inputs) {
		return nil
	}
	return g.resolve(n.inputs[idx], 0)
}

func (g *graph) resolve(in string, depth int) []string {
	if len(in) >= maxName && g.unresolved == "" {
		// Names are kept up to maxName bytes: nodes whose names share
		// that prefix are one to the map, so this may be the wrong one.
		g.unresolved = fmt.Sprintf("a path input names a node by more than %d bytes", maxName)
	}
	i, ok := g.byName[inputNode(in)]
	if !ok || g.resolving[i] {
		return nil
	}
	if out, done := g.resolved[i]; done {
		return out
	}
	if depth > maxResolveDepth {
		if g.unresolved == "" {
			g.unresolved = fmt.Sprintf("a path input is fed through more than %d pass-through ops", maxResolveDepth)
		}
		return nil
	}
	if g.resolved == nil {
		g.resolved, g.resolving = map[int][]string{}, map[int]bool{}
	}
	src := &g.nodes[i]
	if src.op == "Const" {
		g.resolved[i] = src.strs["value"]
		return g.resolved[i]
	}
	g.resolving[i] = true
	var out []string
	follow := func(in string) { out = mergeStrings(out, g.resolve(in, depth+1)) }
	if allInputs[src.op] {
		for _, in := range src.inputs {
			follow(in)
		}
	} else {
		for _, k := range passThrough[src.op] {
			if k < len(src.inputs) {
				follow(src.inputs[k])
			}
		}
	}
	delete(g.resolving, i)
	g.resolved[i] = out
	return out
}

// mergeStrings appends to out the strings of add it keeps: while out
// holds fewer than maxKeptStrings any, then only new escaping ones up to
// maxKeptStrings more, so that what a path input resolves to stays small
// however many constants feed it, yet keeps what carries the verdict.
func mergeStrings(out, add []string) []string {
	for _, s := range add {
		if len(out) < maxKeptStrings {
			out = append(out, s)
			continue
		}
		if len(out) >= 2*maxKeptStrings || PathEscapes(s) == "" || slices.Contains(out, s) {
			continue
		}
		out = append(out, s)
	}
	return out
}

// PathEscapes returns why a path constant leaves the model directory ("" if
// it does not): absolute POSIX or Windows paths, ".." components and
// URLs of other file systems (gs://, s3://, hdfs://, file://, ...).
func PathEscapes(p string) string {
	if strings.Contains(p, "://") {
		return "names another file system (URL)"
	}
	return pathcheck.Escapes(p)
}

func (n *node) label(g *graph) string {
	return fmt.Sprintf("node %q (%s) in %s", n.name, n.op, g.label)
}
