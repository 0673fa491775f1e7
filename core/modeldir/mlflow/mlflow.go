// Package mlflow analyzes MLflow model directories: an MLmodel file (YAML,
// MLflow's documented layout) and the artifacts its flavors name. It judges
// what MLflow's loaders import and run: python_function.loader_module,
// the code directory put first on sys.path, models-from-code files, and
// the pickles each flavor deserializes.
package mlflow

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/modeldir"
	"github.com/modelgate/modelgate/core/pathcheck"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
)

// Analyzer is the MLflow model-directory analyzer.
type Analyzer struct{}

// Name implements modeldir.Analyzer.
func (Analyzer) Name() string { return "mlflow" }

// Marker implements modeldir.Analyzer: MLflow reads the file named MLmodel.
func (Analyzer) Marker(name string) bool { return name == "MLmodel" }

// Kind is the report.Model kind.
const Kind = "mlflow"

// AncestorMarkers implements modeldir.AncestorMarkers: a diff that changes
// only a bundled code file is judged with the MLmodel above it.
func (Analyzer) AncestorMarkers() []string { return []string{"MLmodel"} }

// maxCodeFindings bounds the per-file "bundled code" findings of one model;
// the rest are summarised on the MLmodel.
const maxCodeFindings = 50

// Analyze implements modeldir.Analyzer.
func (Analyzer) Analyze(ctx context.Context, t *modeldir.Tree, dir string, markers []*modeldir.File) (*report.Model, error) {
	mf := markers[0]
	data, err := t.ReadAll(ctx, mf, MaxMLmodelBytes)
	if err != nil {
		if errors.Is(err, modeldir.ErrTooLarge) {
			t.NotScanned(mf.Path, finding.Unscanned{RuleID: rules.NotScannedLimit, ModelLike: true,
				Reason: fmt.Sprintf("MLmodel larger than %d bytes was not analysed", MaxMLmodelBytes)})
			return nil, nil
		}
		return nil, err
	}
	if !engine.LooksLikeText(head(data)) {
		// A binary file named MLmodel (Core ML uses .mlmodel files) is
		// not MLflow's; the per-file scan judged its content.
		return nil, nil
	}
	m, err := ParseMLmodel(data)
	switch {
	case errors.Is(err, ErrNotMLmodel):
		return nil, nil
	case errors.Is(err, ErrLimit):
		t.NotScanned(mf.Path, finding.Unscanned{RuleID: rules.NotScannedLimit, ModelLike: true, Reason: err.Error()})
		return nil, nil
	case err != nil:
		// mlflow.pyfunc.load_model reads this file by its name; one that
		// yaml.v3 refuses (duplicate keys, several documents) may still
		// be read by PyYAML, so it cannot be vouched for.
		t.NotScanned(mf.Path, finding.Unscanned{RuleID: rules.NotScannedError, ModelLike: true,
			Reason: fmt.Sprintf("MLmodel could not be parsed strictly: %v", err)})
		return nil, nil
	}
	// A marker found by Lookup (a diff that did not list it) joins the
	// report like any file the scan read.
	t.Result(ctx, mf)
	t.Claim(mf.Path, "mlflow-mlmodel")
	a := &analysis{t: t, dir: dir, mlmodel: mf.Path, m: m, files: map[string]bool{mf.Path: true}}
	a.run(ctx)
	return a.model(), nil
}

func head(b []byte) []byte {
	if len(b) > engine.HeadSize {
		return b[:engine.HeadSize]
	}
	return b
}

type analysis struct {
	t       *modeldir.Tree
	dir     string
	mlmodel string
	m       *MLmodel
	files   map[string]bool
	code    int
	// codeFiles are bundled sources already reported, so a file named by
	// two keys is reported once.
	codeFiles map[string]bool
}

