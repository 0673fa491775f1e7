package mlflowplugin_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/modelgate/modelgate/mlflowplugin/fakemlflow"
	"github.com/modelgate/modelgate/mlflowplugin/store"
)

// BenchmarkFakeMLflowAPI_ScanVersion measures one version's whole job
// (REST calls, streaming download, scan, reports, tags) against the fake on
// loopback with the SQLite store.
func BenchmarkFakeMLflowAPI_ScanVersion(b *testing.B) {
	r := newRig(b, nil)
	r.fake.SendWebhooks("", nil)
	files := cleanModel(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := r.fake.CreateVersion("bench", files, fakemlflow.CreateOptions{Silent: true})
		if _, err := r.svc.Store.Enqueue(ctx, fmt.Sprintf("b%d", i), "mlflow", "e", store.NewJob{Kind: store.KindScan, Model: "bench", Version: v}); err != nil {
			b.Fatal(err)
		}
		r.svc.Pool.Wake()
	}
	for {
		d, _ := r.svc.Store.Depth(ctx)
		if d[store.StateQueued]+d[store.StateRunning] == 0 {
			break
		}
	}
	res, _ := r.svc.Store.GetResult(ctx, "bench", "1", true)
	b.ReportMetric(float64(len(res.SARIF)), "sarif-bytes")
	b.ReportMetric(float64(len(res.Report)), "json-bytes")
}
