package jinja

import "strings"

// escapeDunders are the attributes every published Jinja2 sandbox escape
// walks through: from any object to its class, the class hierarchy, a
// function's module globals, or the builtins.
var escapeDunders = map[string]bool{
	"__globals__": true, "__subclasses__": true, "__builtins__": true, "__class__": true,
	"__mro__": true, "__base__": true, "__bases__": true, "__init__": true, "__import__": true,
	"__getattribute__": true, "__dict__": true, "__code__": true, "__func__": true,
	"__self__": true, "__module__": true, "__loader__": true, "__spec__": true,
	"__reduce__": true, "__reduce_ex__": true, "__closure__": true, "__getitem__": true,
	"__call__": true, "__new__": true, "__qualname__": true, "__objclass__": true,
	"func_globals": true, "f_globals": true, "gi_frame": true, "tb_frame": true, "f_back": true,
}

// strongDunders are the ones whose mere presence in a string is a payload
// marker: no chat template has a reason to spell them.
var strongDunders = []string{"__globals__", "__subclasses__", "__builtins__", "__import__", "__mro__", "__getattribute__"}

// reachNames are attribute or item names that reach the OS, code
// execution or imports once a walk has escaped.
var reachNames = map[string]bool{
	"os": true, "popen": true, "subprocess": true, "eval": true, "exec": true, "execfile": true,
	"import_module": true, "builtins": true, "getoutput": true, "getstatusoutput": true,
	"check_output": true, "check_call": true, "Popen": true, "spawnl": true, "spawnv": true,
	"spawnlp": true, "spawnvp": true, "execv": true, "execve": true, "execl": true, "execvp": true,
	"fork": true, "posix_spawn": true, "load_module": true, "__import__": true, "compile": true,
	"modules": true, "_module": true, "catch_warnings": true, "_wrap_close": true,
	"system": true, "remove": true, "unlink": true, "rmtree": true, "setattr": true,
	"delattr": true, "globals": true, "locals": true, "importlib": true, "pty": true, "socket": true,
}

// weakReachNames are dangerous only after an escape has started: "system"
// is also a chat role, "open" and "remove" are ordinary method names.
var weakReachNames = map[string]bool{"system": true, "remove": true, "unlink": true, "compile": true,
	"modules": true, "globals": true, "locals": true, "setattr": true, "delattr": true, "fork": true}

// gadgetGlobals are objects a default jinja2 Environment (or Flask-style
// hosts) puts in every template's namespace; their functions carry
// __globals__ and are the usual first hop of an escape.
var gadgetGlobals = map[string]bool{
	"cycler": true, "joiner": true, "namespace": true, "lipsum": true, "range": true, "dict": true,
	"self": true, "config": true, "request": true, "url_for": true, "get_flashed_messages": true,
	"g": true, "session": true, "caller": true, "varargs": true, "kwargs": true, "loop": true,
	"raise_exception": true, "strftime_now": true,
}

// rootDangerNames are bare names that only a payload would use: a template
// context has no such variable unless the host leaked it. ("sys" is left
// out: templates abbreviate the system message that way.)
var rootDangerNames = map[string]bool{
	"os": true, "subprocess": true, "__import__": true, "__builtins__": true, "builtins": true,
	"eval": true, "exec": true, "importlib": true, "popen": true,
}

func isDunder(s string) bool {
	return len(s) > 4 && strings.HasPrefix(s, "__") && strings.HasSuffix(s, "__")
}

func isPrivate(s string) bool { return strings.HasPrefix(s, "_") && !isDunder(s) }

// suspiciousString reports whether a computed string spells a name an
// escape needs; plain literals are judged by strongLiteral instead.
func suspiciousString(s string) bool {
	if escapeDunders[s] || (reachNames[s] && !weakReachNames[s]) || isDunder(s) {
		return true
	}
	return strongLiteral(s)
}

func strongLiteral(s string) bool {
	for _, d := range strongDunders {
		if strings.Contains(s, d) {
			return true
		}
	}
	return false
}