func (a *analysis) model() *report.Model {
	for _, f := range a.t.Listed(a.dir, true) {
		a.files[f.Path] = true
	}
	m := &report.Model{Path: a.dir, Kind: Kind, Properties: map[string]string{}}
	var flavors []string
	for _, f := range a.m.Flavors {
		flavors = append(flavors, f.Name)
		if m.Framework == "" && f.Name != "python_function" {
			m.Framework = f.Name
		}
	}
	if m.Framework == "" && len(flavors) > 0 {
		m.Framework = flavors[0]
	}
	m.Properties["mlflow.flavors"] = strings.Join(flavors, ",")
	if a.m.MLflowVersion != "" {
		m.Properties["mlflow.version"] = a.m.MLflowVersion
	}
	if a.m.RunID != "" {
		m.Properties["mlflow.run_id"] = a.m.RunID
	}
	if a.m.ModelUUID != "" {
		m.Properties["mlflow.model_uuid"] = a.m.ModelUUID
	}
	if pf, ok := a.m.Flavor("python_function"); ok {
		if lm := str(pf["loader_module"]); lm != "" {
			m.Properties["mlflow.loader_module"] = lm
		}
		// mlflow opens python_model with lzma, bz2 or gzip accordingly;
		// the engine recognises the compression by content either way.
		if c := str(pf["python_model_compression"]); c != "" {
			m.Properties["mlflow.python_model_compression"] = c
		}
	}
	for f := range a.files {
		m.Files = append(m.Files, f)
	}
	sort.Strings(m.Files)
	return m
}

func (a *analysis) severityForCode() finding.Severity {
	if a.t.Strict() {
		return finding.SeverityHigh
	}
	return finding.SeverityMedium
}

func (a *analysis) run(ctx context.Context) {
	a.codeFiles = map[string]bool{}
	for _, fl := range a.m.Flavors {
		a.flavor(ctx, fl)
	}
	if a.code > maxCodeFindings {
		a.t.Report(a.mlmodel, finding.Finding{RuleID: rules.ModelDirBundledCode, Severity: a.severityForCode(),
			Message: fmt.Sprintf("%d more bundled source files run or can be imported on load; only the first %d were reported one by one", a.code-maxCodeFindings, maxCodeFindings)})
	}
}

// ref describes one path a flavor names.
type ref struct {
	flavor, key, value string
	// pickle: the loader deserializes the file with pickle (or
	// cloudpickle, joblib, torch.load), so its content must be a pickle
	// or a container of one that modelgate scanned.
	pickle bool
}

func (r ref) where() string { return fmt.Sprintf("flavors.%s.%s", r.flavor, r.key) }

func (a *analysis) flavor(ctx context.Context, fl Flavor) {
	cfg := fl.Config
	for _, r := range flavorRefs(fl) {
		a.reference(ctx, r)
	}
	if fl.Name == "python_function" {
		a.loaderModule(cfg)
		a.envFiles(cfg["env"])
		if p := str(cfg["model_code_path"]); p != "" {
			a.modelCode(ctx, fl.Name, p)
		}
		if arts, ok := cfg["artifacts"].(map[string]any); ok {
			names := make([]string, 0, len(arts))
			for n := range arts {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				if info, ok := arts[n].(map[string]any); ok {
					if p := str(info["path"]); p != "" {
						a.reference(ctx, ref{flavor: fl.Name, key: "artifacts." + n + ".path", value: p})
					}
				}
			}
		}
	} else if p := str(cfg["model_code_path"]); p != "" {
		// langchain, llama_index and other flavors load models from code too.
		a.modelCode(ctx, fl.Name, p)
	}
	if c := str(cfg["code"]); c != "" {
		a.codeDir(ctx, fl.Name, c)
	}
	a.importedNames(ctx, fl)
}

// flavorRefs lists the artifact paths a flavor's configuration names, and
// whether its loader unpickles them. The keys are MLflow's own (see each
// flavor's save_model).
func flavorRefs(fl Flavor) []ref {
	cfg := fl.Config
	var out []ref
	add := func(key string, pickle bool) {
		if v := str(cfg[key]); v != "" {
			out = append(out, ref{flavor: fl.Name, key: key, value: v, pickle: pickle})
		}
	}
	switch fl.Name {
	case "python_function":
		add("python_model", true)
		add("model_path", false)
		// data is read by the flavor named in loader_module, which the
		// flavor's own entry describes; only scanned here.
		add("data", false)
	case "sklearn":
		add("pickled_model", str(cfg["serialization_format"]) != "skops")
	case "pytorch":
		add("model_data", true)
	case "statsmodels", "fastai":
		add("data", true)
	case "pmdarima", "paddle":
		add("pickled_model", true)
	case "lightgbm":
		d := str(cfg["data"])
		add("data", strings.HasSuffix(d, ".pkl") || strings.HasSuffix(d, ".pickle"))
	case "langchain":
		add("model_data", false)
		add("agent_data", false)
		add("tools_data", true)
		add("loader_fn_data", true)
		add("persist_dir", false)
	case "tensorflow":
		add("saved_model_dir", false)
		add("data", false)
	default:
		for _, k := range []string{"data", "model_data", "pickled_model", "saved_model_dir", "model_binary"} {
			add(k, k == "pickled_model")
		}
	}
	return out
}

