package onnx_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/modelgate/modelgate/core/engine"
)

func bytesField(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// deepModel nests levels graphs, each the "g" attribute of a node whose
// op_type is long, and puts n nodes with distinct op_types in the
// innermost graph: every inner node's location label spans the chain.
func deepModel(levels, n int) []byte {
	var inner []byte
	for i := range n {
		inner = bytesField(inner, 1, bytesField(nil, 4, fmt.Appendf(nil, "op%d", i)))
	}
	g := inner
	long := []byte(strings.Repeat("x", 4000))
	for range levels {
		attr := bytesField(bytesField(nil, 1, []byte("g")), 6, g)
		node := bytesField(bytesField(nil, 4, long), 5, attr)
		g = bytesField(nil, 1, node)
	}
	m := protowire.AppendTag(nil, 1, protowire.VarintType)
	m = protowire.AppendVarint(m, 8)
	return bytesField(m, 7, g)
}

// TestDeepLabels: memory for a deep model grows with its size, not with
// its size times its depth.
func TestDeepLabels(t *testing.T) {
	cases := []struct {
		name          string
		levels, nodes int
	}{
		{"30 levels, 2000 inner operators", 30, 2000},
		{"1 level, 2000 operators", 1, 2000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := deepModel(tc.levels, tc.nodes)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res := scan(t, data)
			runtime.ReadMemStats(&after)
			if len(res.Formats) != 1 || res.Formats[0] != "onnx" {
				t.Fatalf("formats %v, want [onnx]", res.Formats)
			}
			if d := after.TotalAlloc - before.TotalAlloc; d > 64<<20 {
				t.Errorf("allocated %d MiB for a %d KiB model", d>>20, len(data)>>10)
			}
		})
	}
}

// TestManyCustomOperators: each distinct custom operator is a finding, so
// a graph of thousands of tiny nodes keeps the first MaxFindingsPerRule
// and summarises the rest as not scanned.
func TestManyCustomOperators(t *testing.T) {
	cases := []struct {
		name      string
		ops       int
		wantKept  int
		wantNoted bool
	}{
		{"under the limit", 100, 100, false},
		{"over the limit", engine.MaxFindingsPerRule + 500, engine.MaxFindingsPerRule, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var g []byte
			for i := range tc.ops {
				node := bytesField(bytesField(nil, 4, fmt.Appendf(nil, "op%d", i)), 7, []byte("evil.custom"))
				g = bytesField(g, 1, node)
			}
			m := protowire.AppendTag(nil, 1, protowire.VarintType)
			m = protowire.AppendVarint(m, 8)
			res := scan(t, bytesField(m, 7, g))
			kept := 0
			for _, f := range res.Findings {
				if f.RuleID == "MG502" {
					kept++
				}
			}
			noted := false
			for _, u := range res.Unscanned {
				noted = noted || u.RuleID == "MG902" && strings.Contains(u.Reason, "MG502")
			}
			if kept != tc.wantKept || noted != tc.wantNoted {
				t.Fatalf("kept %d MG502 findings (want %d), summary %v (want %v): %+v", kept, tc.wantKept, noted, tc.wantNoted, res.Unscanned)
			}
		})
	}
}
