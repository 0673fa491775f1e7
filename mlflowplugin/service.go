// Package mlflowplugin is modelgate's promotion stage for MLflow model
// registries: a webhook receiver that scans every new model version as one
// model directory, tags the verdict on the version, keeps versions that did
// not pass out of protected aliases and stages, and catches up on
// deliveries it missed by reconciling with the registry. `verify` is the
// check a deployment runs before loading a model.
//
// The pieces live in subpackages: webhook (signatures), registry (REST
// client), artifacts (streaming fs.FS over artifact stores), store (SQLite
// or PostgreSQL state), worker (jobs) and server (HTTP).
package mlflowplugin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/modelgate/modelgate/core/scan"
	"github.com/modelgate/modelgate/mlflowplugin/artifacts"
	"github.com/modelgate/modelgate/mlflowplugin/registry"
	"github.com/modelgate/modelgate/mlflowplugin/server"
	"github.com/modelgate/modelgate/mlflowplugin/store"
	"github.com/modelgate/modelgate/mlflowplugin/webhook"
	"github.com/modelgate/modelgate/mlflowplugin/worker"
)

// Options configure the receiver.
type Options struct {
	// DB is a SQLite path or a postgres:// URL.
	DB       string
	Registry registry.Config
	// Secret verifies MLflow deliveries; DatabricksSecret enables the
	// Databricks endpoint. Either may be empty for commands that do not
	// receive.
	Secret, DatabricksSecret []byte
	MaxAge                   time.Duration
	Protected                []string
	ProtectedStages          []string
	Workers                  int
	Lease, Poll              time.Duration
	ReadyTimeout, ScanWait   time.Duration
	MaxBody                  int64
	// PublicURL is the receiver's external base URL, used in modelgate.report.
	PublicURL string
	// Models limits reconciliation to these registered models (empty: all).
	Models      []string
	ScanOptions func() scan.Options
	S3          artifacts.S3Opener
	Logger      *slog.Logger
	Now         func() time.Time
	Owner       string
}

// Service is an opened receiver.
type Service struct {
	opts    Options
	Store   *store.Store
	Client  *registry.Client
	Pool    *worker.Pool
	Handler *server.Handler
	Metrics *server.Metrics
	log     *slog.Logger
}

// Open connects to the store and the registry.
func Open(ctx context.Context, o Options) (*Service, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	client, err := registry.New(o.Registry)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, o.DB)
	if err != nil {
		return nil, err
	}
	if o.Now != nil {
		st.SetClock(o.Now)
	}
	s := &Service{opts: o, Store: st, Client: client, log: o.Logger}
	s.Metrics = server.NewMetrics(st)
	s.Pool = worker.New(worker.Config{Store: st, Client: client, S3: o.S3, Protected: o.Protected, ProtectedStages: o.ProtectedStages,
		Workers: o.Workers, Lease: o.Lease, Poll: o.Poll, ReadyTimeout: o.ReadyTimeout, ScanWait: o.ScanWait,
		ScanOptions: o.ScanOptions, ReportURL: s.ReportURL, Logger: o.Logger, Metrics: s.Metrics, Owner: o.Owner, Now: o.Now})
	var mlv, dbv *webhook.Verifier
	if len(o.Secret) > 0 {
		if mlv, err = webhook.NewVerifier(o.Secret, o.MaxAge, o.Now); err != nil {
			st.Close()
			return nil, err
		}
	}
	if len(o.DatabricksSecret) > 0 {
		if dbv, err = webhook.NewVerifier(o.DatabricksSecret, o.MaxAge, o.Now); err != nil {
			st.Close()
			return nil, err
		}
	}
	s.Handler = server.New(server.Config{Store: st, MLflow: mlv, Databricks: dbv, Protected: o.Protected, MaxBody: o.MaxBody,
		Wake: s.Pool.Wake, Arrived: s.Pool.Arrived, ReportURL: s.ReportURL, Metrics: s.Metrics, Logger: o.Logger})
	return s, nil
}

// Close releases the store.
func (s *Service) Close() error { return s.Store.Close() }

// ReportURL is where GET /reports serves a version's report.
func (s *Service) ReportURL(model, version string) string {
	if s.opts.PublicURL == "" {
		return ""
	}
	return strings.TrimRight(s.opts.PublicURL, "/") + "/reports/" + url.PathEscape(model) + "/" + url.PathEscape(version)
}

// ServeOptions configure Serve.
type ServeOptions struct {
	TLSCert, TLSKey   string
	ReconcileInterval time.Duration
	// Grace is how long running jobs may finish at shutdown.
	Grace time.Duration
	// Ready, when set, is closed once the listener serves.
	Ready chan<- struct{}
}

