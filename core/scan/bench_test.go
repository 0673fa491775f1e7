package scan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkSmallModels scans the benign fixtures (many small real model
// files) in one Run, the shape of a model directory or a repository.
func BenchmarkSmallModels(b *testing.B) {
	dir := "../../test/fixtures/benign"
	if d := os.Getenv("MODELGATE_BENCH_DIR"); d != "" {
		dir = d
	}
	files, size := 0, int64(0)
	_ = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && !strings.HasSuffix(p, ".md") {
			files++
			size += fi.Size()
		}
		return nil
	})
	if files == 0 {
		b.Skip("no fixtures")
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		rep, err := Run(context.Background(), Paths([]string{dir}, dir), Options{GCPercent: 400, MemoryLimit: 80 << 20})
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Files) < files {
			b.Fatalf("scanned %d files, want at least %d", len(rep.Files), files)
		}
	}
	b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
