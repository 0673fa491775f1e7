package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/mlflowplugin/internal/captured"
	"github.com/modelgate/modelgate/mlflowplugin/store"
	"github.com/modelgate/modelgate/mlflowplugin/webhook"
	"github.com/modelgate/modelgate/mlflowplugin/worker"
)

type fixture struct {
	st  *store.Store
	srv *httptest.Server
}

func newFixture(t *testing.T, now time.Time, maxBody int64) *fixture {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	v, err := webhook.NewVerifier([]byte(captured.Secret), 5*time.Minute, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	h := New(Config{Store: st, MLflow: v, Protected: []string{"champion"}, MaxBody: maxBody, Metrics: NewMetrics(st),
		ReportURL: func(m, v string) string { return "https://gate/reports/" + m + "/" + v }})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &fixture{st: st, srv: srv}
}

type answer struct {
	status int
	body   map[string]any
}

func (f *fixture) post(t *testing.T, h http.Header, body []byte) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/webhooks/mlflow", bytes.NewReader(body))
	for k, vs := range h {
		if k == "Content-Length" || k == "Host" {
			continue
		}
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return answer{resp.StatusCode, out}
}

func TestReceiver_RealDeliveries(t *testing.T) {
	dels := captured.Load(t)
	f := newFixture(t, time.Unix(dels[0].Timestamp()+10, 0), 0)
	wantStatus := []int{http.StatusOK, http.StatusUnauthorized, http.StatusOK, http.StatusAccepted, http.StatusAccepted}
	for i, d := range dels {
		a := f.post(t, d.Header, d.Body)
		if a.status != wantStatus[i] {
			t.Fatalf("%s: %d %v, want %d", d.Name, a.status, a.body, wantStatus[i])
		}
	}
	// MLflow retries with the same id, timestamp and signature.
	first := f.post(t, dels[4].Header, dels[4].Body)
	if first.status != http.StatusAccepted || first.body["duplicate"] != true {
		t.Fatalf("replayed delivery: %d %v, want 202 duplicate", first.status, first.body)
	}
	jobs, err := f.st.Jobs(context.Background(), store.JobFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 {
		t.Fatalf("%d jobs, want 2 (alias check, scan): %+v", len(jobs), jobs)
	}
	kinds := map[string]store.Job{}
	for _, j := range jobs {
		kinds[j.Kind] = j
	}
	if a := kinds[store.KindAlias]; a.Model != "demo-model" || a.Alias != "champion" || a.Version != "1" || a.DeliveryID != "2cc31187-d58d-4af2-928e-3987a9c4d325" {
		t.Fatalf("alias job %+v", a)
	}
	if s := kinds[store.KindScan]; s.Model != "example_model" || s.Version != "1" || s.State != store.StateQueued {
		t.Fatalf("scan job %+v", s)
	}
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`modelgate_mlflow_deliveries_total{endpoint="mlflow",result="duplicate"} 1`,
		`modelgate_mlflow_deliveries_total{endpoint="mlflow",result="queued"} 2`,
		`modelgate_mlflow_deliveries_total{endpoint="mlflow",result="unauthorized"} 1`,
		`modelgate_mlflow_jobs{state="queued"} 2`,
	} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestReceiver_Rejections(t *testing.T) {
	mv := captured.Load(t)[4] // model_version.created, unedited
	ts := mv.Timestamp()
	clone := func(edit func(http.Header)) http.Header {
		h := mv.Header.Clone()
		edit(h)
		return h
	}
	cases := []struct {
		name    string
		now     int64
		maxBody int64
		header  http.Header
		body    []byte
		status  int
	}{
		{"stale", ts + 301, 0, mv.Header, mv.Body, http.StatusBadRequest},
		{"from the future", ts - 400, 0, mv.Header, mv.Body, http.StatusBadRequest},
		{"bad signature", ts, 0, clone(func(h http.Header) { h.Set(webhook.HeaderSignature, "v1,AAAA") }), mv.Body, http.StatusUnauthorized},
		{"missing signature", ts, 0, clone(func(h http.Header) { h.Del(webhook.HeaderSignature) }), mv.Body, http.StatusUnauthorized},
		{"missing timestamp", ts, 0, clone(func(h http.Header) { h.Del(webhook.HeaderTimestamp) }), mv.Body, http.StatusBadRequest},
		{"missing delivery id", ts, 0, clone(func(h http.Header) { h.Del(webhook.HeaderDeliveryID) }), mv.Body, http.StatusBadRequest},
		{"oversized", ts, 100, mv.Header, mv.Body, http.StatusRequestEntityTooLarge},
		{"fresh", ts + 299, 0, mv.Header, mv.Body, http.StatusAccepted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, time.Unix(c.now, 0), c.maxBody)
			if a := f.post(t, c.header, c.body); a.status != c.status {
				t.Fatalf("%d %v, want %d", a.status, a.body, c.status)
			}
			jobs, _ := f.st.Jobs(context.Background(), store.JobFilter{})
			if want := map[bool]int{true: 1, false: 0}[c.status == http.StatusAccepted]; len(jobs) != want {
				t.Fatalf("%d jobs queued, want %d", len(jobs), want)
			}
		})
	}
}

