package scan

import (
	"context"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
)

// analyzeModels recognises model directories among the scanned entries and
// judges what lives only at that level (references between files). Model
// directory analyzers plug in here.
func analyzeModels(_ context.Context, _ *engine.Engine, _ Source, _ []Entry, results []finding.FileResult) ([]report.Model, []finding.FileResult) {
	return nil, results
}
