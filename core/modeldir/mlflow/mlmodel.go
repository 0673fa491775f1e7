package mlflow

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// MLmodel is what modelgate reads of an MLmodel file: MLflow's YAML with
// top-level metadata and a "flavors" mapping from flavor name to its
// configuration.
type MLmodel struct {
	MLflowVersion string
	RunID         string
	ModelUUID     string
	ArtifactPath  string
	// Flavors in file order, with their configuration (YAML scalars as
	// strings, mappings as map[string]any, sequences as []any, null as nil).
	Flavors []Flavor
}

// Flavor is one entry of the flavors mapping.
type Flavor struct {
	Name   string
	Config map[string]any
}

// Flavor returns the named flavor's configuration.
func (m *MLmodel) Flavor(name string) (map[string]any, bool) {
	for _, f := range m.Flavors {
		if f.Name == name {
			return f.Config, true
		}
	}
	return nil, false
}

// Parser bounds. Real MLmodel files are a few KB; a large signature
// reaches a few hundred. yaml.v3 builds its node tree at about 250 KB/s
// on hostile flat input, so the byte cap is what bounds the time.
const (
	MaxMLmodelBytes = 1 << 20
	maxNodes        = 200000
	maxDepth        = 64
)

// ErrNotMLmodel says the YAML parsed but is not an MLmodel (no flavors
// mapping): the directory is not an MLflow model.
var ErrNotMLmodel = errors.New("not an MLmodel: no flavors mapping")

// ErrLimit is returned for input over the parser's bounds.
var ErrLimit = errors.New("MLmodel exceeds the parser limits")

// ParseMLmodel parses an MLmodel strictly: one YAML document, a mapping at
// the top with a flavors mapping, no duplicate keys (yaml.v3 rejects them
// where PyYAML would silently keep the last), bounded in bytes, nodes
// (aliases count as the nodes they expand to) and depth.
func ParseMLmodel(data []byte) (*MLmodel, error) {
	if len(data) > MaxMLmodelBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrLimit, len(data), MaxMLmodelBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("MLmodel is not YAML: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, errors.New("MLmodel holds more than one YAML document")
	}
	c := &converter{sizes: map[*yaml.Node]int{}}
	v, err := c.value(&doc, 0)
	if err != nil {
		return nil, err
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, ErrNotMLmodel
	}
	fl, ok := top["flavors"].(map[string]any)
	if !ok {
		return nil, ErrNotMLmodel
	}
	m := &MLmodel{
		MLflowVersion: str(top["mlflow_version"]),
		RunID:         str(top["run_id"]),
		ModelUUID:     str(top["model_uuid"]),
		ArtifactPath:  str(top["artifact_path"]),
	}
	for _, name := range c.flavorOrder(&doc) {
		cfg, _ := fl[name].(map[string]any)
		if cfg == nil {
			cfg = map[string]any{}
		}
		m.Flavors = append(m.Flavors, Flavor{Name: name, Config: cfg})
	}
	return m, nil
}

// converter turns yaml nodes into plain values, counting nodes.
type converter struct {
	nodes int
	sizes map[*yaml.Node]int
}

func (c *converter) count(n int) error {
	c.nodes += n
	if c.nodes > maxNodes {
		return fmt.Errorf("%w: more than %d YAML nodes", ErrLimit, maxNodes)
	}
	return nil
}

// size is the number of nodes n expands to, aliases included; it stops
// early once the total would exceed the limit, so an alias bomb costs
// no more than the limit.
func (c *converter) size(n *yaml.Node, depth int) int {
	if s, ok := c.sizes[n]; ok {
		return s
	}
	if depth > maxDepth {
		return maxNodes + 1
	}
	c.sizes[n] = maxNodes + 1 // a cycle expands without end
	s := 1
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		s = c.size(n.Alias, depth+1)
	}
	for _, ch := range n.Content {
		s += c.size(ch, depth+1)
		if s > maxNodes {
			break
		}
	}
	c.sizes[n] = s
	return s
}

func (c *converter) value(n *yaml.Node, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrLimit, maxDepth)
	}
	if err := c.count(1); err != nil {
		return nil, err
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, ErrNotMLmodel
		}
		return c.value(n.Content[0], depth+1)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, errors.New("MLmodel: alias without anchor")
		}
		if err := c.count(c.size(n.Alias, 0)); err != nil {
			return nil, err
		}
		// The expansion was counted above; convert without counting again.
		saved := c.nodes
		v, err := c.value(n.Alias, depth+1)
		c.nodes = saved
		return v, err
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, ch := range n.Content {
			v, err := c.value(ch, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, err := c.value(n.Content[i], depth+1)
			if err != nil {
				return nil, err
			}
			key, ok := k.(string)
			if !ok {
				key = fmt.Sprint(k)
			}
			if _, dup := out[key]; dup {
				return nil, fmt.Errorf("MLmodel: duplicate key %s", strconv.Quote(key))
			}
			v, err := c.value(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			out[key] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("MLmodel: unexpected YAML node kind %d", n.Kind)
}

// flavorOrder lists the flavor names in file order (maps lose it, and the
// first non-pyfunc flavor names the framework).
func (c *converter) flavorOrder(doc *yaml.Node) []string {
	top := doc
	if top.Kind == yaml.DocumentNode && len(top.Content) == 1 {
		top = top.Content[0]
	}
	for top.Kind == yaml.AliasNode && top.Alias != nil {
		top = top.Alias
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "flavors" {
			continue
		}
		fl := top.Content[i+1]
		for fl.Kind == yaml.AliasNode && fl.Alias != nil {
			fl = fl.Alias
		}
		var names []string
		for j := 0; j+1 < len(fl.Content); j += 2 {
			names = append(names, fl.Content[j].Value)
		}
		return names
	}
	return nil
}

// str renders a scalar; other values are "".
func str(v any) string {
	s, _ := v.(string)
	return s
}
