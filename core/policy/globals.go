package policy

import (
	_ "embed"
	"strings"
	"sync"
)

// Class is the verdict on one global.
type Class int

// Classes of globals.
const (
	Unknown Class = iota
	Safe
	Dangerous
	// NeedsCall marks globals whose safety depends on their arguments
	// (getattr, functools.partial, copyreg._reconstructor, ...).
	NeedsCall
)

func (c Class) String() string {
	return [...]string{"unknown", "safe", "dangerous", "needs-call-analysis"}[c]
}

//go:embed data/harvested_globals.txt
var harvestedObjects string

// harvestedPackages is the walk over the installed packages
// (test/harvest_packages.py): public classes, the reconstructors they emit,
// reference-only functions and aliases of denylisted objects.
//
//go:embed data/harvested_packages.txt
var harvestedPackages string

// harvestLines yields the lines of both harvests. The embedded strings are
// read in place: joining them would copy 400 KB at every start-up.
func harvestLines(yield func(string) bool) {
	for _, h := range [...]string{harvestedObjects, harvestedPackages} {
		for line := range strings.SplitSeq(h, "\n") {
			if !yield(line) {
				return
			}
		}
	}
}

// py2Extra maps Python 2 names that _compat_pickle leaves alone (so CPython 3
// fails to import them) onto their Python 3 meaning. Judging them as their
// Python 2 behaviour costs nothing and keeps py2-era payloads (and loaders
// with their own compat tables) from hiding.
var py2Extra = map[string]string{
	"exceptions": "builtins", "cPickle": "pickle", "commands": "subprocess",
	"thread": "_thread", "urllib2": "urllib.request", "httplib": "http.client",
}

var py2Names = map[string]string{
	"builtins.execfile": "builtins.exec", "builtins.apply": "builtins.exec", "builtins.file": "builtins.open",
	"builtins.reload": "importlib.reload", "builtins.raw_input": "builtins.input",
}

// Canonical returns "module.name" with Python 2 names mapped as CPython's
// find_class does (NAME_MAPPING first, then IMPORT_MAPPING), plus py2Extra.
func Canonical(module, name string) string {
	// Judging calls this for every global and call of every pickle; the
	// renaming tables are keyed by a few hundred Python 2 modules, so one
	// lookup by module decides whether any of them applies.
	if py2Modules[module] {
		if mn, ok := compatNames[[2]string{module, name}]; ok {
			module, name = mn[0], mn[1]
		} else if m, ok := compatImports[module]; ok {
			module = m
		} else if m, ok := py2Extra[module]; ok {
			module = m
		}
	}
	q := module + "." + name
	if py2NameModules[module] {
		if n, ok := py2Names[q]; ok {
			return n
		}
	}
	return q
}

// py2Modules are the modules compatNames, compatImports and py2Extra
// rename; py2NameModules every module part of py2Names' keys.
var py2Modules, py2NameModules = renamedModules()

func renamedModules() (renamed, named map[string]bool) {
	renamed = make(map[string]bool, len(compatImports)+len(py2Extra)+16)
	for k := range compatNames {
		renamed[k[0]] = true
	}
	for m := range compatImports {
		renamed[m] = true
	}
	for m := range py2Extra {
		renamed[m] = true
	}
	named = map[string]bool{}
	for q := range py2Names {
		// module+"."+name spells q for every split at a dot.
		for i := range len(q) {
			if q[i] == '.' {
				named[q[:i]] = true
			}
		}
	}
	return renamed, named
}

