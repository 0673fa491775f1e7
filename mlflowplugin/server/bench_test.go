package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelgate/modelgate/mlflowplugin/internal/pgtest"
	"github.com/modelgate/modelgate/mlflowplugin/store"
	"github.com/modelgate/modelgate/mlflowplugin/webhook"
)

// benchmarkAck measures the time to 2xx of signed model_version.created
// deliveries through the real handler and store over loopback HTTP, with
// 10 concurrent senders (MLflow's default delivery pool) and no workers
// competing for the CPU. It reports p50/p99 in ms next to ns/op.
func benchmarkAck(b *testing.B, dsn string) {
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	secret := []byte("bench-secret")
	v, _ := webhook.NewVerifier(secret, 0, nil)
	srv := httptest.NewServer(New(Config{Store: st, MLflow: v, Protected: []string{"champion"}, Metrics: NewMetrics(st)}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var n atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 10; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				id := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), n.Add(1))
				body := []byte(fmt.Sprintf(`{"entity": "model_version", "action": "created", "timestamp": "2026-11-23T08:53:42.727474+00:00", "data": {"name": "bench", "version": "%d", "source": "runs:/r/model", "run_id": "r", "tags": {}, "description": null}}`, i+1))
				ts := strconv.FormatInt(time.Now().Unix(), 10)
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/mlflow", bytes.NewReader(body))
				req.Header.Set(webhook.HeaderDeliveryID, id)
				req.Header.Set(webhook.HeaderTimestamp, ts)
				req.Header.Set(webhook.HeaderSignature, webhook.SignMLflow(secret, id, ts, body))
				t0 := time.Now()
				resp, err := client.Do(req)
				d := time.Since(t0)
				if err != nil || resp.StatusCode != http.StatusAccepted {
					b.Errorf("delivery: %v %v", err, resp)
					continue
				}
				resp.Body.Close()
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}

func BenchmarkReceiverAck_SQLite(b *testing.B) {
	benchmarkAck(b, filepath.Join(b.TempDir(), "s.db"))
}

func BenchmarkReceiverAck_Postgres(b *testing.B) {
	benchmarkAck(b, pgtest.DSN(b))
}
