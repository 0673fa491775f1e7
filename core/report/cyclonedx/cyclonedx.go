// Package cyclonedx renders a report as a CycloneDX ML-BOM: an inventory of
// every model in the scanned tree with what its headers say and what the
// scan found, so one file answers "what models do we have, and are they
// safe".
//
// Mapping:
//   - A model directory (report.Models) is one machine-learning-model
//     component whose files are sub-components of type file; a model file
//     outside any model directory is one machine-learning-model component.
//     Files the scan recognised as no model format (source, plain text)
//     are left out.
//   - Every file carries its SHA-256 and size; header properties
//     (gguf:architecture, safetensors:parameters, onnx:opset ...) become
//     namespaced properties, and the GGUF architecture is also
//     modelCard.modelParameters.architectureFamily.
//   - The verdict and finding counts go in properties: modelgate:verdict
//     (pass, fail, not-scanned), modelgate:findings, modelgate:findings:<severity>,
//     modelgate:not_scanned, and modelgate:rules (the rule ids found).
//   - Components are sorted by path, so the same tree gives the same BOM;
//     Options.Deterministic derives the serial number from the content.
package cyclonedx

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
)

// Options control the BOM.
type Options struct {
	// SpecVersion is "1.6" (default) or "1.7".
	SpecVersion string
	// Deterministic derives the serial number from the BOM's content
	// instead of drawing a random one, for reproducible BOMs.
	Deterministic bool
}

// Writer renders CycloneDX JSON.
type Writer struct{ opts Options }

var _ report.Writer = (*Writer)(nil)

// New returns a writer; it checks the spec version.
func New(opts Options) (*Writer, error) {
	if _, err := specVersion(opts.SpecVersion); err != nil {
		return nil, err
	}
	return &Writer{opts: opts}, nil
}

// Name implements report.Writer.
func (*Writer) Name() string { return "cyclonedx" }

func specVersion(v string) (cdx.SpecVersion, error) {
	switch v {
	case "", "1.6":
		return cdx.SpecVersion1_6, nil
	case "1.7":
		return cdx.SpecVersion1_7, nil
	}
	return 0, fmt.Errorf("CycloneDX version %q is not supported (want 1.6 or 1.7)", v)
}

// Write implements report.Writer.
func (w *Writer) Write(ctx context.Context, out io.Writer, r *report.Report) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sv, err := specVersion(w.opts.SpecVersion)
	if err != nil {
		return err
	}
	bom := Build(r)
	bom.SpecVersion = sv
	if w.opts.Deterministic {
		bom.SerialNumber = contentSerial(bom)
	} else {
		bom.SerialNumber = randomSerial()
	}
	enc := cdx.NewBOMEncoder(out, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	return enc.EncodeVersion(bom, sv)
}

// modelFormats are the formats whose presence makes a file a model (rather
// than an archive, a text file or a tokenizer config).
var modelFormats = map[string]string{
	"pickle": "pickle", "pytorch-zip": "pytorch", "pytorch-legacy": "pytorch", "pytorch-tar": "pytorch",
	"torchscript-code": "pytorch", "npy": "numpy", "gguf": "gguf", "safetensors": "safetensors",
	"onnx": "onnx", "keras-h5": "keras", "keras-config": "keras", "hdf5": "hdf5",
	"tf-savedmodel": "tensorflow", "tf-graphdef": "tensorflow", "tf-savedmodel-text": "tensorflow",
	"keras-metadata": "keras", "xgboost-binary": "xgboost",
}

// Build converts r into a BOM without serial number or spec version.
func Build(r *report.Report) *cdx.BOM {
	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: nonEmpty(r.Tool.Name, "modelgate"), Version: r.Tool.Version,
		}}},
		Properties: &[]cdx.Property{
			{Name: "modelgate:fail_on", Value: r.FailOn.String()},
			{Name: "modelgate:outcome", Value: string(r.Outcome)},
			{Name: "modelgate:policy", Value: r.Policy.Source},
		},
	}
	if !r.FinishedAt.IsZero() {
		bom.Metadata.Timestamp = r.FinishedAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	byPath := map[string]*finding.FileResult{}
	for i := range r.Files {
		byPath[r.Files[i].Path] = &r.Files[i]
	}
	inModel := map[string]bool{}
	var comps []cdx.Component
	for _, m := range r.Models {
		var files []*finding.FileResult
		for _, p := range m.Files {
			if f, ok := byPath[p]; ok {
				files = append(files, f)
				inModel[p] = true
			}
		}
		comps = append(comps, modelDir(r, m, files))
	}
	for i := range r.Files {
		f := &r.Files[i]
		if inModel[f.Path] || !isModel(f) {
			continue
		}
		comps = append(comps, modelFile(r, f))
	}
	sort.Slice(comps, func(i, j int) bool { return comps[i].BOMRef < comps[j].BOMRef })
	bom.Components = &comps
	return bom
}

func isModel(f *finding.FileResult) bool {
	for _, fm := range f.Formats {
		if _, ok := modelFormats[fm]; ok {
			return true
		}
	}
	// Content that might be a model but could not be scanned is
	// inventoried too: an unknown model is exactly what an inventory is for.
	for _, u := range f.Unscanned {
		if u.ModelLike {
			return true
		}
	}
	return false
}

func framework(f *finding.FileResult) string {
	var fws []string
	for _, fm := range f.Formats {
		if fw, ok := modelFormats[fm]; ok && !slices.Contains(fws, fw) {
			fws = append(fws, fw)
		}
	}
	// A checkpoint is reported by its container format, not by the
	// pickle inside it.
	if len(fws) > 1 {
		fws = slices.DeleteFunc(fws, func(s string) bool { return s == "pickle" })
	}
	sort.Strings(fws)
	return strings.Join(fws, ",")
}

