// Package keras scans Keras models: the model_config and training_config
// attributes of HDF5 files (Keras 2 and Keras 3's legacy .h5) and the JSON
// members of Keras v3 .keras archives (config.json, metadata.json). It
// checks every serialized object in the config for what Keras would import
// or run while rebuilding the model.
package keras

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/pymarshal"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/rules"
)

// Issue is one thing the config checker found.
type Issue struct {
	RuleID   string
	Severity finding.Severity
	// Path locates the object in the config, e.g. "config.layers[1]".
	Path     string
	Global   string
	Message  string
	Evidence string
	// CodeSHA256 is the hex sha256 of the marshalled bytecode of a Lambda
	// function: a policy's allow_code_sha256 silences reviewed ones.
	CodeSHA256 string
	// Unscanned marks a part of the config that was not checked (RuleID
	// is then a not-scanned rule): it is reported as not scanned, not as
	// a finding.
	Unscanned bool
}

// Payload is embedded content that must be scanned on its own (the
// torch.save output inside a TorchModuleWrapper).
type Payload struct {
	Path string
	Data []byte
}

// Classifier judges a dotted Python name; policy.(*Policy).Classify fits.
type Classifier func(q string) policy.Class

// maxDepth bounds the config walk; real configs nest a few dozen levels.
const maxDepth = 256

// maxPayloadBytes bounds one decoded embedded payload.
const maxPayloadBytes = 1 << 30

// Check walks a parsed config and returns what it found.
func Check(doc any, classify Classifier) ([]Issue, []Payload) {
	c := &checker{classify: classify}
	c.walk(doc, "", 0)
	return c.issues, c.payloads
}

type checker struct {
	classify Classifier
	issues   []Issue
	payloads []Payload
}

func (c *checker) add(is Issue) { c.issues = append(c.issues, is) }

func (c *checker) walk(v any, path string, depth int) {
	if depth > maxDepth {
		// Keras deserializes deeper configs too: what lies below may be
		// a Lambda, so this fails closed rather than as a medium finding.
		c.add(Issue{RuleID: rules.NotScannedLimit, Path: path, Unscanned: true,
			Message: fmt.Sprintf("config nested deeper than %d levels; the rest was not checked", maxDepth)})
		return
	}
	switch t := v.(type) {
	case map[string]any:
		if _, ok := t["class_name"].(string); ok {
			c.object(t, path)
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c.walk(t[k], join(path, k), depth+1)
		}
	case []any:
		for i, it := range t {
			c.walk(it, index(path, i), depth+1)
		}
	}
}

// maxPath bounds the config paths built during the walk. Every child of
// an object copies its parent's path, so a deep chain of long keys above
// an object with many children would cost their product; real paths are a
// few hundred bytes.
const maxPath = 4096

func join(path, key string) string {
	switch {
	case path == "":
		return clipPath(key)
	case len(path) >= maxPath:
		return path // already clipped: children share it
	}
	return clipPath(path + "." + key)
}

func index(path string, i int) string {
	if len(path) >= maxPath {
		return path
	}
	return clipPath(path + "[" + strconv.Itoa(i) + "]")
}

