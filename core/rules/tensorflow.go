package rules

import "github.com/modelgate/modelgate/core/finding"

// TensorFlow rule ids (MG4xx).
const (
	TFFileAccessOp      = "MG401"
	TFPythonCallOp      = "MG402"
	TFPathOutsideModel  = "MG403"
	TFUnknownOp         = "MG404"
	TFDebugURL          = "MG405"
	KerasLambdaMetadata = "MG406"
	TFTextSavedModel    = "MG407"
)

// tensorflowRules covers TensorFlow SavedModel graphs. Ids in the MG4xx range.
var tensorflowRules = []Rule{
	{
		ID: TFFileAccessOp, Name: "TensorFlowFileAccessOp", Severity: finding.SeverityHigh,
		Title: "TensorFlow graph reads or writes files",
		What:  "A node of the graph or of a library function is ReadFile, WriteFile, MatchingFiles (or its dataset form) or ImmutableConst: operators that read, write, list or memory-map files when the graph runs.",
		Why:   "Serving a model runs its graph. These operators let a model read secrets into its outputs, drop files on the server, or probe the file system; inference graphs have no need for them (Protect AI PAIT-TF-200; modelscan and modelaudit flag them).",
		Fix:   "Do not serve the model. If it is yours, remove the file operations from the exported functions (read inputs in the serving client instead) and export again.",
		Tags:  []string{"security", "tensorflow", "file-access"},
	},
	{
		ID: TFPythonCallOp, Name: "TensorFlowPythonCallOp", Severity: finding.SeverityCritical,
		Title: "TensorFlow graph calls back into Python",
		What:  "A node is PyFunc, PyFuncStateless or EagerPyFunc, the operators behind tf.py_function and tf.numpy_function.",
		Why:   "These operators run a Python callable of the loading process. The callable is not in the file, but a graph that expects one is built to execute arbitrary Python at run time and cannot be served safely or portably.",
		Fix:   "Do not load the model. Re-export it with the Python step replaced by TensorFlow operators.",
		Tags:  []string{"security", "tensorflow", "code-execution"},
	},
	{
		ID: TFPathOutsideModel, Name: "TensorFlowConstantPathOutsideModel", Severity: finding.SeverityHigh,
		Title: "TensorFlow graph uses a constant file path outside the model",
		What:  "A checkpoint, table-initialisation, dataset or summary operator (SaveV2, RestoreV2, MergeV2Checkpoints, InitializeTableFromTextFileV2, TFRecordDataset, ...) takes its path from a constant that is absolute, climbs out with '..', or names another file system (gs://, s3://, file://).",
		Why:   "Real exports feed these paths from the saver's filename placeholder or from the model's own assets. A baked-in outside path makes loading or running the model read or overwrite files elsewhere, or send weights to a remote bucket.",
		Fix:   "Do not load the model. Re-export it so that paths come from the SavedModel's assets or variables directory.",
		Tags:  []string{"security", "tensorflow", "path-traversal", "external/cwe/cwe-22"},
	},
	{
		ID: TFUnknownOp, Name: "TensorFlowUnknownOp", Severity: finding.SeverityMedium,
		Title: "TensorFlow graph uses an operator TensorFlow does not register",
		What:  "A node's operator is neither in TensorFlow's own operator list (tf.raw_ops) nor a function of the graph's library.",
		Why:   "Such operators only exist after tf.load_op_library loads a native shared library, which runs machine code this scan cannot see; they are also how crafted graphs hide behaviour from reviewers. Add-on libraries (TensorFlow Text, Addons, SentencePiece) register legitimate ones.",
		Fix:   "Identify the library that provides the operator and where it comes from; suppress the finding in the policy once the library is trusted.",
		Tags:  []string{"security", "tensorflow", "native-code"},
	},
	{
		ID: TFDebugURL, Name: "TensorFlowDebugOpURL", Severity: finding.SeverityHigh,
		Title: "TensorFlow debug operator sends tensors to a URL",
		What:  "A tfdbg operator (DebugIdentity, DebugNumericSummary, Copy, ...) carries debug_urls such as file:// or grpc:// addresses.",
		Why:   "Each run dumps the watched tensors (inputs, activations, weights) to that file path or network endpoint: a data-exfiltration channel baked into the graph.",
		Fix:   "Do not serve the model; re-export it without tfdbg instrumentation.",
		Tags:  []string{"security", "tensorflow", "exfiltration"},
	},
	{
		ID: KerasLambdaMetadata, Name: "KerasLambdaInSavedModel", Severity: finding.SeverityHigh,
		Title: "Keras SavedModel metadata contains a Lambda layer",
		What:  "keras_metadata.pb describes a Lambda layer whose config carries a Python function, usually marshalled bytecode.",
		Why:   "tf.keras.models.load_model rebuilds Lambda layers from that bytecode and runs it whenever the layer is called: arbitrary Python from the file (CVE-2024-3660 class for Keras < 3 safe_mode).",
		Fix:   "Load only the SavedModel signatures (tf.saved_model.load) or re-export the model with the Lambda replaced by a registered custom layer whose code you control.",
		Tags:  []string{"security", "keras", "tensorflow", "code-execution"},
	},
	{
		ID: TFTextSavedModel, Name: "TensorFlowTextSavedModel", Severity: finding.SeverityLow,
		Title: "Text-format SavedModel checked by operator names only",
		What:  "The file is a saved_model.pbtxt: the protobuf text form of a SavedModel, which TensorFlow loads like the binary form. modelgate checked its operator names (file, Python, debug and unknown operators are still reported) but not constant paths or attributes.",
		Why:   "Real exports use the binary saved_model.pb; a text graph is editable by hand and gets a lighter check, so a reviewer should know.",
		Fix:   "Prefer the binary saved_model.pb (tf.saved_model.save writes it) and scan that.",
		Tags:  []string{"tensorflow"},
	},
}