// escapes reports a path that leaves the model directory.
func (a *analysis) escapes(where, p string) bool {
	why := pathcheck.Escapes(p)
	if why == "" {
		return false
	}
	a.t.Report(a.mlmodel, finding.Finding{RuleID: rules.ModelDirPathEscape, Global: where,
		Message:  fmt.Sprintf("%s names %q, which %s: the loader would read a file outside the model directory that this scan did not see", where, p, why),
		Evidence: fmt.Sprintf("%s: %s", where, p)})
	return true
}

// reference resolves one flavor path and checks what is there.
func (a *analysis) reference(ctx context.Context, r ref) {
	if a.escapes(r.where(), r.value) {
		return
	}
	target := modeldir.Join(a.dir, strings.TrimSuffix(r.value, "/"))
	if f, ok := a.t.Get(ctx, target); ok {
		a.artifact(ctx, r, f)
		return
	}
	if a.t.HasDir(target) {
		for _, f := range a.t.Listed(target, true) {
			fr := r
			// A directory holds more than the model (extra files,
			// requirements); only the file the loader unpickles must
			// be a pickle.
			fr.pickle = r.pickle && dirPickles[r.flavor] == path.Base(f.Path)
			a.artifact(ctx, fr, f)
		}
		if r.flavor == "pytorch" {
			a.pickleModule(ctx, target)
		}
		return
	}
	a.t.NotScanned(a.mlmodel, finding.Unscanned{RuleID: rules.NotScannedMissingFile, ModelLike: true,
		Reason: fmt.Sprintf("%s names %q, which is not in the model directory (nor found by the source): what the loader reads there was not scanned", r.where(), r.value)})
}

// artifact checks one file a flavor names: a file the loader unpickles must
// be content a format recognised, else its scan proves nothing.
func (a *analysis) artifact(ctx context.Context, r ref, f *modeldir.File) {
	a.files[f.Path] = true
	res := a.t.Result(ctx, f)
	if r.flavor == "python_function" && r.key == "python_model" && len(res.Formats) == 0 && isPythonSource(f.Path) {
		a.bundled(f.Path, fmt.Sprintf("%s names Python source %q, which the loader runs as the model", r.where(), r.value))
		return
	}
	if !r.pickle || len(res.Formats) > 0 || res.Status == finding.StatusNotScanned {
		return
	}
	a.t.NotScanned(f.Path, finding.Unscanned{RuleID: rules.NotScannedUnknown, ModelLike: true,
		Reason: fmt.Sprintf("MLflow's %s loader deserializes this file (%s) with pickle, but its content is no format modelgate recognises, so it was not scanned as the loader reads it", r.flavor, r.where())})
}

// dirPickles names the file a flavor's loader unpickles when the flavor
// names a directory (mlflow.pytorch torch.loads data/model.pth).
var dirPickles = map[string]string{"pytorch": "model.pth"}

func isPythonSource(p string) bool {
	return strings.HasSuffix(p, ".py")
}

// bundled reports Python source the model runs on load.
func (a *analysis) bundled(p, msg string) {
	if a.codeFiles[p] {
		return
	}
	a.codeFiles[p] = true
	a.files[p] = true
	a.code++
	if a.code > maxCodeFindings {
		return
	}
	a.t.Report(p, finding.Finding{RuleID: rules.ModelDirBundledCode, Severity: a.severityForCode(),
		Message: "runs bundled code on load, review it: " + msg})
}

// modelCode handles models-from-code: the loader joins the basename of
// model_code_path to the model directory and executes that file.
func (a *analysis) modelCode(ctx context.Context, flavor, p string) {
	base := path.Base(strings.ReplaceAll(p, "\\", "/"))
	target := modeldir.Join(a.dir, base)
	if f, ok := a.t.Get(ctx, target); ok {
		a.t.Result(ctx, f)
		a.bundled(f.Path, fmt.Sprintf("flavors.%s.model_code_path: MLflow executes %s (models from code) when the model is loaded", flavor, base))
		return
	}
	a.t.NotScanned(a.mlmodel, finding.Unscanned{RuleID: rules.NotScannedMissingFile, ModelLike: true,
		Reason: fmt.Sprintf("flavors.%s.model_code_path names %q; the loader executes %s from the model directory, which is not there", flavor, p, base)})
}