// dangerousRoots are modules whose every member can reach code execution,
// the OS, the network or the filesystem. A global is dangerous when its
// module path starts with one of these, or when any later dotted component
// of module or name is one of strongComponents (attribute walks such as
// torch._utils.os.system).
var dangerousRoots = set(
	"os", "posix", "nt", "subprocess", "sys", "socket", "pty", "runpy", "commands",
	"multiprocessing", "_posixsubprocess", "code", "codeop", "marshal", "importlib",
	"_frozen_importlib", "_frozen_importlib_external", "_imp", "imp", "pkgutil", "zipimport",
	"ctypes", "_ctypes", "pickle", "_pickle", "cPickle", "cloudpickle", "dill", "shutil",
	"tempfile", "webbrowser", "asyncio", "bdb", "pdb", "cProfile", "profile", "timeit", "trace",
	"pydoc", "ensurepip", "pip", "venv", "idlelib", "lib2to3", "doctest", "distutils", "setuptools",
	"urllib", "urllib2", "http", "httplib", "requests", "aiohttp", "ssl", "ftplib", "smtplib",
	"imaplib", "poplib", "telnetlib", "nntplib", "socketserver", "xmlrpc", "signal", "_signal",
	"_thread", "threading", "atexit", "sqlite3", "_sqlite3", "glob", "fileinput", "shelve", "mmap",
	"select", "selectors", "_osx_support", "_aix_support", "_pyrepl", "test", "inspect", "gc",
	"site", "operator", "_operator", "functools", "types", "logging", "_io", "io", "builtins",
	"__builtins__", "compileall", "py_compile", "filecmp", "pexpect", "pipes", "syslog", "tarfile",
	"zipfile", "_winapi", "winreg", "msvcrt", "uuid", "platform", "fickling", "picklescan",
	"modelscan", "modelaudit", "model_unpickler", "saferpickle", "joblib", "numpy.f2py",
	"numpy.distutils", "numpy.testing", "torch.hub", "torch._dynamo", "torch._inductor", "torch.jit",
	"torch.utils.cpp_extension", "torch.utils.collect_env", "torch.utils.bottleneck",
	"torch.utils._config_module", "torch.distributed", "torch.serialization", "torch.package",
	"torch.fx.experimental.symbolic_shapes", "torch.utils.data.datapipes", "torch.testing",
	"torch._export", "torch.compiler", "mlflow.projects", "pandas.io", "keras.utils", "tensorflow.io",
	"jinja2", "yaml", "copyreg",
	// Bypass audit additions: each reaches exec/eval, imports, native code,
	// processes, files or the network from constant arguments.
	"_pyio", "_interpreters", "_xxsubinterpreters", "_xxinterpchannels", "interpreters", "unittest",
	"linecache", "dbm", "tkinter", "_tkinter", "turtle", "wsgiref", "cgi", "cgitb", "mailcap",
	"rlcompleter", "readline", "_lsprof", "_socket", "_ssl", "_multiprocessing", "_posixshmem",
	"_testcapi", "_testinternalcapi", "_testbuffer", "_testmultiphase", "_xxtestfuzz", "_ctypes_test",
	"_overlapped", "_msi", "faulthandler", "resource", "pstats", "zipapp", "modulefinder",
	"pkg_resources", "importlib_metadata", "concurrent.futures.process", "_compat_pickle",
	"torch.fx.graph_module", "torch.fx._lazy_graph_module", "torch.multiprocessing",
	"torch.utils.data.dataloader", "torch.cuda._utils", "torch._C._jit_tree_views",
	"numpy.lib.npyio", "numpy.lib._npyio_impl", "numpy.lib.format", "numpy.lib._format_impl",
	"numpy.lib._datasource", "numpy.ctypeslib", "numpy.lib.utils", "numpy.lib._utils_impl",
	"pandas.core.computation", "sklearn.utils._testing", "sklearn.datasets", "scipy.io.matlab._mio",
	"scipy.io.matlab.mio", "scipy.io._mmio", "scipy.io.mmio", "scipy.io.wavfile", "scipy.io._netcdf",
	"scipy.io.netcdf", "scipy.io._idl", "scipy.io.idl", "scipy.io._harwell_boeing", "scipy.io._fortran",
	"scipy._lib._testutils", "mlflow.pyfunc", "sklearn.externals.joblib", "sklearn.utils._joblib",
	"scipy._lib.decorator", "decorator", "torch.utils.benchmark", "torch.utils.data.communication",
	"torch.utils.model_dump", "torch.cuda._memory_viz", "torchvision.datasets.utils",
	"torchvision._internally_replaced_utils", "transformers.dynamic_module_utils",
)

