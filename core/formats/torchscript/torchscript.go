// Package torchscript scans the Python source that torch.jit.save stores
// under "<dir>/code/" in a TorchScript archive. torch.jit.load compiles and
// links that source, and runs a module's __setstate__ while loading, so the
// source decides which native operators and file operations a load reaches.
// The pickles of the archive (data.pkl, constants.pkl) are scanned by the
// pickle format through the zip walker.
package torchscript

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/zipfmt"
	"github.com/modelgate/modelgate/core/rules"
)

// Format is TorchScript serialized source code.
type Format struct{}

// Name implements engine.Format.
func (Format) Name() string { return "torchscript-code" }

// Version implements engine.Versioned.
func (Format) Version() string { return FormatVersion }

// maxSource bounds the source read per member; serialized modules are
// kilobytes to a few megabytes.
const maxSource = 64 << 20

// Match implements engine.Format: only members the torch-archive walker
// marked as code/ sources, and only when they are text. The hint comes from
// the archive layout that torch.jit.load itself uses to find the code.
func (Format) Match(in *engine.Input) bool {
	return in.Context == zipfmt.ContextTorchScriptCode && engine.LooksLikeText(in.Head)
}

// Scan implements engine.Format.
func (Format) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	if in.Size > maxSource {
		env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("TorchScript source is %d bytes, more than %d", in.Size, maxSource))
		return nil
	}
	src := make([]byte, in.Size)
	if _, err := in.R.ReadAt(src, 0); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read torchscript source: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	refs, truncated := lex(src)
	if truncated {
		env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("more than %d names in TorchScript source; the rest was not analysed", maxRefs))
	}
	for _, f := range Analyze(refs) {
		env.Report(f)
	}
	return nil
}

// fileOps are TorchScript builtins that read or write files
// (aten::save, aten::from_file).
var fileOps = map[string]string{
	"save": "writes a file", "from_file": "reads (memory-maps) a file",
}

// standardOpNamespaces are operator namespaces registered by PyTorch itself.
var standardOpNamespaces = map[string]bool{
	"aten": true, "prim": true, "quantized": true, "_quantized": true, "prepacked": true,
	"mkldnn_prepacked": true, "mkldnn": true, "profiler": true, "quantization": true, "sparse": true,
	"prims": true, "nvprims": true, "c10d": true, "static_runtime": true, "onnx": true, "xnnpack": true,
	"_caffe2": true, "cuda": true, "cudnn": true, "fbgemm": true, "quantized_decomposed": true,
	"onednn": true, "_c10d_functional": true, "c10d_functional": true, "_test": true, "inductor": true,
	"higher_order": true, "_nested": true, "rngprims": true, "_prims": true, "debugprims": true,
}

// vendorOpNamespaces are extension libraries distributed with PyTorch or
// by well-known projects.
var vendorOpNamespaces = map[string]string{
	"torchvision": "torchvision", "torchaudio": "torchaudio", "torchtext": "torchtext",
	"torch_scatter": "PyTorch Geometric", "torch_sparse": "PyTorch Geometric",
	"torch_cluster": "PyTorch Geometric", "torch_spline_conv": "PyTorch Geometric",
	"detectron2": "detectron2", "mmcv": "mmcv", "fbgemm_gpu": "fbgemm_gpu", "torchrec": "torchrec",
}

// standardClassNamespaces hold the custom classes PyTorch registers.
var standardClassNamespaces = map[string]bool{
	"quantized": true, "xnnpack": true, "profiler": true, "c10d": true, "dist_c10d": true,
	"dist_rpc": true, "onednn": true, "cuda": true, "_TorchScriptTesting": true, "sparse": true,
	"mkldnn": true, "_nnapi": true, "rpc": true, "aten": true,
}

// foreignModules are Python modules the TorchScript serializer never
// names: source mentioning them was written by hand.
var foreignModules = map[string]bool{
	"os": true, "sys": true, "subprocess": true, "builtins": true, "__builtins__": true,
	"socket": true, "shutil": true, "importlib": true, "pickle": true, "marshal": true,
	"ctypes": true, "posix": true, "nt": true, "pty": true, "runpy": true, "urllib": true,
	"requests": true, "http": true, "pathlib": true, "io": true, "codecs": true, "base64": true,
	"tempfile": true, "glob": true, "signal": true, "multiprocessing": true, "threading": true,
}

// foreignCalls are builtins the TorchScript compiler does not provide.
var foreignCalls = map[string]bool{
	"open": true, "eval": true, "exec": true, "compile": true, "__import__": true,
	"globals": true, "locals": true, "vars": true, "breakpoint": true, "input": true,
	"setattr": true, "delattr": true,
}

type hit struct {
	rule, global, msg string
	sev               finding.Severity
	lines             []int
}

