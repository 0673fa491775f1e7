package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/pickle"
	"github.com/modelgate/modelgate/core/rules"
)

// dataMembers are members of modules that are otherwise denylisted but
// that are plain data: struct sequences and named tuples (what os.stat or
// urlparse return), enum classes whose members only look values up, and
// immutable value classes. Judging members instead of whole modules keeps
// these benign results quiet while os.system stays critical.
var dataMembers = set(
	"os.stat_result", "os.statvfs_result", "os.terminal_size", "os.times_result", "os.uname_result",
	"posix.stat_result", "posix.statvfs_result", "posix.terminal_size", "posix.times_result", "posix.uname_result",
	"time.struct_time", "platform.uname_result",
	"urllib.parse.ParseResult", "urllib.parse.SplitResult", "urllib.parse.DefragResult",
	"urllib.parse.ParseResultBytes", "urllib.parse.SplitResultBytes", "urllib.parse.DefragResultBytes",
	"inspect.Parameter", "inspect._ParameterKind", "inspect.BoundArguments",
	"uuid.UUID", "uuid.SafeUUID", "http.HTTPStatus", "http.HTTPMethod",
	"ssl.Purpose", "ssl.TLSVersion", "ssl.VerifyMode", "ssl.VerifyFlags", "ssl.Options", "ssl.AlertDescription",
	"ssl.SSLErrorNumber", "ssl._SSLMethod", "ssl._TLSContentType", "ssl._TLSAlertType", "ssl._TLSMessageType",
	"socket.AddressFamily", "socket.SocketKind", "socket.MsgFlag", "socket.AddressInfo",
	"signal.Signals", "signal.Handlers", "signal.Sigmasks",
	"zoneinfo.ZoneInfo", "random.Random", "ipaddress.IPv4Address", "ipaddress.IPv6Address",
	"ipaddress.IPv4Network", "ipaddress.IPv6Network", "ipaddress.IPv4Interface", "ipaddress.IPv6Interface",
	"statistics.NormalDist", "collections.UserDict", "collections.UserList", "collections.UserString",
	"collections.ChainMap",
)

// dataEnums are the enum classes among dataMembers: getattr(cls, "NAME")
// (how Python 3.11+ pickles some members) is a member lookup.
var dataEnums = set(
	"inspect._ParameterKind", "uuid.SafeUUID", "http.HTTPStatus", "http.HTTPMethod", "ssl.Purpose",
	"ssl.TLSVersion", "ssl.VerifyMode", "ssl.VerifyFlags", "ssl.Options", "ssl.AlertDescription",
	"ssl.SSLErrorNumber", "ssl._SSLMethod", "socket.AddressFamily", "socket.SocketKind", "socket.MsgFlag",
	"socket.AddressInfo", "signal.Signals", "signal.Handlers", "signal.Sigmasks",
)

// constantModules are modules whose ALL-CAPS attributes are constants
// (enum members exported by the module: socket.AF_INET, signal.SIGTERM,
// ssl.CERT_REQUIRED), which pickles name as globals.
var constantModules = set("socket", "signal", "ssl", "_socket", "_signal", "_ssl")