var strongComponents = set(
	"os", "posix", "nt", "subprocess", "sys", "builtins", "__builtins__", "__builtin__", "socket",
	"pty", "runpy", "pickle", "_pickle", "marshal", "importlib", "ctypes", "shutil", "_posixsubprocess",
	"eval", "exec", "system", "popen", "__import__", "__globals__", "__subclasses__", "__code__",
	"__getattribute__", "__reduce__", "__reduce_ex__", "__class__", "__base__", "__bases__", "__mro__",
	"__dict__", "__init__", "__new__", "__call__", "__setattr__", "__getattr__",
)

// dangerousNames are exact globals that are dangerous although their module
// as a whole is not.
var dangerousNames = set(
	"torch.load", "torch.save", "torch.compile", "torch._C._jit_script_compile",
	"numpy.load", "numpy.save", "numpy.fromfile", "numpy.loadtxt", "numpy.genfromtxt",
	"numpy.lib.npyio.load", "numpy.lib.utils.runstring",
	"torch.utils.data.datapipes.utils.decoder.basichandlers", "torch._utils._rebuild_from_type",
	"torch.ops.load_library",
	// Bypass audit additions: load or write files, URLs or native code, or
	// evaluate strings, although their modules are mostly harmless.
	"numpy.savetxt", "numpy.savez", "numpy.savez_compressed", "numpy.fromregex", "numpy.DataSource",
	"numpy.lib.DataSource", "numpy.frompyfunc", "numpy.lib.utils.safe_eval",
	"torch._C._load_for_lite_interpreter", "torch._C.import_ir_module",
	"torch._C.import_ir_module_from_buffer", "torch.classes.load_library", "torch._ops.ops.load_library",
	"torch.autograd.profiler.profile.export_chrome_trace",
	"pandas.read_pickle", "pandas.read_csv", "pandas.read_table", "pandas.read_fwf", "pandas.read_json",
	"pandas.read_html", "pandas.read_xml", "pandas.read_sql", "pandas.read_sql_query",
	"pandas.read_sql_table", "pandas.read_parquet", "pandas.read_orc", "pandas.read_feather",
	"pandas.read_excel", "pandas.read_hdf", "pandas.read_stata", "pandas.read_sas", "pandas.read_spss",
	"scipy.io.loadmat", "scipy.io.savemat", "scipy.io.whosmat", "scipy.io.mmread", "scipy.io.mmwrite",
	"scipy.io.readsav", "scipy.io.netcdf_file", "scipy.io.FortranFile", "scipy.io.hb_read", "scipy.io.hb_write",
	"scipy.io.matlab.loadmat", "scipy.io.matlab.savemat", "scipy.io.matlab.whosmat",
	"concurrent.futures.ProcessPoolExecutor",
	// import any module by name (found by mining numpy/scipy/sklearn/pandas sources).
	"pandas.compat._optional.import_optional_dependency", "pandas.plotting._core._load_backend",
	"numpy.add_newdoc", "numpy.core.function_base.add_newdoc", "numpy.lib.add_newdoc",
	"numpy.core.add_newdoc", "numpy._core.function_base.add_newdoc",
	"torch.nn.utils._deprecation_utils.lazy_deprecated_import", "torchvision.io.write_file",
	"torchvision.io.image.write_file", "torchvision.io.write_png", "torchvision.io.image.write_png",
	"torchvision.io.write_jpeg", "torchvision.io.image.write_jpeg", "torchvision.io.write_video",
	"torchvision.io.video.write_video", "torchvision.datasets.imagenet.load_meta_file",
	"torchvision.extension._load_library",
	"pandas.read_clipboard", "pandas.eval", "pandas.HDFStore", "pandas.ExcelWriter",
	"typing.ForwardRef._evaluate", "typing._eval_type", "typing.get_type_hints",
	"typing.evaluate_forward_ref",
	"dataclasses._create_fn", "dataclasses.make_dataclass", "copy._reconstruct",
	"codecs.open", "gzip.open", "bz2.open", "lzma.open", "gzip.GzipFile", "bz2.BZ2File", "lzma.LZMAFile",
)