// Analyze turns the references of one source member into findings, one per
// distinct name and rule with the lines it appears on.
func Analyze(refs []ref) []finding.Finding {
	hits := map[string]*hit{}
	add := func(rule, global, msg string, sev finding.Severity, line int) {
		k := rule + "\x00" + global
		h := hits[k]
		if h == nil {
			h = &hit{rule: rule, global: global, msg: msg, sev: sev}
			hits[k] = h
		}
		if sev > h.sev {
			h.sev, h.msg = sev, msg
		}
		if len(h.lines) < 8 && (len(h.lines) == 0 || h.lines[len(h.lines)-1] != line) {
			h.lines = append(h.lines, line)
		}
	}
	for _, r := range refs {
		parts := strings.Split(r.name, ".")
		if r.stmtStart && (parts[0] == "import" || parts[0] == "from") {
			continue // the module name follows as its own ref
		}
		if op, ns, ok := opCall(parts); ok {
			checkOp(add, r, ns, op)
			continue
		}
		if ns, ok := classRef(parts); ok {
			if !standardClassNamespaces[ns] {
				add(rules.TorchScriptCustomOp, "torch.classes."+ns,
					fmt.Sprintf("uses custom class namespace torch.classes.%s, which only exists after a native library registers it", ns),
					finding.SeverityHigh, r.line)
			}
			continue
		}
		if len(parts) == 2 && parts[0] == "torch" && fileOps[parts[1]] != "" && r.call {
			fileAccess(add, r, r.name, fileOps[parts[1]])
			continue
		}
		switch {
		case foreignModules[parts[0]]:
			add(rules.TorchScriptForeignCode, r.name,
				fmt.Sprintf("references Python module %q, which TorchScript's serializer never writes: the source was edited by hand", parts[0]),
				finding.SeverityHigh, r.line)
		case len(parts) == 1 && r.call && foreignCalls[parts[0]]:
			add(rules.TorchScriptForeignCode, r.name,
				fmt.Sprintf("calls Python builtin %s(), which TorchScript does not provide: the source was edited by hand", parts[0]),
				finding.SeverityHigh, r.line)
		}
	}
	for i, r := range refs {
		if !r.stmtStart || (r.name != "import" && r.name != "from") || i+1 >= len(refs) {
			continue
		}
		mod := refs[i+1].name
		root := strings.SplitN(mod, ".", 2)[0]
		if root == "__torch__" || root == "torch" || root == "typing" || root == "__future__" {
			continue
		}
		add(rules.TorchScriptForeignCode, mod,
			fmt.Sprintf("imports Python module %q; TorchScript source only imports __torch__ classes", mod),
			finding.SeverityHigh, r.line)
	}
	keys := make([]string, 0, len(hits))
	for k := range hits {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]finding.Finding, 0, len(keys))
	for _, k := range keys {
		h := hits[k]
		lines := make([]string, len(h.lines))
		for i, l := range h.lines {
			lines[i] = fmt.Sprint(l)
		}
		out = append(out, finding.Finding{
			RuleID: h.rule, Severity: h.sev, Offset: -1, Global: h.global, Message: h.msg,
			Evidence: "line " + strings.Join(lines, ", "),
		})
	}
	return out
}

type addFunc func(rule, global, msg string, sev finding.Severity, line int)

// opCall recognises "ops.<ns>.<op>" and "torch.ops.<ns>.<op>".
func opCall(parts []string) (op, ns string, ok bool) {
	switch {
	case len(parts) >= 3 && parts[0] == "ops":
		return strings.Join(parts[2:], "."), parts[1], true
	case len(parts) >= 4 && parts[0] == "torch" && parts[1] == "ops":
		return strings.Join(parts[3:], "."), parts[2], true
	}
	return "", "", false
}

// classRef recognises "torch.classes.<ns>" and "__torch__.torch.classes.<ns>".
func classRef(parts []string) (string, bool) {
	for i := 0; i+2 < len(parts) && i < 2; i++ {
		if parts[i] == "torch" && parts[i+1] == "classes" {
			return parts[i+2], true
		}
	}
	return "", false
}

func checkOp(add addFunc, r ref, ns, op string) {
	if ns == "aten" {
		if what := fileOps[strings.SplitN(op, ".", 2)[0]]; what != "" {
			fileAccess(add, r, r.name, what)
		}
		return
	}
	if standardOpNamespaces[ns] {
		return
	}
	if v, ok := vendorOpNamespaces[ns]; ok {
		add(rules.TorchScriptExtensionOp, "ops."+ns,
			fmt.Sprintf("calls operators from namespace %q (%s); loading needs that extension library", ns, v),
			finding.SeverityLow, r.line)
		return
	}
	add(rules.TorchScriptCustomOp, "ops."+ns+"."+op,
		fmt.Sprintf("calls operator %s.%s from custom namespace %q, which only exists after torch.ops.load_library loads a native library", ns, op, ns),
		finding.SeverityHigh, r.line)
}

func fileAccess(add addFunc, r ref, name, what string) {
	sev := finding.SeverityHigh
	where := "when the module runs"
	if r.fn == "__setstate__" {
		sev = finding.SeverityCritical
		where = "inside __setstate__, which torch.jit.load runs while loading"
	}
	if r.fn != "" && r.fn != "__setstate__" {
		where = fmt.Sprintf("in %s(), when the module runs", r.fn)
	}
	add(rules.TorchScriptFileAccess, name,
		fmt.Sprintf("calls %s, which %s, %s", name, what, where), sev, r.line)
}

// FormatVersion changes whenever this package reports differently for the
// same bytes; reports record it next to the format name.
const FormatVersion = "1.0.0"
