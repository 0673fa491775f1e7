package scan

import (
	"context"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/formats/list"
)

func BenchmarkZZTiny(b *testing.B) {
	eng, _ := engine.New(engine.Options{Formats: list.Default()})
	data := []byte("\x80\x04\x95\x14\x00\x00\x00\x00\x00\x00\x00\x7d\x94\x28\x8c\x01\x61\x94\x4b\x01\x8c\x01\x62\x94\x5d\x94\x4b\x02\x61\x75\x2e")
	b.ReportAllocs()
	for b.Loop() {
		eng.ScanReaderAt(context.Background(), "x.pkl", engine.Memory(data), int64(len(data)))
	}
}
