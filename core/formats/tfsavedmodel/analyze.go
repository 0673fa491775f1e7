package tfsavedmodel

import (
	"bufio"
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/rules"
)

//go:embed tf_ops.txt
var tfOpsText string

// knownOps returns every operator TensorFlow registers (tf.raw_ops),
// built on first use: every process pays package initialisation, and most
// scans meet no TensorFlow graph.
var knownOps = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(tfOpsText))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m
})

// KnownOp reports whether TensorFlow itself registers op. Names starting
// with "_" are TensorFlow-internal kernels (_Arg, _Retval, _FusedConv2D,
// _Mkl*) that graph optimisation writes.
func KnownOp(op string) bool { return knownOps()[op] || strings.HasPrefix(op, "_") }

// fileOps read or write files named by their input at run time.
var fileOps = map[string]string{
	"ReadFile": "reads a file", "WriteFile": "writes a file", "MatchingFiles": "lists files matching a pattern",
	"MatchingFilesDataset": "lists files matching a pattern", "ExperimentalMatchingFilesDataset": "lists files matching a pattern",
	"ImmutableConst": "memory-maps a file named by its memory_region_name attr",
}

// pythonOps call back into Python functions registered in the loading
// process.
var pythonOps = map[string]bool{"PyFunc": true, "PyFuncStateless": true, "EagerPyFunc": true}

// pathInputs are ops taking a file or directory path, with the indices of
// the inputs holding it.
var pathInputs = map[string][]int{
	"ReadFile": {0}, "WriteFile": {0}, "MatchingFiles": {0},
	"Save": {0}, "SaveSlices": {0}, "SaveV2": {0}, "Restore": {0}, "RestoreSlice": {0}, "RestoreV2": {0},
	"MergeV2Checkpoints": {0, 1}, "InitializeTableFromTextFile": {1}, "InitializeTableFromTextFileV2": {1},
	"TextLineDataset": {0}, "TFRecordDataset": {0}, "TFRecordDatasetV2": {0}, "FixedLengthRecordDataset": {0},
	"FixedLengthRecordDatasetV2": {0}, "CSVDataset": {0}, "CSVDatasetV2": {0}, "LMDBDataset": {0},
	"ExperimentalLMDBDataset": {0}, "CacheDataset": {1}, "CacheDatasetV2": {1}, "DatasetToTFRecord": {1},
	"ExperimentalDatasetToTFRecord": {1}, "CreateSummaryFileWriter": {1}, "LoadAndRemapMatrix": {0},
	"GenerateVocabRemapping": {0, 1}, "SaveDataset": {1}, "SaveDatasetV2": {1}, "LoadDataset": {0},
	"SnapshotDataset": {1}, "SnapshotDatasetV2": {1}, "DistributedSave": {1}, "RecordInput": {},
}

// debugOps carry URLs where tensor values are sent.
var debugOps = map[string]string{
	"DebugIdentity": "debug_urls", "DebugIdentityV2": "debug_urls", "DebugIdentityV3": "debug_urls",
	"DebugNanCount": "debug_urls", "DebugNumericSummary": "debug_urls", "DebugNumericSummaryV2": "debug_urls",
	"Copy": "debug_ops_spec", "CopyHost": "debug_ops_spec",
}

type issue struct {
	rule     string
	sev      finding.Severity
	global   string
	msg      string
	evidence string
	off      int64
	count    int
}

// analyze judges every node of every graph once all function names are
// known, merging repeats of the same operator into one finding.
func analyze(graphs []*graph, functions map[string]bool) []finding.Finding {
	issues := map[string]*issue{}
	var order []string
	add := func(key string, is issue) {
		if prev := issues[key]; prev != nil {
			prev.count++
			return
		}
		is.count = 1
		issues[key] = &is
		order = append(order, key)
	}
	for _, g := range graphs {
		for i := range g.nodes {
			n := &g.nodes[i]
			judgeNode(g, n, functions, add)
		}
	}
	out := make([]finding.Finding, 0, len(order))
	for _, k := range order {
		is := issues[k]
		msg := is.msg
		if is.count > 1 {
			msg += fmt.Sprintf(" (%d nodes)", is.count)
		}
		out = append(out, finding.Finding{RuleID: is.rule, Severity: is.sev, Global: is.global, Offset: is.off,
			Message: msg, Evidence: is.evidence})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Severity > out[j].Severity })
	return out
}

func judgeNode(g *graph, n *node, functions map[string]bool, add func(string, issue)) {
	op := n.op
	where := n.label(g)
	paths := map[int][]string{}
	for _, idx := range pathInputs[op] {
		paths[idx] = g.constStrings(n, idx)
	}
	describePaths := func() string {
		var all []string
		for _, idx := range pathInputs[op] {
			all = append(all, paths[idx]...)
		}
		if len(all) == 0 {
			return "path not a constant"
		}
		return "path " + strings.Join(quoteAll(all), ", ")
	}
	switch {
	case pythonOps[op]:
		add("py\x00"+op, issue{rule: rules.TFPythonCallOp, global: op, off: n.off,
			msg:      fmt.Sprintf("%s calls a Python function registered in the loading process (%s)", op, where),
			evidence: fmt.Sprintf("op=%s token=%s", op, strings.Join(quoteAll(n.strs["token"]), ","))})
		return
	case fileOps[op] != "":
		ev := describePaths()
		if op == "ImmutableConst" {
			ev = "memory_region_name " + strings.Join(quoteAll(n.strs["memory_region_name"]), ", ")
		}
		add("file\x00"+op+"\x00"+ev, issue{rule: rules.TFFileAccessOp, global: op, off: n.off,
			msg:      fmt.Sprintf("%s %s when the graph runs (%s)", op, fileOps[op], where),
			evidence: ev})
		return
	}
	if attr, ok := debugOps[op]; ok {
		for _, u := range n.strs[attr] {
			if strings.Contains(u, "://") {
				add("dbg\x00"+op+"\x00"+u, issue{rule: rules.TFDebugURL, global: op, off: n.off,
					msg:      fmt.Sprintf("%s sends tensor values to %q (%s)", op, u, where),
					evidence: attr + "=" + fmt.Sprintf("%q", u)})
			}
		}
	}
	reported := map[string]bool{}
	for _, idx := range pathInputs[op] {
		for _, p := range paths[idx] {
			if why := PathEscapes(p); why != "" && !reported[p] {
				reported[p] = true
				add("path\x00"+op+"\x00"+p, issue{rule: rules.TFPathOutsideModel, global: op, off: n.off,
					msg:      fmt.Sprintf("%s uses the constant path %q, which %s (%s)", op, p, why, where),
					evidence: fmt.Sprintf("%s input %d = %q", op, idx, p)})
			}
		}
	}
	if op != "" && !KnownOp(op) && !functions[op] {
		add("unknown\x00"+op, issue{rule: rules.TFUnknownOp, global: op, off: n.off,
			msg:      fmt.Sprintf("operator %s is not registered by TensorFlow; loading needs a custom-op library (%s)", op, where),
			evidence: "op=" + op})
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