// isConstantMember reports whether q is an ALL-CAPS attribute of a constant module.
func isConstantMember(q string) bool {
	mod, name, ok := strings.Cut(q, ".")
	if !ok || !constantModules[mod] || name == "" {
		return false
	}
	for i, r := range name {
		if !(r >= 'A' && r <= 'Z' || r == '_' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// productsCallable are allowlisted factories whose products a pickle must
// not call while loading.
var productsCallable = set("operator.itemgetter", "_operator.itemgetter")

// clip shortens evidence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// enumLookup judges getattr(EnumClass, "NAME") on a data enum: a member lookup.
func (j *judge) enumLookup(obj pickle.Value, base resolved, attr string) (resolved, bool) {
	if obj.Kind == pickle.KGlobal && dataEnums[base.name] && !strings.HasPrefix(attr, "_") && !sinkAttrs[attr] {
		return resolved{name: base.name + "." + attr, class: Safe}, true
	}
	return resolved{}, false
}

// moreCallDependent judges the argument-dependent globals added for
// member- and call-level judgement.
func (j *judge) moreCallDependent(r resolved, c *pickle.Call) resolved {
	args := c.Args
	switch r.name {
	case "logging.getLogger":
		// getLogger(name) returns (creating if needed) a logger object.
		if len(args) == 0 || len(args) == 1 && (args[0].IsStr() || args[0].Kind == pickle.KNone) {
			return resolved{name: r.name, class: Safe}
		}
		return resolved{name: r.name, class: Unknown}
	case "operator.itemgetter", "_operator.itemgetter":
		// Building a getter for constant keys computes nothing.
		for _, a := range args {
			if !j.plainData(a, 0) || a.Kind == pickle.KPersistent {
				return resolved{name: r.name, class: Unknown, why: "keys that are not constants"}
			}
		}
		return resolved{name: r.name, class: Safe}
	case "zoneinfo.ZoneInfo._unpickle":
		if len(args) >= 1 && args[0].IsStr() && tzName.MatchString(args[0].Str()) {
			return resolved{name: r.name, class: Safe}
		}
		return resolved{name: r.name, class: Dangerous, why: "opens a zone file named by something other than a plain tz identifier"}
	case "cloudpickle.cloudpickle._builtin_type", "cloudpickle.cloudpickle_fast._builtin_type":
		// Looks a type up in types (CodeType, CellType, ...): building a
		// code object is judged as a pickled function (MG113).
		if len(args) == 1 && args[0].IsStr() && builtinTypeNames[args[0].Str()] {
			return resolved{name: r.name, class: Safe}
		}
		return resolved{name: r.name, class: Dangerous, why: "looks up an unusual type"}
	case "cloudpickle.cloudpickle.subimport", "cloudpickle.cloudpickle_fast.subimport", "dill._dill._import_module":
		// Imports a module by name for a pickled function's globals.
		if len(args) >= 1 && args[0].IsStr() && isIdentPath(args[0].Str()) {
			m := args[0].Str()
			if j.p.Classify(m) == Dangerous || strongComponents[m] {
				return resolved{name: m, class: Dangerous, why: "module imported for a pickled function by " + r.name}
			}
			return resolved{name: r.name, class: Safe}
		}
		return resolved{name: r.name, class: Dangerous, why: "imports a computed module"}
	case "cloudpickle.cloudpickle._make_function", "cloudpickle.cloudpickle_fast._make_function",
		"dill._dill._create_function", "types.FunctionType":
		// The function's code object is judged where it is built (MG113).
		if len(args) >= 1 && j.isCodeObject(args[0]) {
			return resolved{name: r.name, class: Safe}
		}
		return resolved{name: r.name, class: Dangerous, why: "builds a function from something other than a decoded code object"}
	case "cloudpickle.cloudpickle._function_setstate", "cloudpickle.cloudpickle_fast._function_setstate",
		"cloudpickle.cloudpickle._make_empty_cell", "cloudpickle.cloudpickle_fast._make_empty_cell",
		"cloudpickle.cloudpickle._make_cell", "cloudpickle.cloudpickle_fast._make_cell",
		"dill._dill._create_cell", "dill._dill._setattr":
		// Fill in a pickled function's globals and closure: the values are
		// judged on their own.
		return resolved{name: r.name, class: Safe}
	}
	return resolved{name: r.name, class: Unknown}
}

// builtinTypeNames are the names cloudpickle's _builtin_type looks up.
var builtinTypeNames = set("CodeType", "CellType", "FunctionType", "MappingProxyType", "ModuleType",
	"MethodType", "SimpleNamespace", "ClassType")

// cloudpickle/dill helpers judged at their call sites.
var pickledFunctionHelpers = []string{
	"cloudpickle.cloudpickle._builtin_type", "cloudpickle.cloudpickle_fast._builtin_type",
	"cloudpickle.cloudpickle.subimport", "cloudpickle.cloudpickle_fast.subimport", "dill._dill._import_module",
	"cloudpickle.cloudpickle._make_function", "cloudpickle.cloudpickle_fast._make_function",
	"dill._dill._create_function", "cloudpickle.cloudpickle._function_setstate",
	"cloudpickle.cloudpickle_fast._function_setstate", "cloudpickle.cloudpickle._make_empty_cell",
	"cloudpickle.cloudpickle_fast._make_empty_cell", "cloudpickle.cloudpickle._make_cell",
	"cloudpickle.cloudpickle_fast._make_cell", "dill._dill._create_cell", "dill._dill._setattr",
	"dill._dill._create_code",
	"logging.getLogger", "operator.itemgetter", "_operator.itemgetter", "zoneinfo.ZoneInfo._unpickle",
}

// codeCallee reports whether a call builds a code object: cloudpickle's
// _builtin_type("CodeType")(...), dill's _load_type("CodeType")(...) or
// dill._dill._create_code(...).
func (j *judge) codeCallee(callee pickle.Value) bool {
	switch callee.Kind {
	case pickle.KGlobal:
		return Canonical(callee.O.Module, callee.O.Name) == "dill._dill._create_code"
	case pickle.KCall:
		c := callee.O.Call
		if c.Callee.Kind != pickle.KGlobal || len(c.Args) != 1 || !c.Args[0].IsStr() || c.Args[0].Str() != "CodeType" {
			return false
		}
		switch Canonical(c.Callee.O.Module, c.Callee.O.Name) {
		case "cloudpickle.cloudpickle._builtin_type", "cloudpickle.cloudpickle_fast._builtin_type", "dill._dill._load_type":
			return true
		}
	}
	return false
}

func (j *judge) isCodeObject(v pickle.Value) bool {
	return v.Kind == pickle.KCall && j.codeCallee(v.O.Call.Callee)
}

// judgeCode reports a code object built at load (a pickled function) the
// way Keras Lambda bytecode is reported: its names decide between high and
// critical, and a reviewed sha256 (of the bytecode) silences it.
func (j *judge) judgeCode(c *pickle.Call) bool {
	if !j.codeCallee(c.Callee) {
		return false
	}
	var names, strs []string
	var code []byte
	name := "?"
	cut := !c.ArgsKnown
	for _, a := range c.Args {
		switch a.Kind {
		case pickle.KBytes:
			if code == nil {
				code = []byte(a.O.S)
			}
		case pickle.KStr:
			strs = append(strs, a.Str())
		case pickle.KTuple:
			cut = cut || a.O.Len > int64(len(a.O.Items))
			for _, it := range a.O.Items {
				if it.IsStr() {
					names = append(names, it.Str())
				}
				if it.Kind == pickle.KStr || it.Kind == pickle.KBytes {
					strs = append(strs, it.O.S)
				}
			}
		}
	}
	// co_name and co_qualname are the 2 string arguments after co_filename.
	if len(strs) > 0 {
		name = strs[len(strs)-1]
	}
	for _, a := range c.Args {
		if a.Kind == pickle.KStr && a.Str() != "" && !strings.HasPrefix(a.Str(), "<") && !strings.Contains(a.Str(), "/") {
			name = a.Str()
		}
	}
	sum := sha256.Sum256(code)
	digest := hex.EncodeToString(sum[:])
	if j.p.AllowsCode(digest) {
		return true
	}
	danger := CodeDanger(names, strs, j.p.Classify)
	f := finding.Finding{RuleID: rules.PickledFunction, Offset: c.Offset, Call: clip(renderCall(c), 300),
		Message: fmt.Sprintf("rebuilds a Python function (%s) from a pickled code object that references names [%s]",
			name, clip(strings.Join(names, ", "), 300)),
		Evidence: fmt.Sprintf("sha256=%s (bytecode, %d bytes)", digest, len(code))}
	if len(danger) > 0 {
		f.Severity = finding.SeverityCritical
		f.Global = strings.Join(danger, ", ")
		f.Message += "; dangerous: " + strings.Join(danger, ", ")
	} else if cut {
		// co_names past those a tuple keeps may be the dangerous ones:
		// the finding stays high, and the file is not completely scanned.
		j.unscanned = append(j.unscanned, fmt.Sprintf("the code object built at offset %d has more names than were kept; those past them were not checked", c.Offset))
	}
	j.add(f)
	return true
}

// tamperFuncs write into tensors or arrays handed to them.
var tamperFuncs = set(
	"numpy.copyto", "numpy.put", "numpy.place", "numpy.putmask", "numpy.fill_diagonal", "numpy.put_along_axis",
	"numpy.core.multiarray.copyto", "numpy.core.multiarray.putmask", "numpy._core.multiarray.copyto",
	"numpy.core.fromnumeric.put", "numpy.lib.function_base.place", "numpy.lib.index_tricks.fill_diagonal",
	"torch.Tensor.copy_", "torch.Tensor.fill_", "torch.Tensor.set_", "torch._C._TensorBase.copy_",
	"torch.nn.utils.vector_to_parameters", "torch.nn.Module.load_state_dict",
)

// tamperAttrs are methods that write into (or hand out writable views of)
// model data when fetched from an object the pickle built.
var tamperAttrs = set("narrow", "get_parameter", "get_buffer", "get_submodule", "set_", "load_state_dict",
	"copy_", "fill_", "zero_", "index_put_", "masked_fill_", "scatter_", "put_", "itemset", "setflags")

// tampers says why a call writes into model data, or "" when it does not.
func tampers(r resolved) string {
	if strings.HasPrefix(r.name, "torch.nn.init.") {
		return "a torch.nn.init initialiser"
	}
	if tamperFuncs[r.name] {
		return "an in-place array or tensor write"
	}
	attr := r.attr
	if attr == "" {
		if i := strings.LastIndexByte(r.name, '.'); i >= 0 {
			attr = r.name[i+1:]
		}
	}
	if tamperAttrs[attr] {
		return "method " + attr
	}
	if len(attr) > 1 && strings.HasSuffix(attr, "_") && !strings.HasPrefix(attr, "_") && !strings.HasSuffix(attr, "__") {
		return "in-place method " + attr
	}
	return ""
}

// dispatchFuncs hand one of their arguments (by index) to machinery that
// calls it later: finalizers, schedulers, executors, exit handlers, hooks.
var dispatchFuncs = map[string]int{
	"weakref.finalize": 1, "atexit.register": 0, "threading.Timer": 1, "threading.Thread": -1,
	"sched.scheduler.enter": 2, "sched.scheduler.enterabs": 2, "codecs.register": 0,
	"functools.reduce": 0, "itertools.starmap": 0, "builtins.map": 0, "builtins.filter": 0,
	"sys.addaudithook": 0, "sys.settrace": 0, "sys.setprofile": 0, "signal.signal": 1,
	"unittest.addModuleCleanup": 0, "contextlib.ExitStack.callback": 0,
	"torch.optim.lr_scheduler.LambdaLR": 1, "torch.optim.lr_scheduler.MultiplicativeLR": 1,
	"scipy.interpolate._rbf.Rbf": -1,
}

// dispatchAttrs are the same for methods fetched from objects.
var dispatchAttrs = map[string]int{
	"submit": 0, "map": 0, "apply_async": 0, "call_soon": 0, "call_later": 1, "call_at": 1,
	"run_in_executor": 1, "add_done_callback": 0, "callback": 0, "push": 0, "enter": 2, "enterabs": 2,
	"register_forward_hook": 0, "register_forward_pre_hook": 0, "register_full_backward_hook": 0,
	"register_backward_hook": 0, "register_hook": 0, "register_full_backward_pre_hook": 0,
	"register_state_dict_pre_hook": 0, "register_load_state_dict_post_hook": 0, "apply": 0,
	"add_listener": 0, "connect": 0, "after": 1, "timeout_add": 1,
}

// dispatch judges the callable that a dispatcher call is handed as if the
// pickle called it, with the dispatcher's remaining arguments.
func (j *judge) dispatch(r resolved, c *pickle.Call) {
	idx, ok := dispatchFuncs[r.name]
	if !ok {
		attr := r.attr
		if attr == "" {
			if i := strings.LastIndexByte(r.name, '.'); i >= 0 {
				attr = r.name[i+1:]
			}
		}
		if idx, ok = dispatchAttrs[attr]; !ok || r.class == Safe {
			return
		}
	}
	if idx < 0 || idx >= len(c.Args) || j.depth > 4 {
		return
	}
	fn := c.Args[idx]
	if fn.Kind != pickle.KGlobal && fn.Kind != pickle.KCall {
		return
	}
	rest := c.Args[idx+1:]
	if len(rest) == 1 && rest[0].Kind == pickle.KTuple && (r.attr == "enter" || r.attr == "enterabs" || strings.HasSuffix(r.name, ".enter") || strings.HasSuffix(r.name, ".enterabs")) {
		rest = rest[0].O.Items
	}
	inner := &pickle.Call{Callee: fn, Args: rest, ArgsKnown: true, Op: "dispatched by " + r.name, Offset: c.Offset, Pickle: c.Pickle, Used: true}
	j.depth++
	j.judgeCall(inner)
	j.depth--
}
