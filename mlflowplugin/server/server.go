// Package server is the receiver's HTTP side: the MLflow and Databricks
// webhook endpoints (authenticate, dedupe, queue durably, answer), the
// report endpoint, health checks and metrics. It never scans in the
// request: a delivery is answered as soon as its job is committed.
package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/modelgate/modelgate/mlflowplugin/store"
	"github.com/modelgate/modelgate/mlflowplugin/webhook"
	"github.com/modelgate/modelgate/mlflowplugin/worker"
)

// DefaultMaxBody caps a delivery; registry events are a few hundred bytes
// (a model version's tags and description make the largest).
const DefaultMaxBody = 1 << 20

// Config configures the handler.
type Config struct {
	Store *store.Store
	// MLflow verifies MLflow deliveries (nil: endpoint answers 404).
	MLflow *webhook.Verifier
	// Databricks verifies Databricks deliveries (nil: endpoint answers 404).
	Databricks *webhook.Verifier
	// Protected aliases; other alias events are acknowledged and dropped.
	Protected []string
	MaxBody   int64
	// Wake is called after a job is queued.
	Wake func()
	// Arrived is called for each authenticated delivery, before it is
	// queued (the worker pool yields the CPU to a burst; unauthenticated
	// requests do not count, so they cannot hold the scans back).
	Arrived   func()
	ReportURL func(model, version string) string
	Metrics   *Metrics
	Logger    *slog.Logger
}

// Handler serves the receiver's endpoints.
type Handler struct {
	cfg Config
	mux *http.ServeMux
	log *slog.Logger
}

// New returns the handler.
func New(cfg Config) *Handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	if cfg.Arrived == nil {
		cfg.Arrived = func() {}
	}
	if cfg.ReportURL == nil {
		cfg.ReportURL = func(string, string) string { return "" }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), log: cfg.Logger}
	h.mux.HandleFunc("POST /webhooks/mlflow", h.mlflow)
	h.mux.HandleFunc("POST /webhooks/databricks", h.databricks)
	h.mux.HandleFunc("GET /reports/{name}/{version}", h.report)
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	h.mux.HandleFunc("GET /readyz", h.ready)
	if cfg.Metrics != nil {
		h.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Metrics.Registry, promhttp.HandlerOpts{}))
	}
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) count(endpoint, result string, started time.Time) {
	if h.cfg.Metrics != nil {
		h.cfg.Metrics.Delivery(endpoint, result, time.Since(started))
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readBody reads at most MaxBody bytes; more is a 413.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	if r.ContentLength > h.cfg.MaxBody {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body of %d bytes is over the %d byte limit", r.ContentLength, h.cfg.MaxBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body over the %d byte limit", h.cfg.MaxBody)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("reading body: %w", err)
	}
	return body, 0, nil
}

// versionRE keeps what reaches the queue sane; MLflow versions are integers.
var versionRE = regexp.MustCompile(`^[0-9]{1,12}$`)

func validName(s string) bool { return s != "" && len(s) <= 512 && !strings.ContainsAny(s, "\x00\n\r") }

func (h *Handler) reject(w http.ResponseWriter, endpoint string, status int, err error, started time.Time) {
	result := "bad_request"
	switch status {
	case http.StatusUnauthorized:
		result = "unauthorized"
	case http.StatusRequestEntityTooLarge:
		result = "too_large"
	}
	h.count(endpoint, result, started)
	h.log.Warn("delivery rejected", "endpoint", endpoint, "status", status, "reason", err.Error())
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

func (h *Handler) mlflow(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	const ep = "mlflow"
	if h.cfg.MLflow == nil {
		http.NotFound(w, r)
		return
	}
	body, status, err := h.readBody(w, r)
	if err != nil {
		h.reject(w, ep, status, err, started)
		return
	}
	d, err := h.cfg.MLflow.VerifyMLflow(r.Header, body)
	if err != nil {
		h.reject(w, ep, webhook.StatusOf(err), err, started)
		return
	}
	h.cfg.Arrived()
	ev := d.Event
	data := ev.Data
	var job *store.NewJob
	switch ev.Name() {
	case webhook.ModelVersionCreated:
		job = &store.NewJob{Kind: store.KindScan, Model: data.Name, Version: data.Version}
	case webhook.AliasCreated:
		if !slices.Contains(h.cfg.Protected, data.Alias) {
			h.ignore(w, ep, "alias is not protected", started)
			return
		}
		job = &store.NewJob{Kind: store.KindAlias, Model: data.Name, Version: data.Version, Alias: data.Alias}
	case webhook.TagSet, webhook.TagDeleted:
		if !strings.HasPrefix(data.Key, worker.TagPrefix) {
			h.ignore(w, ep, "tag is not modelgate's", started)
			return
		}
		own, err := h.ownTag(r, data, ev.Name() == webhook.TagDeleted)
		if err != nil {
			h.fail(w, ep, err, started)
			return
		}
		if own {
			h.ignore(w, ep, "tag written by this receiver", started)
			return
		}
		job = &store.NewJob{Kind: store.KindRetag, Model: data.Name, Version: data.Version}
	default:
		h.ignore(w, ep, "event "+ev.Name()+" needs no action", started)
		return
	}
	if !validName(job.Model) || !versionRE.MatchString(job.Version) {
		h.reject(w, ep, http.StatusBadRequest, fmt.Errorf("model name or version not valid"), started)
		return
	}
	job.Source = "mlflow"
	job.Payload = body
	h.enqueue(w, r, ep, d.ID, ev.Name(), *job, started)
}

// ownTag reports whether a modelgate.* tag event only echoes what the
// receiver wrote; anything else (a forged "passed", a deleted digest) is
// put back.
func (h *Handler) ownTag(r *http.Request, d webhook.Data, deleted bool) (bool, error) {
	res, err := h.cfg.Store.GetResult(r.Context(), d.Name, d.Version, false)
	if err != nil {
		return false, err
	}
	if res == nil {
		return false, nil
	}
	want, writes := worker.ExpectedTag(res, h.cfg.ReportURL(d.Name, d.Version), d.Key)
	if deleted {
		return !writes, nil
	}
	return writes && want == d.Value, nil
}

func (h *Handler) ignore(w http.ResponseWriter, endpoint, why string, started time.Time) {
	h.count(endpoint, "ignored", started)
	writeJSON(w, http.StatusOK, map[string]string{"ignored": why})
}

// fail answers 503 so the sender retries (MLflow retries 5xx).
func (h *Handler) fail(w http.ResponseWriter, endpoint string, err error, started time.Time) {
	h.count(endpoint, "store_error", started)
	h.log.Error("delivery not queued", "endpoint", endpoint, "err", err)
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "not queued, retry"})
}

