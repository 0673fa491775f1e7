// Command modelgate-tflite is a modelgate detector plugin for TensorFlow
// Lite flatbuffers (.tflite), which modelgate's core does not parse. It
// reports operators that make the loading application run code beyond
// TensorFlow Lite's own kernels: custom operators (native code the
// application registers), Select TF ("Flex") operators that touch files or
// call Python, and other Flex operators. See README.md.
//
//	go build -o modelgate-tflite ./examples/plugin
//	modelgate scan --plugin ./modelgate-tflite models/
package main

import (
	"context"
	"errors"

	"github.com/modelgate/modelgate/sdk"
)

// Rule ids.
const (
	RuleCustomOp  = "TFL001"
	RuleFlexIO    = "TFL002"
	RuleFlexOp    = "TFL003"
	RuleMalformed = "TFL004"
)

// Version changes whenever findings for the same bytes change.
const Version = "1.0.0"

type detector struct{}

func (detector) Describe() sdk.Description {
	return sdk.Description{
		Name:           "tflite",
		Version:        Version,
		InformationURI: "https://github.com/modelgate/modelgate/tree/main/examples/plugin",
		// Every TFLite flatbuffer carries the file identifier "TFL3" at
		// offset 4, whatever the file is called.
		Claims: []sdk.Claim{{Magic: []sdk.Magic{{Offset: 4, Bytes: []byte("TFL3")}}}},
		Rules: []sdk.Rule{
			{ID: RuleCustomOp, Name: "TFLiteCustomOperator", Severity: sdk.SeverityMedium,
				Title: "TensorFlow Lite model needs a custom operator",
				What:  "The model's operator_codes name a CUSTOM operator that TensorFlow Lite does not provide; the application must register native code under that name before the model runs.",
				Why:   "Whoever ships the model chooses which native code the loader looks up and runs with the model's tensors and options; a model that names an unexpected custom operator depends on code nobody reviewed with it.",
				Fix:   "Check that the custom operator comes from a library you trust and expect for this model; otherwise treat the model as untrusted.",
				Tags:  []string{"security", "tflite", "native-code"}},
			{ID: RuleFlexIO, Name: "TFLiteFlexFileOperator", Severity: sdk.SeverityHigh,
				Title: "TensorFlow Lite model runs a TensorFlow op that touches files or calls Python",
				What:  "A Select TF (Flex) operator runs a TensorFlow kernel such as ReadFile, WriteFile, SaveV2 or PyFunc when the model is invoked with the Flex delegate linked in.",
				Why:   "These kernels read or write paths chosen by the model's author, or call back into Python, on the machine that runs inference.",
				Fix:   "Do not run the model with the Flex delegate unless you trust its source; re-convert it without Select TF ops.",
				Tags:  []string{"security", "tflite", "external/cwe/cwe-73"}},
			{ID: RuleFlexOp, Name: "TFLiteFlexOperator", Severity: sdk.SeverityLow,
				Title: "TensorFlow Lite model needs the TensorFlow (Flex) delegate",
				What:  "A Select TF (Flex) operator runs a full TensorFlow kernel instead of a TensorFlow Lite one.",
				Why:   "The Flex delegate brings TensorFlow's kernels, a much larger attack surface than TFLite's builtins.",
				Fix:   "Prefer a model converted with TFLite builtins only.",
				Tags:  []string{"tflite"}},
			{ID: RuleMalformed, Name: "TFLiteMalformed", Severity: sdk.SeverityMedium,
				Title: "TensorFlow Lite flatbuffer is malformed",
				What:  "An offset, vtable or string in the flatbuffer points outside the file or exceeds a bound.",
				Why:   "The TFLite loader and this scanner may read a malformed buffer differently, so its operators cannot be vouched for.",
				Fix:   "Re-convert the model with the TensorFlow Lite converter.",
				Tags:  []string{"security", "tflite", "integrity"}},
		},
	}
}

func (detector) Scan(ctx context.Context, in *sdk.Input) (*sdk.Result, error) {
	codes, err := operatorCodes(in.R, in.Size)
	res := &sdk.Result{}
	for _, oc := range codes {
		if v, ok := judge(oc); ok {
			res.Findings = append(res.Findings, sdk.Finding{RuleID: v.rule, Offset: oc.at, Global: v.global, Message: v.message})
		}
	}
	switch {
	case errors.Is(err, errMalformed):
		res.Findings = append(res.Findings, sdk.Finding{RuleID: RuleMalformed, Offset: -1, Message: err.Error()})
	case err != nil:
		return res, err
	}
	return res, ctx.Err()
}

func main() { sdk.Serve(detector{}) }
