package scan

import (
	"context"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/modeldir"
	"github.com/modelgate/modelgate/core/modeldir/list"
	"github.com/modelgate/modelgate/core/report"
)

// analyzeModels recognises model directories among the scanned entries and
// judges what lives only at that level (references between files). The
// analyzers are core/modeldir/list's; files they need that the source did
// not list come from its Lookuper, when it has one.
func analyzeModels(ctx context.Context, eng *engine.Engine, src Source, entries []Entry, results []finding.FileResult) ([]report.Model, []finding.FileResult) {
	files := make([]modeldir.File, len(entries))
	for i, e := range entries {
		files[i] = modeldir.File{Path: e.Path, Size: e.Size, Open: e.Open}
	}
	var lookup modeldir.Lookup
	if l, ok := src.(Lookuper); ok {
		lookup = func(ctx context.Context, p string) (modeldir.File, bool) {
			e, ok := l.Lookup(ctx, p)
			if !ok || e.Err != nil || e.Open == nil {
				return modeldir.File{}, false
			}
			return modeldir.File{Path: e.Path, Size: e.Size, Open: e.Open}, true
		}
	}
	tree := modeldir.NewTree(eng, files, results, lookup)
	models := modeldir.Run(ctx, tree, list.Default())
	return models, tree.Results()
}
