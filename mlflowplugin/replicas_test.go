package mlflowplugin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelgate/modelgate/mlflowplugin/fakemlflow"
	"github.com/modelgate/modelgate/mlflowplugin/internal/pgtest"
	"github.com/modelgate/modelgate/mlflowplugin/store"
	"github.com/modelgate/modelgate/mlflowplugin/webhook"
	"github.com/modelgate/modelgate/mlflowplugin/worker"
)

type delivery struct {
	id, ts string
	body   []byte
}

func signedDelivery(id string, body []byte) delivery {
	return delivery{id: id, ts: strconv.FormatInt(time.Now().Unix(), 10), body: body}
}

func (d delivery) post(client *http.Client, url string) (int, error) {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(d.body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.HeaderDeliveryID, d.id)
	req.Header.Set(webhook.HeaderTimestamp, d.ts)
	req.Header.Set(webhook.HeaderSignature, webhook.SignMLflow([]byte(testSecret), d.id, d.ts, d.body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var sink bytes.Buffer
	_, _ = sink.ReadFrom(resp.Body)
	return resp.StatusCode, nil
}

func versionCreated(name, version string) []byte {
	b, _ := json.Marshal(map[string]any{"entity": "model_version", "action": "created",
		"timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000000+00:00"),
		"data":      map[string]any{"name": name, "version": version, "source": "runs:/r/model", "run_id": "r", "tags": map[string]string{}, "description": nil}})
	return b
}

// TestFakeMLflowAPI_PostgresTwoReplicasLoad runs two real receiver
// processes on one PostgreSQL store and sends them 2,000 deliveries plus
// 200 replays of already-sent ones (each replay to the other replica). No
// delivery may be lost and no version scanned twice. It logs deliveries/s
// and the time-to-2xx percentiles; it asserts no timing.
func TestFakeMLflowAPI_PostgresTwoReplicasLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	loadTest(t, pgtest.DSN(t), 2)
}

// TestFakeMLflowAPI_SQLiteLoad is the same load on one receiver process
// with the embedded SQLite store.
func TestFakeMLflowAPI_SQLiteLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	loadTest(t, filepath.Join(t.TempDir(), "state.db"), 1)
}

func loadTest(t *testing.T, db string, replicas int) {
	fake := fakemlflow.New()
	defer fake.Close()
	const models, perModel, replays = 20, 100, 200
	var all []delivery
	want := map[string]string{}
	for m := 0; m < models; m++ {
		name := fmt.Sprintf("load-%02d", m)
		for i := 0; i < perModel; i++ {
			files, status := cleanModel(t), "passed"
			if i%10 == 0 {
				files, status = evilModel(t), "failed"
			}
			v := fake.CreateVersion(name, files, fakemlflow.CreateOptions{Silent: true})
			want[name+"/"+v] = status
			all = append(all, signedDelivery(fmt.Sprintf("load-%s-%s", name, v), versionCreated(name, v)))
		}
	}
	var rs []*receiver
	var urls []string
	for i := 0; i < replicas; i++ {
		r := startReceiver(t, fake.URL, db, "--workers", "2")
		rs = append(rs, r)
		urls = append(urls, "http://"+r.addr+"/webhooks/mlflow")
	}
	cpuBefore := receiversCPU(t, rs)

	type send struct {
		d   delivery
		url string
	}
	var sends []send
	for i, d := range all {
		sends = append(sends, send{d, urls[i%replicas]})
		if i%10 == 5 && len(sends) < len(all)+replays { // a replay of an earlier delivery, to the other replica
			sends = append(sends, send{all[i-3], urls[(i-2)%replicas]})
		}
	}
	work := make(chan send)
	var mu sync.Mutex
	var lat []time.Duration
	statuses := map[int]int{}
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 30 * time.Second}
	start := time.Now()
	// MLflow delivers from a pool of MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS
	// (default 10) threads: as many senders here.
	for w := 0; w < 10; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				t0 := time.Now()
				code, err := s.d.post(client, s.url)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					statuses[-1]++
				} else {
					statuses[code]++
				}
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	for _, s := range sends {
		work <- s
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	if statuses[http.StatusAccepted] != len(sends) {
		t.Fatalf("answers %v, want %d × 202", statuses, len(sends))
	}
	cpu := receiversCPU(t, rs) - cpuBefore
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))].Round(10 * time.Microsecond) }
	backend := "SQLite"
	if strings.HasPrefix(db, "postgres") {
		backend = "PostgreSQL"
	}
	t.Logf("load: %d deliveries (%d replays) to %d receiver(s) on %s in %s: %.0f deliveries/s; time to 2xx p50 %s p95 %s p99 %s max %s; receivers' CPU %.2f s (%.0f µs per delivery)",
		len(sends), len(sends)-len(all), replicas, backend, elapsed.Round(time.Millisecond), float64(len(sends))/elapsed.Seconds(),
		pct(0.50), pct(0.95), pct(0.99), lat[len(lat)-1].Round(10*time.Microsecond), cpu, cpu*1e6/float64(len(sends)))

	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	scanStart := time.Now()
	deadline := time.Now().Add(8 * time.Minute)
	for {
		d, err := st.Depth(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if d[store.StateQueued]+d[store.StateRunning] == 0 {
			if d[store.StateDone] != len(all) || d[store.StateFailed] != 0 {
				t.Fatalf("jobs %v, want %d done (one per distinct delivery) and none failed", d, len(all))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs not finished: %v", d)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("load: %d versions scanned and tagged by %d receiver(s) × 2 workers in %s", len(all), replicas, time.Since(scanStart).Round(time.Millisecond))
	jobs, err := st.Jobs(context.Background(), store.JobFilter{})
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]int{}
	for _, j := range jobs {
		if j.Attempts != 1 {
			t.Errorf("job %d ran %d times", j.ID, j.Attempts)
		}
		owners[j.Owner[:len(j.Owner)-3]]++ // host/pid, without the worker suffix
	}
	if len(owners) != replicas {
		t.Errorf("jobs ran on %d receivers (%v), want %d", len(owners), owners, replicas)
	}
	for key, status := range want {
		var name, v string
		fmt.Sscanf(key[:len("load-00")], "%s", &name)
		v = key[len("load-00/"):]
		if n := fake.Downloads(name, v, "model.pkl"); n != 1 {
			t.Fatalf("%s: model.pkl downloaded %d times, want once", key, n)
		}
		tags, _, _ := fake.Get(name, v)
		if tags[worker.TagStatus] != status {
			t.Fatalf("%s: status %q, want %q", key, tags[worker.TagStatus], status)
		}
	}
	for _, r := range rs {
		r.stop(t)
	}
}

// receiversCPU sums the receivers' process_cpu_seconds_total, read from
// their /metrics.
func receiversCPU(t *testing.T, rs []*receiver) float64 {
	t.Helper()
	var sum float64
	for _, r := range rs {
		resp, err := http.Get("http://" + r.addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		for _, l := range strings.Split(b.String(), "\n") {
			if v, ok := strings.CutPrefix(l, "process_cpu_seconds_total "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatal(err)
				}
				sum += f
			}
		}
	}
	return sum
}
