package policy

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelgate/modelgate/core/pickle"
)

// FuzzJudgePickle runs the VM and the judge over arbitrary bytes: hostile
// traces (dispatchers of dispatchers, code objects with odd fields, getattr
// chains) must never panic. Seeds are the generalisation fixtures' pickles.
func FuzzJudgePickle(f *testing.F) {
	seeds, _ := filepath.Glob("../../test/fixtures/malicious/generalise/*.pkl")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add(stream(reduce(global("weakref", "finalize"), global("collections", "OrderedDict"), global("os", "system"))))
	p := Default()
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := pickle.Run(context.Background(), bytes.NewReader(data), 0, int64(len(data)), pickle.Options{})
		if err != nil {
			return
		}
		p.JudgePickle(tr, "")
	})
}