// codeDir judges the directory MLflow puts first on sys.path.
func (a *analysis) codeDir(ctx context.Context, flavor, c string) {
	where := fmt.Sprintf("flavors.%s.code", flavor)
	if a.escapes(where, c) {
		return
	}
	cdir := modeldir.Join(a.dir, strings.TrimSuffix(c, "/"))
	files := a.t.Listed(cdir, true)
	if len(files) == 0 {
		return
	}
	imports := loaderImports(a.m)
	for _, f := range files {
		a.files[f.Path] = true
		rel := modeldir.Rel(cdir, f.Path)
		mod, kind := topModule(rel)
		if mod == "" {
			continue
		}
		if why, ok := shadows(mod, imports); ok {
			if a.codeFiles[f.Path] {
				continue
			}
			a.codeFiles[f.Path] = true
			a.t.Result(ctx, f)
			a.t.Report(f.Path, finding.Finding{RuleID: rules.ModelDirCodeShadowing, Global: mod,
				Message:  fmt.Sprintf("bundled %s %q in the model's code directory (%s) shadows %s: MLflow puts this directory first on sys.path, so loading the model imports this file instead", kind, mod, where, why),
				Evidence: fmt.Sprintf("%s: %s -> %s", where, c, rel)})
			continue
		}
		if isPythonSource(f.Path) || kind == "extension module" {
			a.bundled(f.Path, fmt.Sprintf("module %q in the code directory (%s) is on sys.path when the model loads and runs if the model imports it", mod, where))
		}
	}
}

// topModule returns the importable top-level name a file in a sys.path
// directory provides, and what it is.
func topModule(rel string) (string, string) {
	first, rest, nested := strings.Cut(rel, "/")
	if nested {
		if rest == "" || !identifier(first) {
			return "", ""
		}
		return first, "package"
	}
	for _, ext := range []string{".py", ".pyc", ".pyw"} {
		if name, ok := strings.CutSuffix(first, ext); ok && identifier(name) {
			return name, "module"
		}
	}
	for _, ext := range []string{".so", ".pyd"} {
		if name, ok := strings.CutSuffix(first, ext); ok {
			// foo.cpython-311-x86_64-linux-gnu.so imports as foo.
			name, _, _ = strings.Cut(name, ".")
			if identifier(name) {
				return name, "extension module"
			}
		}
	}
	return "", ""
}

func identifier(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

//go:embed stdlib.txt
var stdlibText string

// stdlib returns the interpreter's standard-library module names, built on
// first use (most scans meet no MLflow model).
var stdlib = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(stdlibText, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m
})

// mlflowImports are mlflow itself and the packages mlflow.pyfunc and its
// loaders import whatever the flavor (MLflow's core requirements and the
// interpreter's site hooks).
var mlflowImports = set("mlflow", "numpy", "pandas", "scipy", "cloudpickle", "yaml", "packaging", "pydantic",
	"requests", "urllib3", "protobuf", "google", "importlib_metadata", "cachetools", "click", "sqlalchemy",
	"alembic", "flask", "gunicorn", "docker", "graphene", "markdown", "matplotlib", "pyarrow", "sqlparse",
	"databricks", "opentelemetry", "jinja2", "markupsafe", "werkzeug", "six", "typing_extensions", "dateutil",
	"pytz", "certifi", "idna", "charset_normalizer", "setuptools", "pkg_resources", "pip", "fsspec", "filelock",
	"psutil", "attr", "attrs", "threadpoolctl", "sitecustomize", "usercustomize", "joblib")