func TestReceiver_OversizedChunkedBody(t *testing.T) {
	f := newFixture(t, time.Now(), 1024)
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/webhooks/mlflow", io.MultiReader(strings.NewReader(strings.Repeat("x", 4096))))
	req.ContentLength = -1 // chunked: the cap must hold without a Content-Length
	req.Header.Set(webhook.HeaderSignature, "v1,x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
}

func signedTagEvent(t *testing.T, f *fixture, id, action string, data map[string]any) answer {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"entity": "model_version_tag", "action": action, "timestamp": "2026-11-23T08:53:42.968213+00:00", "data": data})
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	h := http.Header{}
	h.Set(webhook.HeaderDeliveryID, id)
	h.Set(webhook.HeaderTimestamp, ts)
	h.Set(webhook.HeaderSignature, webhook.SignMLflow([]byte(captured.Secret), id, ts, body))
	return f.post(t, h, body)
}

func TestReceiver_OwnTagEventsIgnoredForeignOnesPutBack(t *testing.T) {
	f := newFixture(t, time.Now(), 0)
	ctx := context.Background()
	r := &store.Result{Model: "m", Version: "3", Status: worker.StatusFailed, Findings: 2, Digest: "sha256:aa", ScannedAt: time.Now(), JobID: 1, Reason: "bad"}
	if err := f.st.PutResult(ctx, r); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		id, action, key, value string
		status                 int
	}{
		{"a", "set", worker.TagStatus, "failed", http.StatusOK},       // our own write echoed back
		{"b", "set", worker.TagDigest, "sha256:aa", http.StatusOK},    // ditto
		{"c", "set", "validation_status", "approved", http.StatusOK},  // not ours: nothing to do
		{"d", "set", worker.TagStatus, "passed", http.StatusAccepted}, // forged: put back
		{"e", "deleted", worker.TagDigest, "", http.StatusAccepted},   // removed: put back
		{"f", "deleted", worker.TagReason + "x", "", http.StatusOK},   // a key we never write
	}
	for _, c := range cases {
		data := map[string]any{"name": "m", "version": "3", "key": c.key}
		if c.action == "set" {
			data["value"] = c.value
		}
		if a := signedTagEvent(t, f, c.id, c.action, data); a.status != c.status {
			t.Errorf("%s %s=%s: %d %v, want %d", c.action, c.key, c.value, a.status, a.body, c.status)
		}
	}
	jobs, _ := f.st.Jobs(ctx, store.JobFilter{})
	if len(jobs) != 1 || jobs[0].Kind != store.KindRetag {
		t.Fatalf("jobs %+v, want one retag job (the second forged event joins the queued one)", jobs)
	}
}

func TestReceiver_ReportsAndHealth(t *testing.T) {
	f := newFixture(t, time.Now(), 0)
	ctx := context.Background()
	if err := f.st.PutResult(ctx, &store.Result{Model: "cat.schema.churn", Version: "7", Status: "passed", ScannedAt: time.Now(), JobID: 1,
		Report: []byte(`{"outcome":"pass"}`), SARIF: []byte(`{"version":"2.1.0"}`)}); err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		path   string
		status int
		body   string
	}{
		{"/reports/cat.schema.churn/7", 200, `{"outcome":"pass"}`},
		{"/reports/cat.schema.churn/7?format=sarif", 200, `{"version":"2.1.0"}`},
		{"/reports/cat.schema.churn/8", 404, ""},
		{"/healthz", 200, "ok\n"},
		{"/readyz", 200, "ready\n"},
	} {
		status, body := get(c.path)
		if status != c.status || (c.body != "" && body != c.body) {
			t.Errorf("GET %s: %d %q, want %d %q", c.path, status, body, c.status, c.body)
		}
	}
	f.st.Close()
	if status, _ := get("/readyz"); status != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the store closed: %d, want 503", status)
	}
}
