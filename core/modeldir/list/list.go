// Package list is the explicit registry of model-directory analyzers.
package list

import (
	"github.com/modelgate/modelgate/core/modeldir"
	"github.com/modelgate/modelgate/core/modeldir/huggingface"
	"github.com/modelgate/modelgate/core/modeldir/mlflow"
	"github.com/modelgate/modelgate/core/modeldir/onnxdata"
	"github.com/modelgate/modelgate/core/modeldir/savedmodel"
)

// Default returns every built-in model-directory analyzer.
func Default() []modeldir.Analyzer {
	return []modeldir.Analyzer{
		mlflow.Analyzer{},
		huggingface.Analyzer{},
		savedmodel.Analyzer{},
		onnxdata.Analyzer{},
	}
}
