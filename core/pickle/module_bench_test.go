package pickle_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/pickle"
	"github.com/modelgate/modelgate/core/policy"
)

// BenchmarkModulePickle traces the data.pkl of a real torch.save of a
// whole torchvision nn.Module (efficientnet_b0): thousands of calls,
// dicts and BUILDs, the costliest shape among small real models.
func BenchmarkModulePickle(b *testing.B) {
	z, err := zip.OpenReader(filepath.Join("..", "..", "test", "fixtures", "benign", "corpus", "torchvision", "efficientnet_b0_module_empty_weights.pt"))
	if err != nil {
		b.Fatal(err)
	}
	defer z.Close()
	var data []byte
	for _, f := range z.File {
		if strings.HasSuffix(f.Name, "/data.pkl") {
			rc, err := f.Open()
			if err != nil {
				b.Fatal(err)
			}
			data, err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	pol := policy.Default()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	// In place, as the pickle format reads a torch zip's data.pkl.
	r := inMemory(data)
	// As the pickle format scans: a BUILD hook for joblib's arrays, which
	// this pickle never calls.
	opts := pickle.Options{Routine: pol.RoutineCallee, Inert: pol.InertResult, Frames: pickle.FramesBoth,
		OnBuild:       func(pickle.Value, pickle.Value, *pickle.Stream) error { return nil },
		OnBuildCallee: func(module, name string) bool { return module == "joblib.numpy_pickle" && name == "NumpyArrayWrapper" }}
	for b.Loop() {
		tr, err := pickle.Run(context.Background(), r, 0, int64(len(data)), opts)
		if err != nil || len(tr.Globals) == 0 {
			b.Fatal(err)
		}
	}
}

// inMemory is content already in memory, as engine.Memory is.
type inMemory []byte

func (m inMemory) Bytes() []byte { return m }

func (m inMemory) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(m).ReadAt(p, off)
}
