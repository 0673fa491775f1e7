package rules

import "github.com/modelgate/modelgate/core/finding"

// Keras rule ids (MG3xx).
const (
	KerasLambda           = "MG301"
	KerasDangerousRef     = "MG302"
	KerasExternalModule   = "MG303"
	KerasDownloadGadget   = "MG304"
	KerasSafeModeToggle   = "MG305"
	KerasTorchModule      = "MG306"
	KerasTFOpLambda       = "MG307"
	KerasMalformedConfig  = "MG308"
	KerasUnreadableConfig = "MG309"
)

// kerasRules covers Keras HDF5 and Keras v3 (.keras) models. Ids in the MG3xx range.
var kerasRules = []Rule{
	{
		ID: KerasLambda, Name: "KerasLambdaBytecode", Severity: finding.SeverityHigh,
		Title: "Keras model carries Python bytecode in a Lambda layer",
		What:  "A Lambda layer (or a serialized __lambda__ object) stores its function as base64 of marshalled CPython bytecode. modelgate decodes the bytecode without running it and lists the names and strings it references; the finding is critical when those include code execution, OS, file or network access (os, system, exec, open, __import__, ...).",
		Why:   "Keras rebuilds the function with marshal.loads and runs it when the model is loaded or called: always for HDF5 files in affected versions (CVE-2025-9905, CVE-2024-3660) and for .keras files whenever safe_mode=False is passed or unsafe deserialization was enabled.",
		Fix:   "Do not load the model with safe_mode=False. If you own the model, replace the Lambda layer with a registered custom layer (keras.saving.register_keras_serializable) and re-save it; a reviewed Lambda can be allowed by the sha256 in the evidence with allow_code_sha256 in the policy file.",
		Tags:  []string{"security", "keras", "code-execution", "external/cwe/cwe-502", "external/cwe/cwe-94"},
	},
	{
		ID: KerasDangerousRef, Name: "KerasDangerousReference", Severity: finding.SeverityCritical,
		Title: "Keras config imports a dangerous Python callable",
		What:  "An object in the model config names a module and class or function (module / class_name / registered_name, or a Lambda function name) that resolves to something that runs commands, executes code or touches files and the network, such as os.system or builtins.exec.",
		Why:   "Keras imports the named module and looks the name up, then calls it while rebuilding the model (classes through from_config, functions as layers called with constant arguments from the config). This is the CVE-2025-1550 class of safe_mode bypass.",
		Fix:   "Do not load this model. Obtain it from a trusted source and load it with an up-to-date Keras in safe mode.",
		Tags:  []string{"security", "keras", "code-execution", "external/cwe/cwe-502"},
	},
	{
		ID: KerasExternalModule, Name: "KerasExternalModule", Severity: finding.SeverityMedium,
		Title: "Keras config imports a module outside Keras",
		What:  "An object in the model config names a module that is not part of Keras, TensorFlow or the Keras extension libraries (for example a user package). Reported at low severity when the object carries a registered name (package>Name), the shape Keras writes for custom objects registered by their own package.",
		Why:   "When the object is not registered in the loading process, Keras imports the module and instantiates the named class with attacker-chosen arguments. Custom layers legitimately do this, but the module must be code you trust.",
		Fix:   "Check that the module is your own, installed code. Register custom objects explicitly (custom_objects=...) and load in safe mode.",
		Tags:  []string{"security", "keras", "supply-chain"},
	},
	{
		ID: KerasDownloadGadget, Name: "KerasFileGadget", Severity: finding.SeverityHigh,
		Title: "Keras config calls a Keras or TensorFlow function that downloads, loads or writes files",
		What:  "The config references a Keras- or TensorFlow-namespaced function such as keras.utils.get_file, keras.utils.extract_archive, keras.models.load_model, Keras's func_load, tf.io.write_file or tf.py_function as a layer or object.",
		Why:   "Functions inside trusted namespaces pass safe_mode's module check, so a config can call get_file with an attacker URL and target path (CVE-2025-8747), write files, rebuild bytecode or load a further model while the model is being rebuilt.",
		Fix:   "Do not load this model; a model config never needs to call these functions.",
		Tags:  []string{"security", "keras", "external/cwe/cwe-494"},
	},
	{
		ID: KerasSafeModeToggle, Name: "KerasSafeModeDisabled", Severity: finding.SeverityHigh,
		Title: "Keras config turns off safe mode",
		What:  "The config references keras.config.enable_unsafe_deserialization (or its internal alias).",
		Why:   "Calling it while the model is rebuilt disables safe_mode for the rest of the load, so Lambda bytecode later in the same config runs (CVE-2025-9906).",
		Fix:   "Do not load this model.",
		Tags:  []string{"security", "keras", "code-execution"},
	},
	{
		ID: KerasTorchModule, Name: "KerasTorchModuleWrapper", Severity: finding.SeverityHigh,
		Title: "Keras model embeds a pickled PyTorch module",
		What:  "A TorchModuleWrapper layer stores its torch.nn.Module as the output of torch.save. modelgate decodes it and scans it like any PyTorch file; findings inside it are reported under this member.",
		Why:   "Keras rebuilds the module with torch.load(weights_only=False), which unpickles arbitrary objects (CVE-2025-49655).",
		Fix:   "Load only models whose TorchModuleWrapper content you trust; prefer saving the torch weights as safetensors and rebuilding the module in code.",
		Tags:  []string{"security", "keras", "pickle", "external/cwe/cwe-502"},
	},
	{
		ID: KerasTFOpLambda, Name: "KerasTFOpLambdaFileOrPython", Severity: finding.SeverityHigh,
		Title: "Keras TFOpLambda layer calls a TensorFlow file or Python-function op",
		What:  "A TFOpLambda layer names a TensorFlow API function that reads or writes files or runs Python (tf.io.write_file, tf.io.read_file, tf.py_function, tf.numpy_function, ...).",
		Why:   "TFOpLambda calls the named TensorFlow function with arguments stored in the config whenever the model runs; ordinary TFOpLambda layers only wrap math ops.",
		Fix:   "Inspect the layer's arguments; do not run the model unless you wrote it.",
		Tags:  []string{"security", "keras", "tensorflow"},
	},
	{
		ID: KerasMalformedConfig, Name: "KerasMalformedConfig", Severity: finding.SeverityMedium,
		Title: "Keras model config is not valid JSON",
		What:  "The model_config / training_config attribute or config.json could not be parsed as JSON, or a Lambda function could not be decoded.",
		Why:   "Keras would refuse it, or a parser differential hides content from scanners; either way the file is not what it claims to be.",
		Fix:   "Re-save the model with Keras.",
		Tags:  []string{"security", "keras", "integrity"},
	},
	{
		ID: KerasUnreadableConfig, Name: "KerasConfigBeyondReader", Severity: finding.SeverityHigh,
		Title: "HDF5 file mentions Keras layers that could not be read structurally",
		What:  "The structured HDF5 read failed, and the raw bytes contain Keras Lambda markers.",
		Why:   "A file crafted to break scanners' HDF5 readers while h5py still loads it would hide its Lambda layer; this is the safety net for that case.",
		Fix:   "Treat the file as untrusted and inspect it with h5dump.",
		Tags:  []string{"security", "keras", "evasion"},
	},
}
