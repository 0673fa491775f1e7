package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/modelgate/modelgate/mlflowplugin/store"
)

// Metrics are the receiver's Prometheus metrics, on their own registry.
type Metrics struct {
	Registry   *prometheus.Registry
	deliveries *prometheus.CounterVec
	ackSeconds prometheus.Histogram
	verdicts   *prometheus.CounterVec
	jobs       *prometheus.HistogramVec
	scanBytes  prometheus.Counter
}

// NewMetrics registers the metrics; queue depth is read from st on scrape.
func NewMetrics(st *store.Store) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelgate_mlflow_deliveries_total", Help: "Webhook deliveries by endpoint and result.",
		}, []string{"endpoint", "result"}),
		ackSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "modelgate_mlflow_delivery_ack_seconds", Help: "Time from request to answer for accepted deliveries.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "modelgate_mlflow_verdicts_total", Help: "Scan verdicts by status.",
		}, []string{"status"}),
		jobs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "modelgate_mlflow_job_seconds", Help: "Job run time by kind and result.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 10),
		}, []string{"kind", "result"}),
		scanBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "modelgate_mlflow_scan_bytes_total", Help: "Artifact bytes scanned or hashed.",
		}),
	}
	depth := prometheus.NewDesc("modelgate_mlflow_jobs", "Jobs in the store by state.", []string{"state"}, nil)
	m.Registry.MustRegister(m.deliveries, m.ackSeconds, m.verdicts, m.jobs, m.scanBytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		depthCollector{st: st, desc: depth})
	return m
}

// Delivery counts one delivery.
func (m *Metrics) Delivery(endpoint, result string, d time.Duration) {
	m.deliveries.WithLabelValues(endpoint, result).Inc()
	if result == "queued" || result == "duplicate" {
		m.ackSeconds.Observe(d.Seconds())
	}
}

// JobFinished implements worker.Metrics.
func (m *Metrics) JobFinished(kind, result string, d time.Duration) {
	m.jobs.WithLabelValues(kind, result).Observe(d.Seconds())
}

// Verdict implements worker.Metrics.
func (m *Metrics) Verdict(status string) { m.verdicts.WithLabelValues(status).Inc() }

// ScanBytes implements worker.Metrics.
func (m *Metrics) ScanBytes(n int64) { m.scanBytes.Add(float64(n)) }

type depthCollector struct {
	st   *store.Store
	desc *prometheus.Desc
}

func (c depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	depth, err := c.st.Depth(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for state, n := range depth {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), state)
	}
}
