// Package huggingface analyzes Hugging Face model repositories: auto_map
// entries that send transformers' Auto classes to custom code
// (trust_remote_code), sharded checkpoints whose weight maps name shard
// files, and chat templates stored as .jinja files next to the tokenizer.
package huggingface

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/jinja"
	"github.com/modelgate/modelgate/core/modeldir"
	"github.com/modelgate/modelgate/core/pathcheck"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
)

// Analyzer is the Hugging Face repository analyzer.
type Analyzer struct{}

// Kind is the report.Model kind.
const Kind = "huggingface"

// Name implements modeldir.Analyzer.
func (Analyzer) Name() string { return Kind }

// configFiles are the JSON files transformers reads an auto_map from.
var configFiles = []string{"config.json", "tokenizer_config.json", "processor_config.json",
	"preprocessor_config.json", "feature_extractor_config.json", "image_processor_config.json"}

// Marker implements modeldir.Analyzer.
func (Analyzer) Marker(name string) bool {
	for _, c := range configFiles {
		if name == c {
			return true
		}
	}
	return strings.HasSuffix(name, ".index.json")
}

// AncestorMarkers implements modeldir.AncestorMarkers: a diff that changes
// only modeling_x.py is judged with the config whose auto_map names it.
func (Analyzer) AncestorMarkers() []string { return []string{"config.json", "tokenizer_config.json"} }

// maxConfig bounds the config JSON read (tokenizer configs with a large
// added_tokens_decoder reach a few MiB).
const maxConfig = 64 << 20

// maxTemplate bounds a chat template file.
const maxTemplate = 4 << 20

// Analyze implements modeldir.Analyzer.
func (Analyzer) Analyze(ctx context.Context, t *modeldir.Tree, dir string, markers []*modeldir.File) (*report.Model, error) {
	a := &analysis{t: t, dir: dir, files: map[string]bool{}, code: map[string][]string{}}
	recognised := false
	for _, mf := range markers {
		name := path.Base(mf.Path)
		if strings.HasSuffix(name, ".index.json") {
			if a.index(ctx, mf) {
				recognised = true
			}
			continue
		}
		if a.config(ctx, mf, name) {
			recognised = true
		}
	}
	if !recognised {
		return nil, nil
	}
	a.reportCode(ctx)
	a.chatTemplates(ctx)
	for _, f := range t.Listed(dir, false) {
		a.files[f.Path] = true
	}
	m := &report.Model{Path: dir, Kind: Kind, Framework: a.modelType, Properties: map[string]string{}}
	if a.modelType != "" {
		m.Properties["hf.model_type"] = a.modelType
	}
	if a.architectures != "" {
		m.Properties["hf.architectures"] = a.architectures
	}
	if a.version != "" {
		m.Properties["hf.transformers_version"] = a.version
	}
	for f := range a.files {
		m.Files = append(m.Files, f)
	}
	return m, nil
}

type analysis struct {
	t   *modeldir.Tree
	dir string
	// files are the model's files.
	files map[string]bool
	// code maps a custom-code file to the auto_map entries naming it.
	code                              map[string][]string
	modelType, architectures, version string
	tokenizer                         bool
}

func (a *analysis) severityForCode() finding.Severity {
	if a.t.Strict() {
		return finding.SeverityHigh
	}
	return finding.SeverityMedium
}

// config reads one config file; it is the model's when it is a JSON object
// with keys transformers writes.
func (a *analysis) config(ctx context.Context, mf *modeldir.File, name string) bool {
	data, err := a.t.ReadAll(ctx, mf, maxConfig)
	if err != nil {
		if errors.Is(err, modeldir.ErrTooLarge) {
			// transformers reads it whatever its size: what it names
			// (remote code, a chat template) was not checked.
			a.t.NotScanned(mf.Path, finding.Unscanned{RuleID: rules.NotScannedLimit, ModelLike: true,
				Reason: fmt.Sprintf("%s: %v", name, err)})
		}
		return false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), &top) != nil {
		return false
	}
	_, hasAutoMap := top["auto_map"]
	switch name {
	case "config.json":
		if !hasAutoMap && !hasAny(top, "custom_pipelines") && !hasAny(top, "model_type", "architectures", "transformers_version", "_name_or_path") {
			return false
		}
		a.modelType = jsonString(top["model_type"])
		a.version = jsonString(top["transformers_version"])
		var arch []string
		if json.Unmarshal(top["architectures"], &arch) == nil {
			a.architectures = strings.Join(arch, ",")
		}
	case "tokenizer_config.json":
		a.tokenizer = true
	default:
		if !hasAutoMap && !hasAny(top, "processor_class", "feature_extractor_type", "image_processor_type") {
			return false
		}
	}
	a.files[mf.Path] = true
	if hasAutoMap {
		a.autoMap(ctx, mf, top["auto_map"])
	}
	if raw, ok := top["custom_pipelines"]; ok {
		a.customPipelines(ctx, mf, raw)
	}
	return true
}

func hasAny(top map[string]json.RawMessage, keys ...string) bool {
	for _, k := range keys {
		if _, ok := top[k]; ok {
			return true
		}
	}
	return false
}