func (h *Handler) enqueue(w http.ResponseWriter, r *http.Request, endpoint, deliveryID, event string, job store.NewJob, started time.Time) {
	res, err := h.cfg.Store.Enqueue(r.Context(), deliveryID, endpoint, event, job)
	if err != nil {
		h.fail(w, endpoint, err, started)
		return
	}
	result := "queued"
	if res.DuplicateDelivery {
		result = "duplicate"
	} else {
		h.cfg.Wake()
	}
	h.count(endpoint, result, started)
	h.log.Info("delivery accepted", "endpoint", endpoint, "delivery", deliveryID, "event", event, "model", job.Model,
		"version", job.Version, "job", res.JobID, "duplicate", res.DuplicateDelivery, "active_job", res.ActiveJob)
	writeJSON(w, http.StatusAccepted, map[string]any{"job_id": res.JobID, "duplicate": res.DuplicateDelivery})
}

func (h *Handler) databricks(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	const ep = "databricks"
	if h.cfg.Databricks == nil {
		http.NotFound(w, r)
		return
	}
	body, status, err := h.readBody(w, r)
	if err != nil {
		h.reject(w, ep, status, err, started)
		return
	}
	ev, err := h.cfg.Databricks.VerifyDatabricks(r.Header, body)
	if err != nil {
		h.reject(w, ep, webhook.StatusOf(err), err, started)
		return
	}
	h.cfg.Arrived()
	var job store.NewJob
	switch ev.Event {
	case webhook.DBVersionCreated:
		job = store.NewJob{Kind: store.KindScan}
	case webhook.DBTransitionRequest, webhook.DBTransitionRequestToProd, webhook.DBTransitionRequestToStage:
		job = store.NewJob{Kind: store.KindTransitionRequest, Alias: ev.ToStage}
	case webhook.DBTransitioned, webhook.DBTransitionedToProd:
		to := ev.ToStage
		if ev.Event == webhook.DBTransitionedToProd && to == "" {
			to = "Production"
		}
		job = store.NewJob{Kind: store.KindStage, Alias: to}
	default:
		h.ignore(w, ep, "event "+ev.Event+" needs no action", started)
		return
	}
	job.Model, job.Version, job.Source = ev.ModelName, ev.Version, ep
	if !validName(job.Model) || !versionRE.MatchString(job.Version) {
		h.reject(w, ep, http.StatusBadRequest, fmt.Errorf("model name or version not valid"), started)
		return
	}
	pl, _ := json.Marshal(worker.StagePayload{ToStage: ev.ToStage, FromStage: ev.FromStage, Databricks: true})
	if job.Kind == store.KindTransitionRequest && job.Alias == "" {
		h.reject(w, ep, http.StatusBadRequest, fmt.Errorf("transition request names no stage"), started)
		return
	}
	job.Payload = pl
	// Databricks sends no delivery id: the signed body (with its webhook id
	// and millisecond timestamp) is the identity of a delivery.
	h.enqueue(w, r, ep, webhook.BodyDigest(body), ev.Event, job, started)
}

func (h *Handler) report(w http.ResponseWriter, r *http.Request) {
	name, version := r.PathValue("name"), r.PathValue("version")
	res, err := h.cfg.Store.GetResult(r.Context(), name, version, true)
	if err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	if res == nil {
		http.Error(w, "no report for this version", http.StatusNotFound)
		return
	}
	doc := res.Report
	if r.URL.Query().Get("format") == "sarif" {
		doc = res.SARIF
	}
	if len(doc) == 0 {
		writeJSON(w, http.StatusOK, res)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Modelgate-Status", res.Status)
	_, _ = w.Write(doc)
}

func (h *Handler) ready(w http.ResponseWriter, r *http.Request) {
	if err := h.cfg.Store.Ping(r.Context()); err != nil {
		http.Error(w, "store unreachable", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ready\n")
}
