package onnx_test

import (
	"os"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/rules"
)

// msg appends field num holding payload as a length-delimited field.
func msg(b []byte, num protowire.Number, payload []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, payload)
}

func varint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// model wraps one initializer in a ModelProto as ONNX writers lay it out.
func model(tensor []byte) []byte {
	m := varint(nil, 1, 8)               // ir_version
	graph := msg(nil, 5, tensor)         // initializer
	graph = msg(graph, 2, []byte("g"))   // name
	m = msg(m, 7, graph)                 // graph
	return msg(m, 8, varint(nil, 2, 17)) // opset_import {version: 17}
}

func tensor(dims ...uint64) []byte {
	var t []byte
	for _, d := range dims {
		t = varint(t, 1, d)
	}
	t = varint(t, 2, 1) // FLOAT
	return msg(t, 8, []byte("w"))
}

// TestImpossibleSizes: tensors and lengths no file of this size could hold
// are MG209 high; a real model cut short is only not scanned, and a huge
// tensor whose data is external is none of this file's business.
func TestImpossibleSizes(t *testing.T) {
	real, err := os.ReadFile(fixtures + "benign/onnx_identity.onnx")
	if err != nil {
		t.Fatal(err)
	}
	// raw_data declared 2^50 bytes long with 8 present: the tensor's own
	// length covers only what is there.
	rawLie := protowire.AppendVarint(protowire.AppendTag(tensor(2), 9, protowire.BytesType), 1<<50)
	rawLie = append(rawLie, make([]byte, 8)...)
	external := msg(varint(tensor(1<<40, 1<<20), 14, 1), 13, msg(msg(nil, 1, []byte("location")), 2, []byte("w.bin")))
	cases := []struct {
		name      string
		data      []byte
		want      bool
		unscanned bool
	}{
		{"2^60 floats inline", model(msg(tensor(1<<40, 1<<20), 9, make([]byte, 8))), true, false},
		{"raw_data of 2^50 bytes", model(rawLie), true, true},
		{"2 floats", model(msg(tensor(2), 9, make([]byte, 8))), false, false},
		{"2^60 floats in external data", model(external), false, false},
		{"real model cut short", real[:len(real)*2/3], false, true},
	}
	for _, tc := range cases {
		res := scan(t, tc.data)
		got := false
		for _, f := range res.Findings {
			if f.RuleID == rules.ImpossibleSize {
				got = true
				if f.Severity != finding.SeverityHigh {
					t.Errorf("%s: %s at %s", tc.name, f.RuleID, f.Severity)
				}
			}
		}
		if got != tc.want || (len(res.Unscanned) > 0) != tc.unscanned {
			t.Errorf("%s: MG209 %v, unscanned %v (%s, %+v); want %v, %v", tc.name, got, res.Unscanned, ruleIDs(res), res.Findings, tc.want, tc.unscanned)
		}
	}
}