// sinkAttrs are method and attribute names that run code or touch files,
// processes or the network when called. They are judged where an attribute
// is fetched from an object: getattr's second argument and the last part of a
// dotted global name (Class.method), so that methods of allowlisted classes
// and of objects the pickle built cannot be used as gadgets.
var sinkAttrs = set(
	"eval", "exec", "_evaluate", "runcode", "runsource", "runcommand", "runctx", "runcall", "runeval",
	"run_path", "run_module", "_run_code", "_run_module_code", "attr_matches", "global_matches",
	"system", "popen", "spawn", "getoutput", "check_output", "execute", "executescript", "executemany",
	"tofile", "dump", "to_pickle", "to_csv", "to_hdf", "to_parquet", "to_feather", "to_excel",
	"to_json", "to_sql", "to_stata", "to_html", "to_latex", "to_markdown", "to_xml", "to_orc",
	"to_clipboard", "savetxt", "save", "savez", "load", "loads", "load_state_dict_from_url",
	"read_pickle", "extractall", "extract", "write", "write_bytes", "write_text", "writelines",
	"open", "unlink", "remove", "rmdir", "rmtree", "rename", "mkdir", "touch", "chmod",
	"symlink_to", "hardlink_to", "link_to", "load_library", "load_inline", "import_module",
	"load_module", "exec_module", "get_source", "find_module", "__import__", "urlopen", "urlretrieve",
	"query", "connect", "sendall", "send", "request", "start", "start_new_thread", "register",
	"timeit", "autorange", "blocked_autorange", "adaptive_autorange", "collect_callgrind",
)

// safeBuiltins are builtins that only construct plain values.
var safeBuiltins = set(
	"bool", "int", "float", "complex", "str", "bytes", "bytearray", "list", "tuple", "set",
	"frozenset", "dict", "len", "abs", "sum", "min", "max", "round", "pow", "divmod", "sorted",
	"reversed", "enumerate", "zip", "range", "slice", "object", "Ellipsis", "NotImplemented",
	"ValueError", "KeyError", "IndexError", "TypeError", "Exception", "RuntimeError",
	"StopIteration", "AttributeError", "property", "staticmethod", "classmethod", "memoryview",
)

// needsCall are globals judged at their call sites.
var needsCall = set(
	"builtins.getattr", "functools.partial", "copyreg._reconstructor", "copyreg.__newobj__",
	"copyreg.__newobj_ex__", "_codecs.encode", "builtins.type", "torch.storage._load_from_bytes",
	"dill._dill._load_type", "dill._dill._eval_repr", "dill._dill._create_type", "dill._dill._get_attr",
	"builtins.getattr.__call__",
	// memmap maps (mode "w+": creates) a file when called, but pickles of
	// memmap arrays only name the class as the subtype of
	// _reconstruct or joblib's NumpyArrayWrapper, which never call it.
	"numpy.memmap", "numpy.core.memmap.memmap", "numpy._core.memmap.memmap",
	// pytz's unpickler helper looks the zone up in its tz database (a file
	// read confined to that database); judged by the zone name.
	"pytz._p",
	// Cython trees' unpickle helper: cls.__new__(cls) for whatever class it gets.
	"sklearn.neighbors._ball_tree.newObj", "sklearn.neighbors._kd_tree.newObj",
	// Combined enum flags (re.IGNORECASE | re.MULTILINE) pickle as or_(a, b).
	"_operator.or_", "operator.or_",
	// Import helpers that resolve a module and a name given as arguments:
	// judged by what they resolve to.
	"numpy.core._ufunc_reconstruct", "numpy._core._ufunc_reconstruct",
	"scipy._lib._uarray._backend.unpickle_function", "torch._utils._import_dotted_name",
	// Calls its argument when called.
	"numpy.vectorize",
)