func modelDir(r *report.Report, m report.Model, files []*finding.FileResult) cdx.Component {
	c := cdx.Component{
		BOMRef: "model:" + m.Path,
		Type:   cdx.ComponentTypeMachineLearningModel,
		Name:   modelName(m.Path),
	}
	props := []cdx.Property{{Name: "modelgate:path", Value: m.Path}, {Name: "modelgate:kind", Value: m.Kind}}
	if m.Framework != "" {
		props = append(props, cdx.Property{Name: "modelgate:framework", Value: m.Framework})
	}
	for _, k := range sortedKeys(m.Properties) {
		props = append(props, cdx.Property{Name: namespaced(k), Value: m.Properties[k]})
	}
	props = append(props, verdict(r, files)...)
	c.Properties = &props
	var subs []cdx.Component
	for _, f := range files {
		subs = append(subs, fileComponent(r, f))
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].BOMRef < subs[j].BOMRef })
	c.Components = &subs
	return c
}

func modelFile(r *report.Report, f *finding.FileResult) cdx.Component {
	c := fileComponent(r, f)
	c.BOMRef = "model:" + f.Path
	c.Type = cdx.ComponentTypeMachineLearningModel
	c.Name = path.Base(f.Path)
	if arch := f.Properties["gguf:architecture"]; arch != "" {
		c.ModelCard = &cdx.MLModelCard{ModelParameters: &cdx.MLModelParameters{ArchitectureFamily: arch}}
	}
	props := *c.Properties
	props = append(props, verdict(r, []*finding.FileResult{f})...)
	c.Properties = &props
	return c
}

func fileComponent(_ *report.Report, f *finding.FileResult) cdx.Component {
	c := cdx.Component{BOMRef: "file:" + f.Path, Type: cdx.ComponentTypeFile, Name: f.Path}
	if f.SHA256 != "" {
		c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: f.SHA256}}
	}
	props := []cdx.Property{
		{Name: "modelgate:path", Value: f.Path},
		{Name: "modelgate:size", Value: strconv.FormatInt(f.Size, 10)},
		{Name: "modelgate:status", Value: string(f.Status)},
	}
	if len(f.Formats) > 0 {
		props = append(props, cdx.Property{Name: "modelgate:formats", Value: strings.Join(f.Formats, ",")})
	}
	if fw := framework(f); fw != "" {
		props = append(props, cdx.Property{Name: "modelgate:framework", Value: fw})
	}
	for _, k := range sortedKeys(f.Properties) {
		props = append(props, cdx.Property{Name: namespaced(k), Value: f.Properties[k]})
	}
	c.Properties = &props
	return c
}

// verdict summarises the files' findings against the report's threshold.
// A not-scanned verdict counts the unscanned items the policy fails on
// (fail_on_unscanned, suppressions), so a component's verdict agrees with
// the gate.
func verdict(r *report.Report, files []*finding.FileResult) []cdx.Property {
	counts := map[finding.Severity]int{}
	total, failing, unscanned, blocking := 0, 0, 0, 0
	var ids []string
	for _, f := range files {
		for _, fd := range f.Findings {
			if fd.Suppression != nil {
				continue
			}
			total++
			counts[fd.Severity]++
			if r.FailOn != finding.SeverityNone && fd.Severity >= r.FailOn {
				failing++
			}
			if !slices.Contains(ids, fd.RuleID) {
				ids = append(ids, fd.RuleID)
			}
		}
		for _, u := range f.Unscanned {
			if u.Suppression == nil {
				unscanned++
			}
			if u.FailsGate {
				blocking++
			}
		}
	}
	v := "pass"
	switch {
	case failing > 0:
		v = "fail"
	case blocking > 0:
		v = "not-scanned"
	}
	props := []cdx.Property{
		{Name: "modelgate:verdict", Value: v},
		{Name: "modelgate:findings", Value: strconv.Itoa(total)},
	}
	for _, s := range []finding.Severity{finding.SeverityCritical, finding.SeverityHigh, finding.SeverityMedium, finding.SeverityLow} {
		if counts[s] > 0 {
			props = append(props, cdx.Property{Name: "modelgate:findings:" + s.String(), Value: strconv.Itoa(counts[s])})
		}
	}
	if unscanned > 0 {
		props = append(props, cdx.Property{Name: "modelgate:not_scanned", Value: strconv.Itoa(unscanned)})
	}
	if len(ids) > 0 {
		sort.Strings(ids)
		props = append(props, cdx.Property{Name: "modelgate:rules", Value: strings.Join(ids, ",")})
	}
	return props
}

// namespaced puts a format's own key ("gguf:architecture") under
// modelgate's namespace, as CycloneDX's property taxonomy asks.
func namespaced(k string) string { return "modelgate:" + k }

func modelName(p string) string {
	if p == "." || p == "" {
		return "."
	}
	return path.Base(p)
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// contentSerial is a version-5-style UUID URN over the components, so the
// same inventory gets the same serial number.
func contentSerial(bom *cdx.BOM) string {
	var buf bytes.Buffer
	_ = cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).Encode(&cdx.BOM{Components: bom.Components, SpecVersion: cdx.SpecVersion1_6})
	return uuidURN(sha256.Sum256(buf.Bytes()), 5)
}

func uuidURN(sum [32]byte, version byte) string {
	b := sum[:16]
	b[6] = b[6]&0x0f | version<<4
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
