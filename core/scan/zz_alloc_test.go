package scan

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/formats/list"
)

func TestZZAlloc(t *testing.T) {
	dir := os.Getenv("PROBE_DIR")
	if dir == "" {
		t.Skip()
	}
	eng, _ := engine.New(engine.Options{Formats: list.Default()})
	var bufs [][]byte
	var names []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			bufs = append(bufs, b)
			names = append(names, p)
		}
		return nil
	})
	runtime.MemProfileRate = 256
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	for i, b := range bufs {
		eng.ScanReaderAt(context.Background(), names[i], engine.Memory(b), int64(len(b)))
	}
	runtime.ReadMemStats(&ms1)
	t.Logf("%d files: %d bytes, %d allocs", len(bufs), ms1.TotalAlloc-ms0.TotalAlloc, ms1.Mallocs-ms0.Mallocs)
	f, _ := os.Create("/tmp/alloc.out")
	pprof.Lookup("allocs").WriteTo(f, 0)
	f.Close()
}
