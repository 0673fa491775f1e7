package policy

import (
	_ "embed"
	"strings"
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
var harvested string

// py2Modules maps the Python 2 module names that protocol 0-2 pickles carry
// to the modules CPython 3 resolves them to (_compat_pickle).
var py2Modules = map[string]string{
	"__builtin__": "builtins", "copy_reg": "copyreg", "exceptions": "builtins",
	"cPickle": "pickle", "Queue": "queue", "cStringIO": "io", "StringIO": "io",
	"UserDict": "collections", "UserList": "collections", "urllib2": "urllib.request",
	"httplib": "http.client", "commands": "subprocess", "thread": "_thread",
	"dummy_thread": "_dummy_thread", "repr": "reprlib", "ConfigParser": "configparser",
	"SocketServer": "socketserver", "xmlrpclib": "xmlrpc.client", "_winreg": "winreg",
}

var py2Names = map[string]string{
	"builtins.unicode": "builtins.str", "builtins.long": "builtins.int", "builtins.xrange": "builtins.range",
	"builtins.basestring": "builtins.str", "builtins.reduce": "functools.reduce",
	"builtins.intern": "sys.intern", "builtins.unichr": "builtins.chr", "builtins.raw_input": "builtins.input",
	"builtins.execfile": "builtins.exec", "builtins.apply": "builtins.exec", "builtins.file": "builtins.open",
	"builtins.reload": "importlib.reload",
}

// Canonical returns "module.name" with Python 2 names mapped as CPython does.
func Canonical(module, name string) string {
	if m, ok := py2Modules[module]; ok {
		module = m
	}
	q := module + "." + name
	if n, ok := py2Names[q]; ok {
		return n
	}
	return q
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
	"numpy.lib.npyio.load", "numpy.memmap", "numpy.lib.utils.runstring",
	"torch.utils.data.datapipes.utils.decoder.basichandlers", "torch._utils._rebuild_from_type",
	"torch.ops.load_library",
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
	// pytz's unpickler helper looks the zone up in its tz database (a file
	// read confined to that database); judged by the zone name.
	"pytz._p",
	// Cython trees' unpickle helper: cls.__new__(cls) for whatever class it gets.
	"sklearn.neighbors._ball_tree.newObj", "sklearn.neighbors._kd_tree.newObj",
	// Combined enum flags (re.IGNORECASE | re.MULTILINE) pickle as or_(a, b).
	"_operator.or_", "operator.or_",
	// numpy's ufunc unpickler imports a module and fetches a name from it.
	"numpy.core._ufunc_reconstruct", "numpy._core._ufunc_reconstruct",
)

// inertEnums are allowlisted enum classes whose public attributes are all
// members or int methods, so getattr(cls, "<public name>") only yields
// values. Python 3.11 pickles combined flags by member name this way.
var inertEnums = set("re.RegexFlag", "torchvision.transforms.functional.InterpolationMode")

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

// builtinLists parses the embedded harvest into safe and needs-call sets.
func builtinLists() (safe, call map[string]bool) {
	safe = make(map[string]bool, 1024)
	call = make(map[string]bool, 64)
	for k := range extraSafe {
		safe[k] = true
	}
	for k := range needsCall {
		call[k] = true
	}
	for _, line := range strings.Split(harvested, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		target := safe
		if strings.HasPrefix(line, "?") {
			target = call
			line = line[1:]
		}
		f := strings.Split(line, "\t")
		if len(f) < 2 {
			continue
		}
		target[Canonical(f[0], f[1])] = true
	}
	for b := range safeBuiltins {
		safe["builtins."+b] = true
	}
	for b := range safeBuiltins {
		delete(call, "builtins."+b)
	}
	for k := range call {
		delete(safe, k)
	}
	return safe, call
}
