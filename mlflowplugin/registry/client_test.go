package registry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"MLFLOW_TRACKING_URI": "https://mlflow.example", "MLFLOW_TRACKING_USERNAME": "u", "MLFLOW_TRACKING_PASSWORD": "p",
		"MLFLOW_TRACKING_TOKEN": "tok", "MLFLOW_TRACKING_INSECURE_TLS": "true", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
		"MLFLOW_HTTP_REQUEST_TIMEOUT": "9",
	}
	c := ConfigFromEnv(func(k string) string { return env[k] })
	if c.TrackingURI != "https://mlflow.example" || c.Username != "u" || c.Password != "p" || c.Token != "tok" ||
		!c.InsecureTLS || c.MaxRetries != 2 || c.Timeout != 9*time.Second {
		t.Fatalf("%+v", c)
	}
	db := ConfigFromEnv(func(k string) string {
		return map[string]string{"MLFLOW_TRACKING_URI": "databricks", "DATABRICKS_HOST": "https://dbc.example", "DATABRICKS_TOKEN": "dapi"}[k]
	})
	if db.TrackingURI != "https://dbc.example" || db.Token != "dapi" {
		t.Fatalf("databricks %+v", db)
	}
}

func TestFakeMLflowAPI_ClientAuthAndRetries(t *testing.T) {
	var calls, failures atomic.Int32
	failures.Store(2)
	var lastAuth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		lastAuth.Store(r.Header.Get("Authorization"))
		if failures.Add(-1) >= 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.URL.Path == "/api/2.0/mlflow/model-versions/get" && r.URL.Query().Get("version") == "404" {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"nope"}`))
			return
		}
		_, _ = w.Write([]byte(`{"model_version":{"name":"m","version":"1","status":"READY","tags":[{"key":"k","value":"v"}],"aliases":["champion"]}}`))
	}))
	defer srv.Close()
	c, err := New(Config{TrackingURI: srv.URL, Username: "u", Password: "p", Token: "tok", Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	mv, err := c.GetModelVersion(context.Background(), "m", "1")
	if err != nil || mv.Status != StatusReady || mv.Aliases[0] != "champion" {
		t.Fatalf("%+v %v", mv, err)
	}
	if v, _ := mv.Tag("k"); v != "v" {
		t.Fatalf("tag %q", v)
	}
	if calls.Load() != 3 {
		t.Fatalf("%d calls, want 2 retries then success", calls.Load())
	}
	if got := lastAuth.Load().(string); got != "Basic dTpw" {
		t.Fatalf("Authorization %q: basic auth must win over the token", got)
	}
	if _, err := c.GetModelVersion(context.Background(), "m", "404"); !IsNotFound(err) || Retryable(err) {
		t.Fatalf("404: %v", err)
	}
	bearer, _ := New(Config{TrackingURI: srv.URL, Token: "tok"})
	if _, err := bearer.GetModelVersion(context.Background(), "m", "1"); err != nil || lastAuth.Load().(string) != "Bearer tok" {
		t.Fatalf("bearer: %v %q", err, lastAuth.Load())
	}
	failures.Store(100)
	few, _ := New(Config{TrackingURI: srv.URL, MaxRetries: 2, Backoff: time.Millisecond})
	before := calls.Load()
	if _, err := few.GetModelVersion(context.Background(), "m", "1"); err == nil || !Retryable(err) {
		t.Fatalf("persistent 503: %v", err)
	}
	if n := calls.Load() - before; n != 3 {
		t.Fatalf("%d attempts with MaxRetries 2, want 3", n)
	}
	if _, err := New(Config{TrackingURI: "ftp://x"}); err == nil {
		t.Fatal("ftp tracking URI accepted")
	}
}