// flavorImports are the frameworks each flavor's loader imports.
var flavorImports = map[string][]string{
	"sklearn":               {"sklearn", "joblib", "skops"},
	"pytorch":               {"torch", "torchvision"},
	"tensorflow":            {"tensorflow", "keras", "tf_keras"},
	"keras":                 {"keras", "tensorflow", "tf_keras", "jax"},
	"xgboost":               {"xgboost"},
	"lightgbm":              {"lightgbm"},
	"catboost":              {"catboost"},
	"statsmodels":           {"statsmodels", "patsy"},
	"onnx":                  {"onnx", "onnxruntime"},
	"transformers":          {"transformers", "tokenizers", "huggingface_hub", "safetensors", "accelerate", "torch", "tensorflow"},
	"sentence_transformers": {"sentence_transformers", "transformers", "torch", "huggingface_hub"},
	"langchain":             {"langchain", "langchain_core", "langchain_community", "langgraph", "openai"},
	"llama_index":           {"llama_index", "openai"},
	"openai":                {"openai", "tiktoken"},
	"spark":                 {"pyspark", "py4j"},
	"h2o":                   {"h2o"},
	"prophet":               {"prophet"},
	"pmdarima":              {"pmdarima"},
	"fastai":                {"fastai", "torch"},
	"spacy":                 {"spacy", "thinc"},
	"paddle":                {"paddle"},
	"mleap":                 {"mleap", "pyspark"},
	"gluon":                 {"mxnet"},
	"diviner":               {"diviner"},
	"dspy":                  {"dspy"},
	"johnsnowlabs":          {"johnsnowlabs", "sparknlp", "pyspark"},
}

// loaderImports is what loading this model imports, besides the stdlib.
func loaderImports(m *MLmodel) map[string]string {
	out := map[string]string{}
	for n := range mlflowImports {
		out[n] = "a module MLflow's loader imports"
	}
	out["mlflow"] = "MLflow itself"
	// Every flavor's framework counts, not only this model's: a pickled
	// python_model can import any of them, and no genuine project names
	// its own package torch or sklearn.
	flavors := make([]string, 0, len(flavorImports))
	for fl := range flavorImports {
		flavors = append(flavors, fl)
	}
	sort.Strings(flavors)
	for _, fl := range flavors {
		for _, n := range flavorImports[fl] {
			if _, ok := out[n]; !ok {
				out[n] = fmt.Sprintf("a framework MLflow's %s flavor loads", fl)
			}
		}
	}
	for _, fl := range m.Flavors {
		for _, n := range flavorImports[fl.Name] {
			out[n] = fmt.Sprintf("the %s flavor's framework", fl.Name)
		}
	}
	return out
}

// notOnLoadPath are standard-library names that neither Python's startup,
// MLflow nor the frameworks import, and that projects commonly give their
// own modules (a code/test.py). A bundled module with such a name is
// reported as bundled code for review, not as shadowing.
var notOnLoadPath = set("test", "this", "antigravity", "turtle", "turtledemo", "idlelib", "tkinter",
	"lib2to3", "pydoc_data", "ensurepip", "venv", "__hello__", "__phello__", "xxsubtype", "_testcapi",
	"_testbuffer", "_testimportmultiple", "_testinternalcapi", "_testmultiphase", "_xxtestfuzz")

func shadows(mod string, imports map[string]string) (string, bool) {
	if why, ok := imports[mod]; ok {
		return why + " (" + mod + ")", true
	}
	if stdlib()[mod] && !notOnLoadPath[mod] {
		return "the standard-library module " + mod, true
	}
	return "", false
}

