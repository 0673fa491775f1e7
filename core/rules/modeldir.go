package rules

import "github.com/modelgate/modelgate/core/finding"

// Model-directory rule ids (MG10xx): what lives only at the level of a
// directory whose files refer to one another (MLflow MLmodel, Hugging Face
// repositories, SavedModel, ONNX external data). MG907 belongs to the
// not-scanned family.
const (
	ModelDirForeignModule   = "MG1001"
	ModelDirCodeShadowing   = "MG1002"
	ModelDirBundledCode     = "MG1003"
	ModelDirPathEscape      = "MG1004"
	ModelDirRemoteCode      = "MG1005"
	ModelDirShardFormat     = "MG1006"
	NotScannedMissingFile   = "MG907"
	ModelDirUnexpectedShard = "MG1007"
)

// modelDirRules covers model directories. Ids in the MG10xx range, plus
// MG907 among the not-scanned rules.
var modelDirRules = []Rule{
	{
		ID: ModelDirForeignModule, Name: "MLflowImportsForeignModule", Severity: finding.SeverityCritical,
		Title: "MLmodel makes MLflow import a module that is not MLflow's or the flavor's",
		What:  "The MLmodel file names a Python module that mlflow.pyfunc.load_model or a flavor's loader imports by name: python_function.loader_module outside MLflow's own flavor modules, a keras_module that is not Keras, a model_class outside xgboost or lightgbm, or a PyTorch pickle module (data/pickle_module_info.txt) that is not MLflow's.",
		Why:   "Importing a module runs its top-level code, and the loader then calls its _load_pyfunc. A model directory can therefore run any code it ships (or any installed module's side effects) with no pickle at all; published 2026 proofs of concept do exactly this and peer scanners report them clean.",
		Fix:   "Do not load the model. A genuine MLflow model names mlflow.<flavor> (or mlflow.pyfunc.model) as its loader_module; re-log it with mlflow.<flavor>.log_model from a trusted environment.",
		Tags:  []string{"security", "mlflow", "code-execution"},
	},
	{
		ID: ModelDirCodeShadowing, Name: "MLflowCodeShadowsModule", Severity: finding.SeverityCritical,
		Title: "Bundled code shadows a module the loader imports",
		What:  "A file or package in the model's code directory (the MLmodel's code: entry) has the name of a standard-library module, of mlflow, or of a framework or dependency the loader imports (sklearn, torch, numpy, cloudpickle ...).",
		Why:   "MLflow puts the code directory first on sys.path and drops already-imported modules found there, so the bundled file replaces the real module and runs as soon as the loader (or anything after it) imports that name.",
		Fix:   "Do not load the model. Rename the bundled module, or remove it and depend on the real package; re-log the model with code_paths that hold only your own package.",
		Tags:  []string{"security", "mlflow", "code-execution", "supply-chain"},
	},
	{
		ID: ModelDirBundledCode, Name: "ModelRunsBundledCode", Severity: finding.SeverityMedium,
		Title: "Model runs bundled code when it is loaded: review it",
		What:  "The model directory ships Python source that its loader runs: an MLflow models-from-code file (model_code_path), a python_model that is source rather than a pickle, or modules in the MLmodel's code directory that custom pyfunc models import.",
		Why:   "This is how such models are meant to work, but the code runs with the loader's rights and no static scan of model files vouches for it. It is reported at medium (high with strict: true in the policy) so that a person reviews it.",
		Fix:   "Review the file. Once reviewed, accept it with a policy suppression for its path and this rule (suppressions: - {path: \"models/churn/code/*.py\", rule: MG1003, reason: ...}).",
		Tags:  []string{"security", "mlflow", "code-execution"},
	},
	{
		ID: ModelDirPathEscape, Name: "ModelMetadataPathEscape", Severity: finding.SeverityHigh,
		Title: "Model metadata names a file outside the model directory",
		What:  "A path in the model's metadata (an MLmodel flavor file, artifact or code path, a sharded checkpoint's weight map) is absolute, a Windows drive or UNC path, contains a NUL byte, or climbs out with '..'.",
		Why:   "Loaders join these paths to the model directory; an escaping one makes loading read, unpickle or import a file the scan never saw (a pickle planted elsewhere, a user's credentials).",
		Fix:   "Do not load the model. Every file a model refers to must be a relative path inside its directory; re-export it from a trusted source.",
		Tags:  []string{"security", "path-traversal", "external/cwe/cwe-22"},
	},
	{
		ID: ModelDirRemoteCode, Name: "HuggingFaceRemoteCode", Severity: finding.SeverityMedium,
		Title: "Hugging Face config maps classes to custom code (trust_remote_code)",
		What:  "config.json, tokenizer_config.json or another processor config has an auto_map that sends an Auto class to a Python module of the repository (or of another repository, repo--module.Class), or config.json names a custom_pipelines impl class.",
		Why:   "transformers imports and runs that module when the model is loaded with trust_remote_code=True, which many loading snippets pass. The module is code, not weights; it is reported at medium (high with strict: true) for review, on the .py file it names.",
		Fix:   "Review the named module. Load with trust_remote_code=False if the architecture is in transformers; otherwise pin a reviewed revision and suppress the finding for that path.",
		Tags:  []string{"security", "huggingface", "code-execution"},
	},
	{
		ID: ModelDirShardFormat, Name: "CheckpointShardFormatMismatch", Severity: finding.SeverityHigh,
		Title: "Checkpoint shard is not the format its name says",
		What:  "A shard named by a sharded checkpoint's weight map (*.index.json) has content of another format than its name: a .safetensors shard that is a pickle or a PyTorch archive, a .bin shard that is not a PyTorch checkpoint.",
		Why:   "Loaders pick the deserializer by name or by the index, and reviewers trust the name; a pickle disguised as safetensors (or served to a loader that falls back to torch.load) runs code where data was expected.",
		Fix:   "Treat the checkpoint as tampered. Re-download it from its source, or re-save it with save_pretrained(safe_serialization=True).",
		Tags:  []string{"security", "huggingface", "integrity"},
	},
	{
		ID: ModelDirUnexpectedShard, Name: "CheckpointIndexInvalid", Severity: finding.SeverityMedium,
		Title: "Sharded checkpoint index cannot be read",
		What:  "A *.index.json file that names checkpoint shards is not a JSON object with a weight_map of tensor names to file names, or it is larger than the analysis limit.",
		Why:   "Without the weight map modelgate cannot tell which shards the loader reads, so it cannot check that they exist and are what they claim.",
		Fix:   "Re-create the index with save_pretrained.",
		Tags:  []string{"huggingface", "integrity"},
	},
	{
		ID: NotScannedMissingFile, Name: "NotScannedMissingFile", Severity: finding.SeverityMedium, Unscanned: true,
		Title: "A file the model's metadata names is not there",
		What:  "The model's metadata (an MLmodel flavor, a weight map, an auto_map, a SavedModel asset, an ONNX external-data location) names a file that is neither in the scanned tree nor found by the source (in a git diff, unchanged files are looked up too).",
		Why:   "What the loader would read was not scanned. Missing code or pickles fail closed under the default policy; missing raw tensor data and assets are reported without failing.",
		Fix:   "Scan the complete model directory (fetch Git LFS objects and every artifact first), or fix the metadata.",
		Tags:  []string{"not-scanned"},
	},
}