// clipPath cuts a path to maxPath bytes, copying so that the long original
// is not kept alive by the prefix.
func clipPath(p string) string {
	if len(p) <= maxPath {
		return p
	}
	return strings.Clone(p[:maxPath]) + "..."
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// object checks one serialized Keras object: {"class_name", "config",
// "module", "registered_name", ...}.
func (c *checker) object(m map[string]any, path string) {
	cn := m["class_name"].(string)
	module := str(m["module"])
	// Keras writes "package>Name" for objects registered with
	// register_keras_serializable; the loader finds those in its registry.
	registered := strings.Contains(str(m["registered_name"]), ">")
	cfg, _ := m["config"].(map[string]any)
	switch cn {
	case "__lambda__":
		// Keras 3: {"class_name": "__lambda__", "config": {"value": func_dump}}.
		if cfg != nil {
			c.lambda(cfg["value"], join(path, "config.value"), "Lambda (__lambda__ object)")
		}
		return
	case "Lambda":
		if cfg != nil {
			c.lambdaLayer(cfg, path)
		}
	case "TFOpLambda":
		if cfg != nil {
			c.tfOpLambda(str(cfg["function"]), path)
		}
	case "TorchModuleWrapper":
		if cfg != nil {
			c.torchModule(cfg["module"], path)
		}
	case "function":
		// Keras 3 function reference: the name is the inner config.
		if name := str(m["config"]); name != "" {
			c.ref(module, name, path, registered)
		}
		if rn := str(m["registered_name"]); rn != "" && rn != str(m["config"]) && !strings.Contains(rn, ">") {
			c.ref(module, rn, path, registered)
		}
		return
	case "__typespec__":
		c.ref(module, str(m["spec_name"]), path, false)
		return
	}
	if module != "" {
		c.ref(module, cn, path, registered)
		if rn := str(m["registered_name"]); rn != "" && rn != cn && !strings.Contains(rn, ">") {
			// Keras falls back to vars(module)[registered_name].
			c.ref(module, rn, path, registered)
		}
	}
}

// trustedRoots are the packages whose objects Keras configs normally name.
var trustedRoots = map[string]bool{
	"keras": true, "tf_keras": true, "keras_core": true, "keras_hub": true, "keras_nlp": true,
	"keras_cv": true, "keras_rs": true, "keras_tuner": true, "tensorflow": true, "tensorflow_addons": true,
}

// gadgets are functions inside trusted namespaces that must never appear in
// a config: they pass safe_mode's module check and touch files or the
// network, or switch safe mode off.
var gadgets = map[string]string{
	"get_file":                      rules.KerasDownloadGadget,
	"load_model":                    rules.KerasDownloadGadget,
	"load_weights":                  rules.KerasDownloadGadget,
	"extract_archive":               rules.KerasDownloadGadget,
	"func_load":                     rules.KerasDownloadGadget,
	"enable_unsafe_deserialization": rules.KerasSafeModeToggle,
}

// tfGadgetNames are TensorFlow functions (by their last name, wherever
// they are reached from) that read or write files or run Python.
var tfGadgetNames = map[string]bool{
	"write_file": true, "read_file": true, "py_func": true, "eager_py_func": true, "py_function": true,
	"numpy_function": true, "GFile": true, "copy": true, "rename": true, "remove": true, "rmtree": true,
	"makedirs": true, "save": true, "load": true, "matching_files": true, "Print": true, "print_v2": true,
}

// ref judges the object Keras would resolve from module and name.
func (c *checker) ref(module, name, path string, registered bool) {
	if module == "" || name == "" || module == "__main__" {
		return
	}
	q := module + "." + name
	root := module
	if i := strings.IndexByte(root, '.'); i >= 0 {
		root = root[:i]
	}
	if rule, ok := gadgets[name]; ok && trustedRoots[root] {
		c.add(Issue{RuleID: rule, Path: path, Global: q,
			Message: fmt.Sprintf("config references %s, which Keras resolves inside its own namespace and calls while rebuilding the model", q)})
		return
	}
	if root == "tensorflow" {
		tail := strings.TrimPrefix(strings.TrimPrefix(module, "tensorflow"), ".")
		if tfGadgetNames[name] || tfFileOps[strings.TrimPrefix(tail+"."+name, ".")] {
			c.add(Issue{RuleID: rules.KerasDownloadGadget, Path: path, Global: q,
				Message: fmt.Sprintf("config makes Keras resolve %s, a TensorFlow function that reads or writes files or runs Python, and call it while rebuilding the model", q)})
		}
		return
	}
	if trustedRoots[root] {
		return
	}
	if module == "builtins" || module == "__builtin__" {
		// Keras serializes plain functions (activations, losses) with
		// module "builtins" and looks the name up in its own modules
		// first; only builtins that run code or touch files matter.
		if policy.IsDangerousBuiltin(name) {
			c.add(Issue{RuleID: rules.KerasDangerousRef, Path: path, Global: "builtins." + name,
				Message: fmt.Sprintf("config makes Keras look up builtins.%s and use it as a function", name)})
		}
		return
	}
	cls := c.classify(policy.Canonical(module, name))
	if cls == policy.Dangerous || cls == policy.NeedsCall {
		c.add(Issue{RuleID: rules.KerasDangerousRef, Path: path, Global: q,
			Message: fmt.Sprintf("config makes Keras import %s and use it as a class or function", q)})
		return
	}
	is := Issue{RuleID: rules.KerasExternalModule, Path: path, Global: q,
		Message: fmt.Sprintf("config makes Keras import module %q (for %s) when the object is not registered", module, name)}
	if registered {
		// The usual shape of a custom layer saved by its own package.
		is.Severity = finding.SeverityLow
		is.Message += "; it carries a registered name, as custom objects saved by their own package do"
	}
	c.add(is)
}

// lambdaLayer handles the Keras 2 Lambda layout: "function" is
// [base64 code, defaults, closure] for function_type "lambda", or a name
// looked up in the module "module" for function_type "function".
func (c *checker) lambdaLayer(cfg map[string]any, path string) {
	fn := cfg["function"]
	switch f := fn.(type) {
	case []any, string:
		if str(cfg["function_type"]) == "function" {
			c.ref(str(cfg["module"]), str(f), join(path, "config.function"), false)
		} else {
			c.lambda(f, join(path, "config.function"), "Lambda")
		}
	}
	// A dict is a Keras 3 serialized object; the walk visits it.

	// Keras 2 stores output_shape the same way when it is a function.
	switch str(cfg["output_shape_type"]) {
	case "lambda":
		c.lambda(cfg["output_shape"], join(path, "config.output_shape"), "Lambda output_shape")
	case "function":
		c.ref(str(cfg["output_shape_module"]), str(cfg["output_shape"]), join(path, "config.output_shape"), false)
	}
}

// lambda decodes func_dump output ([base64 marshal, defaults, closure], or
// the bare base64 string) and reports what the bytecode references.
func (c *checker) lambda(v any, path, kind string) {
	var b64 string
	switch t := v.(type) {
	case string:
		b64 = t
	case []any:
		if len(t) > 0 {
			b64, _ = t[0].(string)
		}
	}
	is := Issue{RuleID: rules.KerasLambda, Severity: finding.SeverityHigh, Path: path}
	raw, err := decodeBase64(b64)
	if err != nil || b64 == "" {
		is.Message = fmt.Sprintf("%s layer function is not decodable bytecode (%v); Keras would still try marshal.loads on it", kind, err)
		is.Evidence = truncate(b64, 120)
		c.add(is)
		return
	}
	code, err := pymarshal.Decode(raw, pymarshal.DefaultLimits())
	if err != nil {
		is.Message = fmt.Sprintf("%s layer carries %d bytes of marshalled data that did not decode as a code object (%v)", kind, len(raw), err)
		is.Evidence = truncate(fmt.Sprintf("%q", raw), 160)
		c.add(is)
		return
	}
	sum := sha256.Sum256(raw)
	is.CodeSHA256 = hex.EncodeToString(sum[:])
	danger := c.dangerousNames(code)
	if len(danger) > 0 {
		is.Severity = finding.SeverityCritical
		is.Global = strings.Join(danger, ", ")
	}
	is.Message = fmt.Sprintf("%s layer carries CPython %s bytecode (function %s) that references names [%s]",
		kind, code.Layout, strings.Join(code.Functions, ", "), strings.Join(code.Names, ", "))
	if len(danger) > 0 {
		is.Message += "; dangerous: " + strings.Join(danger, ", ")
	}
	is.Evidence = truncate("sha256="+is.CodeSHA256+"; strings: "+quoteAll(code.Strings), 300)
	c.add(is)
}

// dangerousNames returns the names and string constants of code that reach
// code execution, the OS, files or the network (the lists are shared with
// the pickled-function judgement in package policy).
func (c *checker) dangerousNames(code *pymarshal.Code) []string {
	return policy.CodeDanger(code.Names, code.Strings, func(s string) policy.Class { return c.classify(s) })
}

// tfFileOps are TensorFlow API names (as TFOpLambda stores them, without
// the "tf." prefix) that read or write files or run Python.
var tfFileOps = map[string]bool{
	"io.write_file": true, "io.read_file": true, "io.gfile.GFile": true, "io.gfile.copy": true,
	"io.gfile.remove": true, "io.gfile.rmtree": true, "io.gfile.rename": true, "io.gfile.makedirs": true,
	"io.matching_files": true, "io.gfile.glob": true, "io.gfile.listdir": true, "write_file": true, "read_file": true,
	"py_function": true, "numpy_function": true, "compat.v1.py_func": true, "py_func": true,
	"raw_ops.ReadFile": true, "raw_ops.WriteFile": true, "raw_ops.PyFunc": true, "raw_ops.EagerPyFunc": true,
	"raw_ops.PyFuncStateless": true, "raw_ops.MatchingFiles": true, "raw_ops.Save": true, "raw_ops.SaveV2": true,
	"raw_ops.MergeV2Checkpoints": true, "print": true, "compat.v1.Print": true, "debugging.experimental.enable_dump_debug_info": true,
	"data.experimental.save": true, "saved_model.save": true, "keras.utils.get_file": true, "keras.models.load_model": true,
}

func (c *checker) tfOpLambda(fn, path string) {
	name := strings.TrimPrefix(fn, "tf.")
	if tfFileOps[name] || strings.HasPrefix(name, "io.gfile.") {
		c.add(Issue{RuleID: rules.KerasTFOpLambda, Path: path, Global: "tf." + name,
			Message: fmt.Sprintf("TFOpLambda layer calls tf.%s", name)})
	}
}

// torchModule decodes the torch.save bytes of a TorchModuleWrapper: base64
// text in current Keras, a {"class_name": "__bytes__"} object before that.
func (c *checker) torchModule(v any, path string) {
	p := join(path, "config.module")
	var data []byte
	switch t := v.(type) {
	case string:
		b, err := decodeBase64(t)
		if err != nil {
			c.add(Issue{RuleID: rules.KerasTorchModule, Path: p,
				Message: fmt.Sprintf("TorchModuleWrapper module is not base64 (%v); torch.load would not be reached", err)})
			return
		}
		data = b
	case map[string]any:
		if str(t["class_name"]) == "__bytes__" {
			if cfg, ok := t["config"].(map[string]any); ok {
				data = []byte(str(cfg["value"]))
			}
		}
	}
	if len(data) == 0 {
		return
	}
	c.add(Issue{RuleID: rules.KerasTorchModule, Path: p, Global: "torch.load",
		Message: fmt.Sprintf("TorchModuleWrapper embeds %d bytes of torch.save output that Keras loads with torch.load(weights_only=False); scanned as member %s", len(data), p)})
	c.payloads = append(c.payloads, Payload{Path: p, Data: data})
}

// decodeBase64 accepts what Python's base64.b64decode accepts by default
// for Keras output: standard alphabet, padding optional, newlines ignored.
func decodeBase64(s string) ([]byte, error) {
	if int64(len(s))/4*3 > maxPayloadBytes {
		return nil, fmt.Errorf("base64 text of %d bytes exceeds the payload limit", len(s))
	}
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func quoteAll(ss []string) string {
	var b bytes.Buffer
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(truncate(s, 80)))
	}
	return b.String()
}