// inertEnums are allowlisted enum classes whose public attributes are all
// members or int methods, so getattr(cls, "<public name>") only yields
// values. Python 3.11 pickles combined flags by member name this way.
var inertEnums = set("re.RegexFlag", "torchvision.transforms.functional.InterpolationMode",
	"inspect._ParameterKind", "uuid.SafeUUID", "http.HTTPStatus", "http.HTTPMethod", "ssl.Purpose",
	"ssl.TLSVersion", "ssl.VerifyMode", "ssl.VerifyFlags", "ssl.Options", "socket.AddressFamily",
	"socket.SocketKind", "signal.Signals", "signal.Handlers")

// numpyUfuncs are the ufuncs numpy exposes at top level: what
// _ufunc_reconstruct("numpy", name) may return. Calling one only computes.
var numpyUfuncs = set(
	"absolute", "add", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
	"bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor", "cbrt", "ceil", "conj", "conjugate",
	"copysign", "cos", "cosh", "deg2rad", "degrees", "divide", "divmod", "equal", "exp", "exp2", "expm1",
	"fabs", "float_power", "floor", "floor_divide", "fmax", "fmin", "fmod", "frexp", "gcd", "greater",
	"greater_equal", "heaviside", "hypot", "invert", "isfinite", "isinf", "isnan", "isnat", "lcm", "ldexp",
	"left_shift", "less", "less_equal", "log", "log10", "log1p", "log2", "logaddexp", "logaddexp2",
	"logical_and", "logical_not", "logical_or", "logical_xor", "matmul", "maximum", "minimum", "mod",
	"modf", "multiply", "negative", "nextafter", "not_equal", "positive", "power", "rad2deg", "radians",
	"reciprocal", "remainder", "right_shift", "rint", "sign", "signbit", "sin", "sinh", "spacing", "sqrt",
	"square", "subtract", "tan", "tanh", "true_divide", "trunc", "abs", "bitwise_left_shift",
	"bitwise_right_shift", "bitwise_invert", "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "pow",
)

