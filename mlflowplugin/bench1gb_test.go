package mlflowplugin_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/scan"
	"github.com/modelgate/modelgate/internal/benchdata"
	"github.com/modelgate/modelgate/mlflowplugin/artifacts"
	"github.com/modelgate/modelgate/mlflowplugin/fakemlflow"
	"github.com/modelgate/modelgate/mlflowplugin/registry"
	"github.com/modelgate/modelgate/mlflowplugin/store"
	"github.com/modelgate/modelgate/mlflowplugin/worker"
)

// BenchmarkFakeMLflowAPI_Scan1GBVersion scans a model version of 1 GiB (an
// MLmodel directory whose model.pkl is a 1 GiB pickle of floats, the
// opcode-densest form, which the scanner reads to the end) two ways:
//
//   - local-disk: scan.Run over the directory on disk, the scanner's own
//     throughput;
//   - local-disk-with-digest: the same with every file hashed, the output
//     the receiver produces (its digest needs every byte);
//   - verify-download-and-hash: what `modelgate mlflow verify` does, the
//     download alone (streamed through the fake's artifact proxy and
//     hashed, nothing scanned or written);
//   - receiver: the receiver's whole job through a fake of MLflow's
//     artifact proxy on a real loopback HTTP server (get the version,
//     resolve get-download-uri, list, stream the download into the
//     scanner, digest, reports, tags).
//
// MB/s comes from b.SetBytes; peak-heap-MB is the largest Go heap seen
// (runtime/metrics, sampled every 5 ms) and peak-rss-MB the process's peak
// resident set (VmHWM, reset before the timed loop), which includes the
// fake server. The content is generated at bench time and never committed:
//
//	go test -run '^$' -bench Scan1GBVersion -benchtime 3x ./mlflowplugin/
func BenchmarkFakeMLflowAPI_Scan1GBVersion(b *testing.B) {
	dir := b.TempDir()
	small := map[string][]byte{
		"MLmodel":          []byte(mlmodel),
		"requirements.txt": []byte("mlflow==2.9.2\nscikit-learn==1.2.1\n"),
	}
	for name, body := range small {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	big := filepath.Join(dir, "model.pkl")
	if err := benchdata.WriteFloatPickle(big, 1<<30); err != nil {
		b.Fatal(err)
	}
	var size int64
	for _, name := range []string{"MLmodel", "requirements.txt", "model.pkl"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		size += fi.Size()
	}
	ctx := context.Background()

	// The receiver records a digest of every file; the scanner's own
	// throughput for the same output hashes every file too (HashAll, as
	// inventories do), after the scan.
	for _, local := range []struct {
		name    string
		hashAll bool
	}{{"local-disk", false}, {"local-disk-with-digest", true}} {
		b.Run(local.name, func(b *testing.B) {
			opts := scan.Options{TempDir: b.TempDir(), HashAll: local.hashAll}
			b.SetBytes(size)
			peak := watchMemory()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rep, err := scan.Run(ctx, scan.Paths([]string{dir}, dir), opts)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Outcome.Failed() || len(rep.Files) != 3 || local.hashAll && rep.Files[0].SHA256 == "" {
					b.Fatalf("local scan: %s (%d files)", rep.Verdict, len(rep.Files))
				}
			}
			b.StopTimer()
			peak.report(b)
		})
	}

	b.Run("verify-download-and-hash", func(b *testing.B) {
		fake := fakemlflow.New()
		defer fake.Close()
		v := fake.CreateVersion("big", small, fakemlflow.CreateOptions{Silent: true, DiskFiles: map[string]string{"model.pkl": big}})
		client, err := registry.New(registry.Config{TrackingURI: fake.URL})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(size)
		peak := watchMemory()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			loc, err := artifacts.Resolve(ctx, client, "big", v, "", nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, n, err := worker.Digest(ctx, loc.FS, nil); err != nil || n != size {
				b.Fatalf("digest over %d bytes: %v", n, err)
			}
		}
		b.StopTimer()
		peak.report(b)
	})

	b.Run("receiver", func(b *testing.B) {
		r := newRig(b, nil)
		r.fake.SendWebhooks("", nil)
		b.SetBytes(size)
		peak := watchMemory()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			v := r.fake.CreateVersion("big", small, fakemlflow.CreateOptions{Silent: true, DiskFiles: map[string]string{"model.pkl": big}})
			if _, err := r.svc.Store.Enqueue(ctx, "big-"+v, "mlflow", "model_version.created", store.NewJob{Kind: store.KindScan, Model: "big", Version: v}); err != nil {
				b.Fatal(err)
			}
			r.svc.Pool.Wake()
			for {
				d, err := r.svc.Store.Depth(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if d[store.StateQueued]+d[store.StateRunning] == 0 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			res, err := r.svc.Store.GetResult(ctx, "big", v, false)
			if err != nil || res == nil || res.Status != worker.StatusPassed || res.Digest == "" {
				b.Fatalf("version %s: %+v %v, want passed with a digest", v, res, err)
			}
			if n := r.fake.Downloads("big", v, "model.pkl"); n != 1 {
				b.Fatalf("model.pkl downloaded %d times, want once", n)
			}
		}
		b.StopTimer()
		peak.report(b)
	})
}

// memoryWatch samples the Go heap until report.
type memoryWatch struct {
	stop     chan struct{}
	done     sync.WaitGroup
	peakHeap uint64
}

func watchMemory() *memoryWatch {
	// Writing 5 to clear_refs resets VmHWM (Linux): the peak is then this
	// benchmark's, not the corpus writer's.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	w := &memoryWatch{stop: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			w.peakHeap = max(w.peakHeap, sample[0].Value.Uint64())
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *memoryWatch) report(b *testing.B) {
	close(w.stop)
	w.done.Wait()
	b.ReportMetric(float64(w.peakHeap)/1e6, "peak-heap-MB")
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
				kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
				if err == nil {
					b.ReportMetric(kb*1024/1e6, "peak-rss-MB")
				}
			}
		}
	}
}
