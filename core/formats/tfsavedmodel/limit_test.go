package tfsavedmodel

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/modelgate/modelgate/core/protoscan"
)

// TestCollectorBoundsKeptNodes: nodes and functions that take two bytes of
// the file each but a few hundred bytes of memory are bounded by count.
func TestCollectorBoundsKeptNodes(t *testing.T) {
	empty := func(num protowire.Number, n int) []byte {
		var b []byte
		for range n {
			b = protowire.AppendTag(b, num, protowire.BytesType)
			b = protowire.AppendBytes(b, nil)
		}
		return b
	}
	library := protowire.AppendTag(nil, graphLibrary, protowire.BytesType)
	library = protowire.AppendBytes(library, empty(libraryFunction, 3000))
	cases := []struct {
		name    string
		graph   []byte
		wantErr bool
	}{
		{"empty nodes over the limit", empty(graphNode, 3000), true},
		{"empty functions over the limit", library, true},
		{"nodes under the limit", empty(graphNode, 500), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCollector(protoscan.New(bytes.NewReader(tc.graph), int64(len(tc.graph)), protoscan.DefaultLimits()))
			c.maxKept = 1000
			whole := protoscan.Field{Type: protowire.BytesType, Len: int64(len(tc.graph)), Depth: -1}
			err := c.graphDef(context.Background(), whole, "graph")
			if got := errors.Is(err, protoscan.ErrLimit); got != tc.wantErr {
				t.Fatalf("err %v, want a limit error: %v", err, tc.wantErr)
			}
			if c.kept > c.maxKept+1 {
				t.Fatalf("kept %d, limit %d", c.kept, c.maxKept)
			}
		})
	}
}
