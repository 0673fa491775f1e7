package main

import (
	"fmt"
	"io"
	"strings"
)

// TensorFlow Lite schema (tensorflow/lite/schema/schema.fbs) field slots.
const (
	modelOperatorCodes = 1

	opCodeDeprecatedBuiltin = 0
	opCodeCustomCode        = 1
	opCodeBuiltin           = 3

	builtinCustom = 32
)

// Bounds: a real model has tens to a few hundred operator codes.
const (
	maxOperatorCodes = 10000
	maxCustomCodeLen = 1024
)

// opCode is one entry of Model.operator_codes.
type opCode struct {
	index   int
	builtin int32
	custom  string // custom_code, for CUSTOM operators
	at      int64  // file offset of the custom_code string (or the entry)
}

// operatorCodes reads Model.operator_codes of the TFLite flatbuffer in r.
func operatorCodes(r io.ReaderAt, size int64) ([]opCode, error) {
	b := newBuffer(r, size)
	root, err := b.u32(0)
	if err != nil {
		return nil, err
	}
	model, err := b.tableAt(int64(root))
	if err != nil {
		return nil, fmt.Errorf("model table: %w", err)
	}
	n, first, err := model.vector(modelOperatorCodes)
	if err != nil {
		return nil, fmt.Errorf("operator_codes: %w", err)
	}
	if n > maxOperatorCodes {
		return nil, malformed("%d operator codes (limit %d)", n, maxOperatorCodes)
	}
	var out []opCode
	for i := range int64(n) {
		slot := first + 4*i
		rel, err := b.u32(slot)
		if err != nil {
			return out, fmt.Errorf("operator code %d: %w", i, err)
		}
		t, err := b.tableAt(slot + int64(rel))
		if err != nil {
			return out, fmt.Errorf("operator code %d: %w", i, err)
		}
		dep, err := t.int8Field(opCodeDeprecatedBuiltin, 0)
		if err != nil {
			return out, fmt.Errorf("operator code %d: %w", i, err)
		}
		builtin, err := t.int32Field(opCodeBuiltin, 0)
		if err != nil {
			return out, fmt.Errorf("operator code %d: %w", i, err)
		}
		// Files from before the extended builtin code only set the
		// deprecated byte; TFLite takes the larger of the two.
		code := max(builtin, int32(dep))
		oc := opCode{index: int(i), builtin: code, at: t.pos}
		if code == builtinCustom {
			at, err := t.ref(opCodeCustomCode)
			if err != nil {
				return out, fmt.Errorf("operator code %d: custom_code: %w", i, err)
			}
			if at == 0 {
				return out, malformed("operator code %d is CUSTOM without a custom_code", i)
			}
			if oc.custom, err = b.stringAt(at, maxCustomCodeLen); err != nil {
				return out, fmt.Errorf("operator code %d: custom_code: %w", i, err)
			}
			oc.at = at
		}
		out = append(out, oc)
	}
	return out, nil
}

// standardCustomOps are custom operators TensorFlow Lite's own op resolver
// registers: using them needs no code from the application.
var standardCustomOps = map[string]bool{
	"TFLite_Detection_PostProcess": true,
	"Mfcc":                         true,
	"AudioSpectrogram":             true,
}

// flexIOOps are TensorFlow ops that reach the file system when the Select
// TF ops (Flex) delegate runs them, by what they do.
var flexIOOps = map[string]string{
	"ReadFile": "reads a file", "WriteFile": "writes a file", "MatchingFiles": "lists files",
	"Save": "writes a checkpoint", "SaveV2": "writes a checkpoint", "SaveSlices": "writes a checkpoint",
	"Restore": "reads a checkpoint", "RestoreV2": "reads a checkpoint", "RestoreSlice": "reads a checkpoint",
	"MergeV2Checkpoints": "moves checkpoint files", "ImmutableConst": "memory-maps a file",
	"TextLineDataset": "reads a file", "TFRecordDataset": "reads a file", "TFRecordDatasetV2": "reads a file",
	"FixedLengthRecordDataset": "reads a file", "CSVDataset": "reads a file", "LMDBDataset": "reads a database",
	"DatasetToTFRecord": "writes a file", "SnapshotDataset": "writes files", "SaveDataset": "writes files",
	"PrintV2": "writes to a file named by its output_stream", "DebugIdentity": "sends tensors to debug URLs",
	"DebugIdentityV2": "sends tensors to debug URLs", "InitializeTableFromTextFile": "reads a file",
	"InitializeTableFromTextFileV2": "reads a file", "WholeFileReader": "reads files", "WholeFileReaderV2": "reads files",
	"PyFunc": "calls a Python function", "PyFuncStateless": "calls a Python function", "EagerPyFunc": "calls a Python function",
}

// verdict is what one operator code means for whoever loads the model.
type verdict struct {
	rule, global, message string
}

// judge classifies one operator code; ok is false for operators that need
// nothing beyond TensorFlow Lite itself.
func judge(oc opCode) (verdict, bool) {
	if oc.builtin != builtinCustom || standardCustomOps[oc.custom] {
		return verdict{}, false
	}
	name := printable(oc.custom)
	if op, ok := strings.CutPrefix(oc.custom, "Flex"); ok && op != "" {
		if what, io := flexIOOps[op]; io {
			return verdict{RuleFlexIO, name, fmt.Sprintf("Select TF operator %s %s when the Flex delegate runs it", name, what)}, true
		}
		return verdict{RuleFlexOp, name, fmt.Sprintf("Select TF operator %s needs the TensorFlow (Flex) delegate", name)}, true
	}
	return verdict{RuleCustomOp, name, fmt.Sprintf("custom operator %s must be supplied as native code by the application that loads the model", name)}, true
}

// printable escapes control and non-ASCII bytes of a name from the file.
func printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '\\' {
			fmt.Fprintf(&b, `\x%02x`, c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