func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// autoMap resolves each "module.Class" (or "repo--module.Class") reference.
func (a *analysis) autoMap(ctx context.Context, mf *modeldir.File, raw json.RawMessage) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return
	}
	autos := make([]string, 0, len(m))
	for k := range m {
		autos = append(autos, k)
	}
	sort.Strings(autos)
	cfg := path.Base(mf.Path)
	for _, auto := range autos {
		var refs []string
		var one string
		if json.Unmarshal(m[auto], &one) == nil {
			refs = []string{one}
		} else {
			var many []*string
			if json.Unmarshal(m[auto], &many) != nil {
				continue
			}
			for _, s := range many {
				if s != nil {
					refs = append(refs, *s)
				}
			}
		}
		for _, ref := range refs {
			a.autoRef(ctx, mf, cfg, auto, ref)
		}
	}
}

func (a *analysis) autoRef(ctx context.Context, mf *modeldir.File, cfg, auto, ref string) {
	if ref == "" {
		return
	}
	entry := fmt.Sprintf("%s auto_map %s -> %s", cfg, auto, ref)
	if strings.HasPrefix(auto, "custom_pipelines ") {
		entry = fmt.Sprintf("%s %s impl -> %s", cfg, auto, ref)
	}
	if repo, local, remote := strings.Cut(ref, "--"); remote {
		a.t.Report(mf.Path, finding.Finding{RuleID: rules.ModelDirRemoteCode, Severity: a.severityForCode(), Global: report.Printable(local),
			Message:  fmt.Sprintf("%s: transformers downloads and runs module code from the repository %q when loading with trust_remote_code=True; that code is not in this scan", report.Printable(entry), report.Printable(repo)),
			Evidence: report.Printable(entry)})
		return
	}
	i := strings.LastIndex(ref, ".")
	if i <= 0 {
		return
	}
	rel := strings.ReplaceAll(ref[:i], ".", "/") + ".py"
	if why := pathcheck.Escapes(rel); why != "" {
		a.t.Report(mf.Path, finding.Finding{RuleID: rules.ModelDirPathEscape, Evidence: report.Printable(entry),
			Message: fmt.Sprintf("%s: module file %q %s", report.Printable(entry), report.Printable(rel), why)})
		return
	}
	p := modeldir.Join(a.dir, rel)
	if f, ok := a.t.Get(ctx, p); ok {
		a.files[f.Path] = true
		a.t.Result(ctx, f)
		a.code[f.Path] = append(a.code[f.Path], entry)
		return
	}
	a.t.NotScanned(mf.Path, finding.Unscanned{RuleID: rules.NotScannedMissingFile, ModelLike: true,
		Reason: fmt.Sprintf("%s: the custom code file %s that transformers would run with trust_remote_code=True is not there", report.Printable(entry), report.Printable(rel))})
}

