package rules

import "github.com/modelgate/modelgate/core/finding"

// ONNX rule ids (MG5xx).
const (
	OnnxExternalDataEscape = "MG501"
	OnnxCustomDomain       = "MG502"
	OnnxVendorDomain       = "MG503"
	OnnxLocalFunction      = "MG504"
)

// onnxRules covers ONNX models. Ids in the MG5xx range.
var onnxRules = []Rule{
	{
		ID: OnnxExternalDataEscape, Name: "OnnxExternalDataOutsideModel", Severity: finding.SeverityHigh,
		Title: "ONNX tensor loads its data from outside the model directory",
		What:  "A tensor (initializer, sparse initializer, constant attribute or subgraph initializer) stores its bytes externally and its external_data \"location\" is an absolute path or climbs out of the model directory with '..'.",
		Why:   "onnx.load and ONNX Runtime read external data relative to the model file. An escaping location makes loading read any file the process can read (SSH keys, cloud credentials) into a weight tensor, where inference outputs or a re-save can leak it; the same path is written by save_external_data. This is CVE-2022-25882 and its lstrip bypass CVE-2024-27318.",
		Fix:   "Do not load the model. External data must be a plain relative file name next to the model; re-export it with onnx.save_model(..., save_as_external_data=True, location=\"weights.data\") from a trusted source.",
		Tags:  []string{"security", "onnx", "path-traversal", "external/cwe/cwe-22"},
	},
	{
		ID: OnnxCustomDomain, Name: "OnnxCustomOperatorDomain", Severity: finding.SeverityHigh,
		Title: "ONNX model needs operators from an unknown custom domain",
		What:  "A node uses an operator domain that is neither the ONNX standard, ONNX Runtime's built-in contrib domains, nor a well-known extension library, and no model-local function defines it.",
		Why:   "Such operators have no implementation in any standard runtime: running the model requires registering a native custom-op library (register_custom_ops_library), i.e. arbitrary machine code shipped alongside the model that this scan cannot see.",
		Fix:   "Find out which library implements the domain and who built it. Only load custom-op libraries you build or trust; otherwise re-export the model with standard operators. Suppress the finding in the policy once reviewed.",
		Tags:  []string{"security", "onnx", "native-code"},
	},
	{
		ID: OnnxVendorDomain, Name: "OnnxExtensionOperatorDomain", Severity: finding.SeverityLow,
		Title: "ONNX model uses operators from a known extension library",
		What:  "A node uses an operator domain implemented by a well-known extension library (onnxruntime-extensions, PyTorch ATen fallback, OpenVINO, TensorRT plugins, mmdeploy).",
		Why:   "The model runs only where that library is installed; its kernels are native code from that project. This is informational: the domain is common in real exported models.",
		Fix:   "Make sure the extension library comes from its official distribution.",
		Tags:  []string{"onnx", "native-code"},
	},
	{
		ID: OnnxLocalFunction, Name: "OnnxModelLocalFunction", Severity: finding.SeverityLow,
		Title: "ONNX model defines model-local functions",
		What:  "The model carries FunctionProto definitions that its nodes can call like operators (the PyTorch dynamo exporter writes them routinely).",
		Why:   "Function bodies are ordinary ONNX graphs and modelgate scans them like the main graph; the finding lists them so reviewers know the graph is not flat. Custom-domain operators inside them are reported separately.",
		Fix:   "Nothing to do unless a separate finding reports a problem inside a function.",
		Tags:  []string{"onnx"},
	},
}
