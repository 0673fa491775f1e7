package policy

// Names a decoded code object references (co_names, plus its string
// constants) decide whether bytecode is critical. Keras Lambda layers and
// pickled functions (cloudpickle, dill) are judged by the same lists so that
// the same function gets the same verdict in either container.

// dangerousBuiltins run code, import modules, reach arbitrary attributes
// or open files.
var dangerousBuiltins = set(
	"eval", "exec", "compile", "open", "__import__", "getattr", "setattr", "delattr", "globals",
	"locals", "vars", "input", "breakpoint", "execfile", "file", "reload", "__builtins__",
)

// codeModules are module names that, among a code object's co_names, mean
// the code imports or uses a module that reaches the OS, code execution or
// the network. Kept short: co_names also holds attribute names, and tensor
// code uses words like "io" or "types" as attributes.
var codeModules = set(
	"os", "posix", "nt", "subprocess", "sys", "socket", "pty", "runpy", "ctypes", "shutil", "importlib",
	"pickle", "marshal", "urllib", "requests", "http", "webbrowser", "builtins", "__builtins__", "commands",
	"multiprocessing", "_posixsubprocess", "cloudpickle", "dill", "pexpect", "code", "codeop",
)

// codeAttrs are attribute names that reach the OS or the network when the
// object they are looked up on is unknown to a static reader.
var codeAttrs = set(
	"system", "popen", "Popen", "spawnl", "spawnv", "spawnlp", "spawnvp", "execv", "execve", "execl",
	"execlp", "execvp", "check_output", "check_call", "getoutput", "getstatusoutput", "run_path",
	"run_module", "import_module", "urlopen", "urlretrieve", "rmtree", "unlink", "remove", "fork",
	"loads", "create_connection",
)

// IsDangerousBuiltin reports whether builtins.<name> runs code, imports,
// reaches arbitrary attributes or opens files.
func IsDangerousBuiltin(name string) bool { return dangerousBuiltins[name] }

// CodeDanger returns the names and string constants of a decoded code
// object that reach code execution, the OS, files or the network. Strings
// count only when the code imports by name (__import__, import_module); they
// are judged with classify.
func CodeDanger(names, strs []string, classify func(string) Class) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	importing := false
	for _, n := range names {
		if n == "__import__" || n == "import_module" {
			importing = true
		}
	}
	for _, n := range names {
		if codeAttrs[n] || dangerousBuiltins[n] || codeModules[n] {
			add(n)
		}
	}
	if importing && classify != nil {
		for _, s := range strs {
			if isIdentPath(s) && classify(s) == Dangerous {
				add(s)
			}
		}
	}
	return out
}

func isIdentPath(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r == '.' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