// extraSafe complements the harvested list with globals of libraries that
// are not installed where the harvest ran (transformers, accelerate,
// xgboost, lightgbm, pandas, numpy 2) and stdlib value types.
var extraSafe = set(
	"collections.OrderedDict", "collections.defaultdict", "collections.Counter", "collections.deque",
	"collections.namedtuple", "datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta",
	"datetime.timezone", "decimal.Decimal", "fractions.Fraction", "uuid.UUID", "pathlib.PosixPath",
	"pathlib.WindowsPath", "pathlib.PurePosixPath", "pathlib.Path", "enum.Enum", "re._compile",
	// An attribute bag: SimpleNamespace(**kw) only sets attributes on itself.
	// The harvest never allowlists the "types" module, so it is named here.
	"types.SimpleNamespace",
	"numpy.dtype", "numpy.ndarray", "numpy.core.multiarray._reconstruct", "numpy.core.multiarray.scalar",
	"numpy._core.multiarray._reconstruct", "numpy._core.multiarray.scalar", "numpy._core.numeric._frombuffer",
	"numpy.core.numeric._frombuffer", "numpy.random._pickle.__randomstate_ctor",
	"numpy.random._pickle.__bit_generator_ctor", "numpy.random._pickle.__generator_ctor",
	"numpy.random._mt19937.MT19937", "numpy.random._pcg64.PCG64", "numpy.random._philox.Philox",
	"numpy.random._sfc64.SFC64", "numpy.random.mtrand.RandomState", "numpy.random._generator.Generator",
	"joblib.numpy_pickle.NumpyArrayWrapper", "joblib.numpy_pickle.NDArrayWrapper",
	"joblib.numpy_pickle_compat.NDArrayWrapper",
	"torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
	"torch._utils._rebuild_parameter_with_state", "torch._utils._rebuild_qtensor",
	"torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_device_tensor_from_numpy",
	"torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_wrapper_subclass",
	"torch._tensor._rebuild_from_type_v2", "torch._tensor._rebuild_from_type", "torch.Size", "torch.device",
	"torch.Tensor", "torch.nn.parameter.Parameter", "torch.storage.UntypedStorage", "torch.storage.TypedStorage",
	// Legacy tensor types: the oldest (tar) torch.save format names them in its tensor records.
	"torch.FloatTensor", "torch.DoubleTensor", "torch.HalfTensor", "torch.BFloat16Tensor", "torch.LongTensor",
	"torch.IntTensor", "torch.ShortTensor", "torch.CharTensor", "torch.ByteTensor", "torch.BoolTensor",
	"torch.serialization._get_layout", "torch.jit._pickle.build_intlist", "torch.jit._pickle.build_doublelist",
	"torch.jit._pickle.build_boollist", "torch.jit._pickle.build_tensorlist", "torch.jit._pickle.build_complexlist",
	"torch.jit._pickle.build_tensor_from_id", "torch.jit._pickle.restore_type_tag",
	"transformers.training_args.TrainingArguments", "transformers.training_args.OptimizerNames",
	"transformers.training_args_seq2seq.Seq2SeqTrainingArguments", "transformers.trainer_utils.IntervalStrategy",
	"transformers.trainer_utils.SchedulerType", "transformers.trainer_utils.HubStrategy",
	"transformers.trainer_utils.SaveStrategy", "transformers.trainer_utils.EvaluationStrategy",
	"transformers.debug_utils.DebugOption", "transformers.trainer_pt_utils.AcceleratorConfig",
	"accelerate.utils.dataclasses.DistributedType", "accelerate.state.PartialState",
	"accelerate.utils.dataclasses.DeepSpeedPlugin", "accelerate.utils.dataclasses.GradientAccumulationPlugin",
	"tokenizers.Tokenizer", "tokenizers.models.Model", "tokenizers.AddedToken",
	"xgboost.core.Booster", "xgboost.sklearn.XGBClassifier", "xgboost.sklearn.XGBRegressor",
	"xgboost.sklearn.XGBRanker", "xgboost.sklearn.XGBRFClassifier", "xgboost.sklearn.XGBRFRegressor",
	"lightgbm.basic.Booster", "lightgbm.sklearn.LGBMClassifier", "lightgbm.sklearn.LGBMRegressor",
	"lightgbm.sklearn.LGBMRanker",
	"pandas.core.frame.DataFrame", "pandas.core.series.Series", "pandas.core.internals.managers.BlockManager",
	"pandas.core.internals.managers.SingleBlockManager", "pandas._libs.internals._unpickle_block",
	"pandas.core.internals.blocks.new_block", "pandas.core.indexes.base._new_Index",
	"pandas.core.indexes.base.Index", "pandas.core.indexes.range.RangeIndex",
	"pandas.core.indexes.multi.MultiIndex", "pandas.core.indexes.datetimes.DatetimeIndex",
	"pandas.core.indexes.datetimes._new_DatetimeIndex", "pandas.core.arrays.categorical.Categorical",
	"pandas._libs.tslibs.timestamps._unpickle_timestamp", "pandas._libs.tslibs.timedeltas._timedelta_unpickle",
	"pandas.core.arrays.datetimes.DatetimeArray", "pandas.core.dtypes.dtypes.CategoricalDtype",
	"pandas._libs.tslibs.nattype.__nat_unpickle", "pandas.core.indexes.numeric.Int64Index",
	"pandas.core.arrays.string_.StringArray", "pandas.core.dtypes.dtypes.DatetimeTZDtype",
)

