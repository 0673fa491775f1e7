package plugin_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/plugin"
	"github.com/modelgate/modelgate/core/rules"
)

// BenchmarkStartup is the cost of starting a plugin (launch, checksum,
// mTLS handshake, Describe) and stopping it.
func BenchmarkStartup(b *testing.B) {
	for b.Loop() {
		set, err := plugin.Load(context.Background(), []plugin.Spec{{Path: testDetector}}, plugin.Options{})
		if err != nil {
			b.Fatal(err)
		}
		set.Close()
	}
}

// benchScan measures one file through the engine with the plugin as the
// only format: the per-file overhead of a plugin call.
func benchScan(b *testing.B, data []byte, wantFindings int) {
	set := load(b, plugin.Spec{Path: testDetector})
	formats, err := set.Formats(nil)
	if err != nil {
		b.Fatal(err)
	}
	cat, err := rules.Default().With(set.Rules()...)
	if err != nil {
		b.Fatal(err)
	}
	eng, err := engine.New(engine.Options{Formats: formats, Rules: cat})
	if err != nil {
		b.Fatal(err)
	}
	r := bytes.NewReader(data)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		res := eng.ScanReaderAt(context.Background(), "bench.bin", r, int64(len(data)))
		if len(res.Findings) != wantFindings || res.Status != finding.StatusScanned {
			b.Fatalf("%+v", res)
		}
	}
}

func sized(word string, n int) []byte {
	data := make([]byte, n)
	copy(data, "MGTEST:"+word+"\n")
	return data
}

// A small file fits in the ScanStart message: one round trip.
func BenchmarkScanSmall1KiB(b *testing.B) { benchScan(b, sized("ok", 1<<10), 1) }

// A large file whose plugin reads only the head: the cost does not grow
// with the file. (No finding, so the engine does not hash the file.)
func BenchmarkScanLarge64MiBHeadOnly(b *testing.B) { benchScan(b, sized("none", 64<<20), 0) }

// A large file the plugin reads in full, in 32 KiB pieces served from
// 1 MiB windows.
func BenchmarkScanLarge64MiBReadAll(b *testing.B) { benchScan(b, sized("readall", 64<<20), 0) }

// BenchmarkInProcessBaseline is the engine's own per-file cost with an
// in-process format, to compare with BenchmarkScanSmall1KiB.
func BenchmarkInProcessBaseline(b *testing.B) {
	eng, err := engine.New(engine.Options{Formats: []engine.Format{nopFormat{}}})
	if err != nil {
		b.Fatal(err)
	}
	data := sized("ok", 1<<10)
	r := bytes.NewReader(data)
	for b.Loop() {
		eng.ScanReaderAt(context.Background(), "bench.bin", r, int64(len(data)))
	}
}

type nopFormat struct{}

func (nopFormat) Name() string                                           { return "nop" }
func (nopFormat) Match(*engine.Input) bool                               { return true }
func (nopFormat) Scan(context.Context, *engine.Input, *engine.Env) error { return nil }

// BenchmarkStartupPinned starts a plugin pinned by SHA-256, so only
// go-plugin hashes the executable.
func BenchmarkStartupPinned(b *testing.B) {
	sum, err := fileDigest(testDetector)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		set, err := plugin.Load(context.Background(), []plugin.Spec{{Path: testDetector, SHA256: sum}}, plugin.Options{})
		if err != nil {
			b.Fatal(err)
		}
		set.Close()
	}
}
