// Package onnxdata analyzes ONNX models that keep tensors in external data
// files: every location the graph names must exist next to the model. The
// model file is recognised by content (the onnx format); escaping
// locations are the format's own finding (MG501).
package onnxdata

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/onnx"
	"github.com/modelgate/modelgate/core/modeldir"
	"github.com/modelgate/modelgate/core/pathcheck"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
)

// Analyzer is the ONNX external-data analyzer.
type Analyzer struct{}

// Kind is the report.Model kind.
const Kind = "onnx"

// Name implements modeldir.Analyzer.
func (Analyzer) Name() string { return "onnx-external-data" }

// Marker implements modeldir.Analyzer: candidates are .onnx files; the
// onnx format's verdict on their content decides.
func (Analyzer) Marker(name string) bool { return strings.HasSuffix(strings.ToLower(name), ".onnx") }

// Analyze implements modeldir.Analyzer. Each model with external data is
// one report.Model, named by the model file.
func (Analyzer) Analyze(ctx context.Context, t *modeldir.Tree, dir string, markers []*modeldir.File) (*report.Model, error) {
	var model *report.Model
	for _, mf := range markers {
		if !modeldir.HasFormat(t.Result(ctx, mf), "onnx") {
			continue
		}
		locs, err := locations(ctx, mf)
		if err != nil || len(locs) == 0 {
			continue // the per-file scan reported what it could not read
		}
		if model == nil {
			model = &report.Model{Path: dir, Kind: Kind, Framework: "onnx"}
		}
		model.Files = append(model.Files, mf.Path)
		seen := map[string]bool{}
		for _, l := range locs {
			if seen[l] || pathcheck.Escapes(l) != "" {
				continue
			}
			seen[l] = true
			p := modeldir.Join(dir, l)
			if f, ok := t.Get(ctx, p); ok {
				model.Files = append(model.Files, f.Path)
				continue
			}
			// External data is raw tensor bytes, never deserialized:
			// reported, not failed on.
			t.NotScanned(mf.Path, finding.Unscanned{RuleID: rules.NotScannedMissingFile, ModelLike: false,
				Reason: fmt.Sprintf("tensor data location %q is not next to the model", report.Printable(l))})
		}
	}
	return model, nil
}

func locations(ctx context.Context, f *modeldir.File) ([]string, error) {
	return modeldir.ReadAt(ctx, f, func(r io.ReaderAt, size int64) ([]string, error) {
		return onnx.ExternalDataLocations(ctx, r, size)
	})
}
