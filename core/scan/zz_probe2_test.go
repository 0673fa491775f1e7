package scan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/formats/list"
)

func TestZZSeq(t *testing.T) {
	dir := os.Getenv("PROBE_DIR")
	if dir == "" {
		t.Skip()
	}
	eng, _ := engine.New(engine.Options{Formats: list.Default()})
	var bufs [][]byte
	var names []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		b, _ := os.ReadFile(p)
		bufs = append(bufs, b)
		names = append(names, p)
		return nil
	})
	best := time.Hour
	var sum time.Duration
	for pass := 0; pass < 200; pass++ {
		start := time.Now()
		for i, b := range bufs {
			eng.ScanReaderAt(context.Background(), names[i], engine.Memory(b), int64(len(b)))
		}
		d := time.Since(start)
		if pass >= 5 { sum += d }
		best = min(best, d)
	}
	fmt.Println("files", len(bufs), "best pass", best, "mean", sum/195)
}