// ParseJSON parses a config the way Python's json module does: it also
// accepts the NaN, Infinity and -Infinity tokens json.dumps writes, which
// encoding/json rejects.
func ParseJSON(b []byte) (any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	err := dec.Decode(&v)
	if err != nil {
		if fixed, changed := replaceNonFinite(b); changed {
			dec = json.NewDecoder(bytes.NewReader(fixed))
			dec.UseNumber()
			v = nil
			err = dec.Decode(&v)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	// Python rejects trailing content too ("Extra data").
	if dec.More() {
		return nil, fmt.Errorf("json: extra data after the top-level value")
	}
	return v, nil
}

// replaceNonFinite rewrites NaN / Infinity / -Infinity outside strings as 0.
func replaceNonFinite(b []byte) ([]byte, bool) {
	out := make([]byte, 0, len(b))
	changed := false
	inStr, esc := false, false
	for i := 0; i < len(b); i++ {
		ch := b[i]
		if inStr {
			out = append(out, ch)
			switch {
			case esc:
				esc = false
			case ch == '\\':
				esc = true
			case ch == '"':
				inStr = false
			}
			continue
		}
		if ch == '"' {
			inStr = true
			out = append(out, ch)
			continue
		}
		matched := false
		for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
			if bytes.HasPrefix(b[i:], []byte(tok)) {
				out = append(out, '0')
				i += len(tok) - 1
				matched, changed = true, true
				break
			}
		}
		if !matched {
			out = append(out, ch)
		}
	}
	return out, changed
}