func set(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

// ownLoaderModules are the loader modules MLflow's flavors write
// (python_function.loader_module).
var ownLoaderModules = set("mlflow.sklearn", "mlflow.pytorch", "mlflow.tensorflow", "mlflow.keras",
	"mlflow.tensorflow.keras", "mlflow.xgboost", "mlflow.lightgbm", "mlflow.catboost", "mlflow.statsmodels",
	"mlflow.onnx", "mlflow.transformers", "mlflow.sentence_transformers", "mlflow.langchain",
	"mlflow.llama_index", "mlflow.openai", "mlflow.spark", "mlflow.h2o", "mlflow.prophet", "mlflow.pmdarima",
	"mlflow.fastai", "mlflow.spacy", "mlflow.paddle", "mlflow.mleap", "mlflow.gluon", "mlflow.diviner",
	"mlflow.dspy", "mlflow.johnsnowlabs", "mlflow.promptflow", "mlflow.crewai", "mlflow.pyfunc.model",
	"mlflow.pyfunc.loaders.chat_model", "mlflow.pyfunc.loaders.chat_agent",
	"mlflow.pyfunc.loaders.responses_agent", "mlflow.pyfunc.loaders.code_model",
	"mlflow.pyfunc.loaders.flexible_model", "mlflow.langchain.chat_agent_langgraph")

func (a *analysis) loaderModule(cfg map[string]any) {
	lm := str(cfg["loader_module"])
	if lm == "" || ownLoaderModules[lm] {
		return
	}
	sev := finding.SeverityCritical
	why := "is not one of MLflow's flavor modules: mlflow.pyfunc.load_model imports it (running its top-level code) and calls its _load_pyfunc"
	if strings.HasPrefix(lm, "mlflow.") {
		// Inside MLflow's own package an unknown name runs only MLflow's
		// code (a code/ directory shadowing mlflow is reported apart).
		sev = finding.SeverityMedium
		why = "is not a loader module MLflow's flavors write; the loader imports it and calls its _load_pyfunc"
	}
	a.t.Report(a.mlmodel, finding.Finding{RuleID: rules.ModelDirForeignModule, Severity: sev, Global: lm,
		Message:  fmt.Sprintf("flavors.python_function.loader_module %q %s", lm, why),
		Evidence: "loader_module: " + lm})
}

// importedNames checks flavor options that name a module or class the
// flavor's loader imports.
func (a *analysis) importedNames(ctx context.Context, fl Flavor) {
	check := func(key string, ok func(string) bool) {
		v := str(fl.Config[key])
		if v == "" || ok(v) {
			return
		}
		a.t.Report(a.mlmodel, finding.Finding{RuleID: rules.ModelDirForeignModule, Global: v,
			Message:  fmt.Sprintf("flavors.%s.%s %q is outside the %s framework: the flavor's loader imports it by name", fl.Name, key, v, fl.Name),
			Evidence: key + ": " + v})
	}
	prefixed := func(prefixes ...string) func(string) bool {
		return func(v string) bool {
			for _, p := range prefixes {
				if v == strings.TrimSuffix(p, ".") || strings.HasPrefix(v, p) {
					return true
				}
			}
			return false
		}
	}
	switch fl.Name {
	case "keras", "tensorflow":
		check("keras_module", prefixed("keras.", "tensorflow.keras.", "tf_keras.", "tensorflow.python.keras."))
	case "xgboost":
		check("model_class", prefixed("xgboost."))
	case "lightgbm":
		check("model_class", prefixed("lightgbm."))
	}
}

// pickleModules are the modules mlflow.pytorch records in
// data/pickle_module_info.txt and imports to torch.load the model.
var pickleModules = set("mlflow.pytorch.pickle_module", "pickle", "cloudpickle", "dill")

// pickleModule checks the module mlflow.pytorch imports to unpickle the
// model, which save_model writes into the model data directory.
func (a *analysis) pickleModule(ctx context.Context, dataDir string) {
	f, ok := a.t.Get(ctx, dataDir+"/pickle_module_info.txt")
	if !ok {
		return
	}
	data, err := a.t.ReadAll(ctx, f, 4096)
	if err != nil {
		a.t.NotScanned(f.Path, finding.Unscanned{RuleID: rules.NotScannedError, ModelLike: true,
			Reason: fmt.Sprintf("the module mlflow.pytorch imports to unpickle the model could not be read: %v", err)})
		return
	}
	mod := strings.TrimSpace(string(data))
	if pickleModules[mod] {
		return
	}
	a.t.Report(f.Path, finding.Finding{RuleID: rules.ModelDirForeignModule, Global: report.Printable(mod),
		Message:  fmt.Sprintf("mlflow.pytorch imports the module named here (%q) and uses it to unpickle the model; it is not MLflow's pickle module", report.Printable(mod)),
		Evidence: "pickle_module_info.txt: " + report.Printable(mod)})
}

// envFiles checks the environment files pyfunc names (a path or a mapping
// of conda and virtualenv files); mlflow reads them to build the model's
// environment, so they must stay inside the directory too.
func (a *analysis) envFiles(v any) {
	switch e := v.(type) {
	case string:
		a.escapes("flavors.python_function.env", e)
	case map[string]any:
		keys := make([]string, 0, len(e))
		for k := range e {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if s := str(e[k]); s != "" {
				a.escapes("flavors.python_function.env."+k, s)
			}
		}
	}
}
