package huggingface

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// MaxIndexBytes bounds a weight-map index; one for a 400B-parameter model
// with a few thousand tensors is well under a megabyte.
const MaxIndexBytes = 32 << 20

// ErrNotIndex says the JSON is not a sharded-checkpoint index.
var ErrNotIndex = errors.New("not a sharded checkpoint index: no weight_map")

// Index is a sharded checkpoint's *.index.json: which shard file holds
// each tensor.
type Index struct {
	// Shards are the distinct file names the weight map names, sorted.
	Shards []string
	// Tensors counts the tensors per shard.
	Tensors map[string]int
}

// ParseIndex parses a weight-map index: a JSON object whose weight_map maps
// tensor names to shard file names. A JSON object without weight_map is
// ErrNotIndex; one whose weight_map is not an object of strings is an error.
func ParseIndex(data []byte) (*Index, error) {
	if len(data) > MaxIndexBytes {
		return nil, fmt.Errorf("index is %d bytes, more than %d", len(data), MaxIndexBytes)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, ErrNotIndex
	}
	raw, ok := top["weight_map"]
	if !ok {
		return nil, ErrNotIndex
	}
	var wm map[string]string
	if err := json.Unmarshal(raw, &wm); err != nil {
		return nil, fmt.Errorf("weight_map is not an object of tensor names to file names: %w", err)
	}
	ix := &Index{Tensors: map[string]int{}}
	for _, shard := range wm {
		if ix.Tensors[shard] == 0 {
			ix.Shards = append(ix.Shards, shard)
		}
		ix.Tensors[shard]++
	}
	sort.Strings(ix.Shards)
	return ix, nil
}