// Serve runs the HTTP receiver, the worker pool and periodic
// reconciliation until ctx is cancelled, then shuts down gracefully: stop
// accepting, let in-flight requests and running jobs finish within Grace,
// release the rest to the queue.
func (s *Service) Serve(ctx context.Context, ln net.Listener, so ServeOptions) error {
	if so.Grace <= 0 {
		so.Grace = 30 * time.Second
	}
	srv := &http.Server{Handler: s.Handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	if so.TLSCert != "" || so.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(so.TLSCert, so.TLSKey)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}})
	}
	errc := make(chan error, 1)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
		close(errc)
	}()
	go s.Store.WatchJobs(ctx, s.Pool.Wake, func(err error) {
		s.log.Warn("job notifications interrupted; polling meanwhile", "err", err)
	})
	poolDone := make(chan struct{})
	go func() { s.Pool.Run(ctx, so.Grace); close(poolDone) }()
	if so.ReconcileInterval > 0 {
		go s.reconcileLoop(ctx, so.ReconcileInterval)
	}
	if so.Ready != nil {
		close(so.Ready)
	}
	s.log.Info("receiver listening", "addr", ln.Addr().String(), "tls", so.TLSCert != "", "postgres", s.Store.Postgres())
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), so.Grace)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	<-poolDone
	s.log.Info("receiver stopped")
	return serveErr
}

func (s *Service) reconcileLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if st, err := s.Reconcile(ctx, false); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Error("reconcile", "err", err)
		} else if st.Queued > 0 {
			s.log.Info("reconcile queued jobs", "queued", st.Queued, "versions", st.Versions)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ReconcileStats says what a reconciliation found.
type ReconcileStats struct {
	Versions int `json:"versions"`
	Queued   int `json:"queued"`
	Aliases  int `json:"aliases_checked"`
}

// Reconcile queues a scan for every version without a modelgate.status
// tag (force: every version, for audits) and re-checks protected aliases.
func (s *Service) Reconcile(ctx context.Context, force bool) (ReconcileStats, error) {
	var st ReconcileStats
	filters := []string{""}
	if len(s.opts.Models) > 0 {
		filters = filters[:0]
		for _, m := range s.opts.Models {
			filters = append(filters, "name='"+strings.ReplaceAll(m, "'", "\\'")+"'")
		}
	}
	source := "reconcile"
	if force {
		source = "audit"
	}
	for _, f := range filters {
		token := ""
		for {
			mvs, next, err := s.Client.SearchModelVersions(ctx, f, token)
			if err != nil {
				return st, err
			}
			for _, mv := range mvs {
				st.Versions++
				if _, tagged := mv.Tag(worker.TagStatus); tagged && !force {
					continue
				}
				key := ""
				if force {
					key = "audit\x1f" + mv.Name + "\x1f" + mv.Version
				}
				res, err := s.Store.Enqueue(ctx, "", source, "reconcile", store.NewJob{Kind: store.KindScan, Model: mv.Name, Version: mv.Version, Source: source, Key: key})
				if err != nil {
					return st, err
				}
				if !res.ActiveJob {
					st.Queued++
				}
			}
			if next == "" {
				break
			}
			token = next
		}
	}
	if len(s.opts.Protected) > 0 {
		n, q, err := s.reconcileAliases(ctx)
		st.Aliases += n
		st.Queued += q
		if err != nil {
			return st, err
		}
	}
	if st.Queued > 0 {
		s.Pool.Wake()
	}
	return st, nil
}

func (s *Service) reconcileAliases(ctx context.Context) (checked, queued int, err error) {
	token := ""
	for {
		rms, next, err := s.Client.SearchRegisteredModels(ctx, "", token)
		if err != nil {
			return checked, queued, err
		}
		for _, rm := range rms {
			if len(s.opts.Models) > 0 && !slices.Contains(s.opts.Models, rm.Name) {
				continue
			}
			for _, a := range rm.Aliases {
				if !slices.Contains(s.opts.Protected, a.Alias) {
					continue
				}
				checked++
				r, err := s.Store.GetResult(ctx, rm.Name, a.Version, false)
				if err != nil {
					return checked, queued, err
				}
				if r != nil && r.Status == worker.StatusPassed {
					// Seed the history, so a later failing target can be
					// re-pointed here.
					hist, err := s.Store.AliasHistory(ctx, rm.Name, a.Alias)
					if err != nil {
						return checked, queued, err
					}
					if len(hist) == 0 || hist[0].Version != a.Version {
						if err := s.Store.RecordAlias(ctx, store.AliasEvent{Model: rm.Name, Alias: a.Alias, Version: a.Version, Action: "kept", Reason: "seen by reconcile"}); err != nil {
							return checked, queued, err
						}
					}
					continue
				}
				res, err := s.Store.Enqueue(ctx, "", "reconcile", "reconcile", store.NewJob{Kind: store.KindAlias, Model: rm.Name, Version: a.Version, Alias: a.Alias, Source: "reconcile"})
				if err != nil {
					return checked, queued, err
				}
				if !res.ActiveJob {
					queued++
				}
			}
		}
		if next == "" {
			return checked, queued, nil
		}
		token = next
	}
}
