package onnx

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/protoscan"
	"github.com/modelgate/modelgate/core/rules"
)

// TensorFile is a serialized onnx TensorProto on its own (onnx.save_tensor,
// the .pb files of ONNX test data and examples). It holds data only, but
// its external_data may point outside the model directory, which is
// checked as for a model's initializers.
type TensorFile struct{}

// Name implements engine.Format.
func (TensorFile) Name() string { return "onnx-tensor" }

// Version implements engine.Versioned.
func (TensorFile) Version() string { return FormatVersion }

// tensorWire is the wire type of each TensorProto field (packed repeated
// scalars are length-delimited; unpacked ones use their scalar type).
var tensorWire = map[protowire.Number][]protowire.Type{
	1:  {protowire.VarintType, protowire.BytesType},  // dims
	2:  {protowire.VarintType},                       // data_type
	3:  {protowire.BytesType},                        // segment
	4:  {protowire.Fixed32Type, protowire.BytesType}, // float_data
	5:  {protowire.VarintType, protowire.BytesType},  // int32_data
	6:  {protowire.BytesType},                        // string_data
	7:  {protowire.VarintType, protowire.BytesType},  // int64_data
	8:  {protowire.BytesType},                        // name
	9:  {protowire.BytesType},                        // raw_data
	10: {protowire.Fixed64Type, protowire.BytesType}, // double_data
	11: {protowire.VarintType, protowire.BytesType},  // uint64_data
	12: {protowire.BytesType},                        // doc_string
	13: {protowire.BytesType},                        // external_data
	14: {protowire.VarintType},                       // data_location
	16: {protowire.BytesType},                        // metadata_props
}

// maxDataType is the highest TensorProto.DataType (FLOAT4E2M1 is 23).
const maxDataType = 64

// Match implements engine.Format: the first field is dims or data_type
// (writers serialize in field order), every top-level field is a
// TensorProto field of the right wire type, and data_type is a known enum.
func (TensorFile) Match(in *engine.Input) bool {
	if len(in.Head) < 2 || (in.Head[0] != byte(protowire.EncodeTag(1, protowire.VarintType)) &&
		in.Head[0] != byte(protowire.EncodeTag(1, protowire.BytesType)) &&
		in.Head[0] != byte(protowire.EncodeTag(2, protowire.VarintType))) {
		return false
	}
	p := protoscan.New(in.R, in.Size, protoscan.Limits{MaxDepth: 1, MaxFields: matchMaxFields})
	dataType := uint64(0)
	err := p.Walk(context.Background(), 0, in.Size, 0, func(f protoscan.Field) error {
		types, ok := tensorWire[f.Num]
		if !ok {
			return errNoMatch
		}
		for _, t := range types {
			if t == f.Type {
				if f.Num == 2 {
					dataType = f.Value
				}
				return nil
			}
		}
		return errNoMatch
	})
	return err == nil && dataType > 0 && dataType <= maxDataType
}

// Scan implements engine.Format.
func (TensorFile) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	s := &scanner{p: protoscan.New(in.R, in.Size, protoscan.DefaultLimits()), env: env}
	whole := protoscan.Field{Type: protowire.BytesType, Off: 0, Len: in.Size, Depth: -1}
	if err := s.tensor(ctx, whole, "tensor file"); err != nil {
		impossibleLength(env, err)
		if errorsIsLimit(err) {
			env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("onnx tensor: %v", err))
			return nil
		}
		return fmt.Errorf("onnx tensor: %w", err)
	}
	return nil
}

func errorsIsLimit(err error) bool { return errors.Is(err, protoscan.ErrLimit) }