func set(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

// builtinLists returns the built-in safe and needs-call sets, shared by
// every policy and never modified (a policy's own allow and deny globals
// are looked up beside them). The embedded harvest is parsed on the first
// classification, once per process: a run that meets no pickle global
// never pays for it.
var builtinLists = sync.OnceValues(parseBuiltinLists)

// parseBuiltinLists parses the embedded harvest into safe and needs-call sets.
func parseBuiltinLists() (safe, call map[string]bool) {
	safe = make(map[string]bool, 4096)
	call = make(map[string]bool, 64)
	for k := range extraSafe {
		safe[k] = true
	}
	for k := range needsCall {
		call[k] = true
	}
	for line := range harvestLines {
		if line == "" || line[0] == '#' || line[0] == '=' || line[0] == '&' {
			continue
		}
		target := safe
		if line[0] == '?' {
			target = call
			line = line[1:]
		}
		module, rest, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, "\t")
		target[Canonical(module, name)] = true
	}
	for b := range safeBuiltins {
		safe["builtins."+b] = true
	}
	for k := range dataMembers {
		safe[k] = true
	}
	for _, k := range pickledFunctionHelpers {
		call[k] = true
	}
	for b := range safeBuiltins {
		delete(call, "builtins."+b)
	}
	for k := range call {
		delete(safe, k)
	}
	return safe, call
}

// harvestedTables holds what harvestTables parsed, never modified: aliases
// maps re-exported spellings of an object to its canonical module.qualname,
// and refOnly lists library functions that are fine to reference as data
// (never called at load). They are parsed on first use, by the first pickle
// judged, rather than at start-up: every command pays for package
// initialisation, and a scan pays for it before any file is read.
var harvestedTables = sync.OnceValues(harvestTables)

// aliasOf returns the canonical spelling of a re-exported object.
func aliasOf(q string) (string, bool) {
	al, _ := harvestedTables()
	a, ok := al[q]
	return a, ok
}

// harvestTables parses the "=" (alias) and "&" (reference-only) lines of
// the embedded harvest.
func harvestTables() (map[string]string, map[string]bool) {
	// Sized for the harvest (a few hundred aliases, several thousand
	// references) so that start-up does not rehash them as they grow.
	al := make(map[string]string, 512)
	ref := make(map[string]bool, 8192)
	for line := range harvestLines {
		if line == "" {
			continue
		}
		switch line[0] {
		case '=':
			from, to, ok := strings.Cut(line[1:], "\t")
			if ok && !strings.Contains(to, "\t") && from != to {
				al[from] = to
			}
		case '&':
			module, rest, ok := strings.Cut(line[1:], "\t")
			if ok {
				name, _, _ := strings.Cut(rest, "\t")
				ref[Canonical(module, name)] = true
			}
		}
	}
	return al, ref
}

// refSafe reports whether q may be referenced (stored, never called at load)
// without a finding.
func (p *Policy) refSafe(q string) bool {
	aliases, refOnly := harvestedTables()
	if refOnly[q] {
		return true
	}
	if a, ok := aliases[q]; ok {
		return refOnly[a]
	}
	return false
}

// DenylistClass judges q by the denylist alone (no allowlist entries, no
// argument-dependent globals): Dangerous or Unknown. The harvester uses it
// to drop candidates the denylist covers, and a test checks that no
// harvested entry is dangerous.
func DenylistClass(q string) Class {
	// By spelling only: the alias table is itself harvested, so judging
	// through it here would make the harvest depend on its previous run.
	if (&Policy{}).classifyName(q) == Dangerous {
		return Dangerous
	}
	return Unknown
}