// customPipelines resolves config.json's custom_pipelines, whose impl
// classes transformers' pipeline() imports with trust_remote_code=True.
func (a *analysis) customPipelines(ctx context.Context, mf *modeldir.File, raw json.RawMessage) {
	var m map[string]struct {
		Impl string `json:"impl"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return
	}
	tasks := make([]string, 0, len(m))
	for k := range m {
		tasks = append(tasks, k)
	}
	sort.Strings(tasks)
	for _, task := range tasks {
		a.autoRef(ctx, mf, path.Base(mf.Path), "custom_pipelines "+task, m[task].Impl)
	}
}

// reportCode reports each custom-code file once, with every entry naming it.
func (a *analysis) reportCode(ctx context.Context) {
	paths := make([]string, 0, len(a.code))
	for p := range a.code {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		entries := a.code[p]
		a.t.Report(p, finding.Finding{RuleID: rules.ModelDirRemoteCode, Severity: a.severityForCode(),
			Message: fmt.Sprintf("runs bundled code on load, review it: transformers imports this module when the model is loaded with trust_remote_code=True (%s)",
				report.Printable(strings.Join(entries, "; "))),
			Evidence: report.Printable(entries[0])})
	}
}

// index checks a sharded checkpoint's weight map.
func (a *analysis) index(ctx context.Context, mf *modeldir.File) bool {
	data, err := a.t.ReadAll(ctx, mf, MaxIndexBytes)
	if err != nil {
		if errors.Is(err, modeldir.ErrTooLarge) {
			// The shards it names, and any that escape the repository,
			// were not checked.
			a.t.NotScanned(mf.Path, finding.Unscanned{RuleID: rules.NotScannedLimit, ModelLike: true,
				Reason: "weight map index: " + err.Error()})
			return true
		}
		return false
	}
	ix, err := ParseIndex(data)
	if errors.Is(err, ErrNotIndex) {
		return false
	}
	if err != nil {
		a.t.Report(mf.Path, finding.Finding{RuleID: rules.ModelDirUnexpectedShard, Message: err.Error()})
		return true
	}
	a.files[mf.Path] = true
	// Every name is checked for escapes, however many: the check is cheap
	// and a high-severity escape must not hide behind padding shards.
	var inside []string
	for _, shard := range ix.Shards {
		if shard == "" {
			continue
		}
		if why := pathcheck.Escapes(shard); why != "" {
			a.t.Report(mf.Path, finding.Finding{RuleID: rules.ModelDirPathEscape, Global: report.Printable(shard),
				Message:  fmt.Sprintf("the weight map names shard %q, which %s: the loader would read a file outside the repository", report.Printable(shard), why),
				Evidence: "weight_map -> " + report.Printable(shard)})
			continue
		}
		inside = append(inside, shard)
	}
	if len(inside) > maxShards {
		a.t.NotScanned(mf.Path, finding.Unscanned{RuleID: rules.NotScannedLimit, ModelLike: true,
			Reason: fmt.Sprintf("the weight map names %d shard files; only the first %d were checked, the rest were not", len(inside), maxShards)})
		inside = inside[:maxShards]
	}
	for _, shard := range inside {
		p := modeldir.Join(a.dir, shard)
		f, ok := a.t.Get(ctx, p)
		if !ok {
			a.t.NotScanned(mf.Path, finding.Unscanned{RuleID: rules.NotScannedMissingFile, ModelLike: true,
				Reason: fmt.Sprintf("the weight map names shard %q (%d tensors), which is not there: what the loader reads was not scanned", report.Printable(shard), ix.Tensors[shard])})
			continue
		}
		a.files[f.Path] = true
		res := a.t.Result(ctx, f)
		a.shardFormat(f.Path, shard, res)
	}
	return true
}

// maxShards bounds the shards checked per index; the largest published
// checkpoints have a few hundred.
const maxShards = 1 << 14

// shardFormats maps a shard's extension to the formats its content may be.
var shardFormats = map[string][]string{
	".safetensors": {"safetensors"},
	".bin":         {"pytorch-zip", "pytorch-legacy", "pytorch-tar"},
	".pt":          {"pytorch-zip", "pytorch-legacy", "pytorch-tar"},
	".pth":         {"pytorch-zip", "pytorch-legacy", "pytorch-tar"},
	".ckpt":        {"pytorch-zip", "pytorch-legacy", "pytorch-tar"},
	".h5":          {"keras-h5", "hdf5"},
	".gguf":        {"gguf"},
}

func (a *analysis) shardFormat(p, shard string, res *finding.FileResult) {
	want, ok := shardFormats[strings.ToLower(path.Ext(shard))]
	if !ok || res.Status == finding.StatusNotScanned {
		// Unknown extensions, and content that could not be scanned (an
		// LFS pointer without its object), are judged per file.
		return
	}
	if modeldir.HasFormat(res, want...) {
		return
	}
	got := "content no format recognises"
	if len(res.Formats) > 0 {
		got = strings.Join(res.Formats, ", ")
	}
	a.t.Report(p, finding.Finding{RuleID: rules.ModelDirShardFormat,
		Message:  fmt.Sprintf("shard %q of the weight map is named %s but its content is %s", report.Printable(shard), path.Ext(shard), got),
		Evidence: "formats: " + got})
}

// chatTemplates checks .jinja chat templates that transformers loads next
// to a tokenizer (chat_template.jinja, additional_chat_templates/*.jinja).
func (a *analysis) chatTemplates(ctx context.Context) {
	if !a.tokenizer {
		if _, ok := a.t.Get(ctx, modeldir.Join(a.dir, "tokenizer.json")); !ok {
			return
		}
	}
	var files []*modeldir.File
	if f, ok := a.t.Get(ctx, modeldir.Join(a.dir, "chat_template.jinja")); ok {
		files = append(files, f)
	}
	for _, f := range a.t.Listed(modeldir.Join(a.dir, "additional_chat_templates"), false) {
		if strings.HasSuffix(f.Path, ".jinja") {
			files = append(files, f)
		}
	}
	for _, f := range files {
		a.files[f.Path] = true
		a.t.Result(ctx, f)
		data, err := a.t.ReadAll(ctx, f, maxTemplate)
		if err != nil {
			rule := rules.NotScannedError
			if errors.Is(err, modeldir.ErrTooLarge) {
				rule = rules.NotScannedLimit
			}
			a.t.NotScanned(f.Path, finding.Unscanned{RuleID: rule, ModelLike: true, Reason: "chat template: " + err.Error()})
			continue
		}
		a.t.Claim(f.Path, "chat-template")
		res := jinja.Check(ctx, string(data), jinja.DefaultLimits())
		for _, is := range res.Issues {
			a.t.Report(f.Path, finding.Finding{RuleID: is.RuleID, Severity: is.Severity, Offset: int64(is.Offset),
				Message:  "chat template (rendered by the tokenizer's apply_chat_template): " + is.Message,
				Evidence: is.Evidence})
		}
		if res.Incomplete != "" {
			a.t.NotScanned(f.Path, finding.Unscanned{RuleID: rules.NotScannedLimit, ModelLike: true, Reason: "chat template: " + res.Incomplete})
		}
	}
}
