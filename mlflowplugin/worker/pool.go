// Package worker runs the receiver's jobs from the store with a bounded
// pool: scan a model version and tag the verdict, keep failed versions out
// of protected aliases and stages, reject Databricks transition requests,
// and put back tags someone else changed. Every job is idempotent: running
// it twice (after a crash, on a retry) leaves the registry as running it
// once would.
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelgate/modelgate/core/scan"
	"github.com/modelgate/modelgate/mlflowplugin/artifacts"
	"github.com/modelgate/modelgate/mlflowplugin/registry"
	"github.com/modelgate/modelgate/mlflowplugin/store"
)

// Metrics receives what the pool does (nil: nothing is recorded).
type Metrics interface {
	JobFinished(kind, outcome string, d time.Duration)
	Verdict(status string)
	ScanBytes(n int64)
}

// Config configures a pool.
type Config struct {
	Store  *store.Store
	Client *registry.Client
	// S3 opens s3:// artifact stores (nil: unsupported, reported as error).
	S3 artifacts.S3Opener
	// Protected aliases are kept off versions that did not pass.
	Protected []string
	// ProtectedStages are stages a failed version is moved out of
	// (default: Production).
	ProtectedStages []string
	// Workers is the number of jobs run at once (default 2).
	Workers int
	// ScanSlots bounds the scans running at once across Workers, and a
	// scan reads one file at a time unless ScanOptions sets Jobs (default
	// GOMAXPROCS-1, at least 1). Scanning is CPU-bound: leaving a core to
	// the HTTP path is what keeps a delivery's answer in milliseconds
	// while a backlog is scanned. Jobs waiting for READY or writing tags
	// hold no slot.
	ScanSlots int
	// Yield is how long a worker holds back from claiming a job while
	// deliveries are arriving (default 1 s; see Arrived).
	Yield time.Duration
	// Lease is how long a claimed job stays ours without a heartbeat
	// (default 30 s); a dead worker's job is claimed again after it.
	Lease time.Duration
	// Poll is how often an idle worker looks for due jobs (default 1 s).
	Poll time.Duration
	// ReadyTimeout bounds the wait for PENDING_REGISTRATION (default 30 min).
	ReadyTimeout time.Duration
	// ScanWait bounds how long an alias or transition job waits for the
	// version's scan before treating the version as unscanned (default 30 min).
	ScanWait time.Duration
	// MaxAttempts before a job fails for good (default 6).
	MaxAttempts int
	// ScanOptions returns the options for one scan (policy, fail-on...).
	ScanOptions func() scan.Options
	// ReportURL is where a version's report is served.
	ReportURL func(model, version string) string
	Logger    *slog.Logger
	Metrics   Metrics
	// Owner names this worker in the store (default host/pid).
	Owner string
	Now   func() time.Time
}

// Pool runs jobs.
type Pool struct {
	cfg   Config
	log   *slog.Logger
	wake  chan struct{}
	slots chan struct{}
	// lastArrival is when the latest delivery arrived (UnixNano).
	lastArrival atomic.Int64
}

// New returns a pool.
func New(cfg Config) *Pool {
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.ScanSlots <= 0 {
		cfg.ScanSlots = max(1, runtime.GOMAXPROCS(0)-1)
	}
	if cfg.Yield <= 0 {
		cfg.Yield = time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 30 * time.Minute
	}
	if cfg.ScanWait <= 0 {
		cfg.ScanWait = 30 * time.Minute
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 6
	}
	if len(cfg.ProtectedStages) == 0 {
		cfg.ProtectedStages = []string{"Production"}
	}
	if cfg.ScanOptions == nil {
		cfg.ScanOptions = func() scan.Options { return scan.Options{} }
	}
	if cfg.ReportURL == nil {
		cfg.ReportURL = func(string, string) string { return "" }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		cfg.Owner = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Pool{cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1), slots: make(chan struct{}, cfg.ScanSlots)}
}

// Wake tells an idle worker that a job was queued.
func (p *Pool) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// quiet is the gap between deliveries after which a burst is over.
const quiet = 20 * time.Millisecond

// Arrived tells the pool an authenticated delivery came in. Workers start no
// job until deliveries have paused for a moment, or for at most Yield:
// Go has no goroutine priorities, and a scan that starts a second later
// loses nothing, while a delivery answered late is retried by MLflow and,
// after three tries, lost until the next reconcile.
func (p *Pool) Arrived() { p.lastArrival.Store(time.Now().UnixNano()) }

// yield waits until no delivery arrived for quiet, for at most Yield.
func (p *Pool) yield(ctx context.Context) {
	deadline := time.Now().Add(p.cfg.Yield)
	for {
		now := time.Now()
		wait := time.Unix(0, p.lastArrival.Load()).Add(quiet).Sub(now)
		if wait <= 0 || !now.Before(deadline) {
			return
		}
		t := time.NewTimer(min(wait, deadline.Sub(now)))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Run works until ctx is cancelled, then stops claiming and gives running
// jobs grace to finish; jobs still running after it are cancelled and
// released to the queue for the next start (or another replica).
func (p *Pool) Run(ctx context.Context, grace time.Duration) {
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	var wg sync.WaitGroup
	for i := 0; i < p.cfg.Workers; i++ {
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			p.loop(ctx, jobCtx, fmt.Sprintf("%s/w%d", p.cfg.Owner, n), false)
		}(i)
	}
	<-ctx.Done()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		p.log.Warn("shutdown grace over; releasing running jobs")
		cancelJobs()
		<-done
	}
}

// Drain runs jobs until none is queued or running (reconcile and audit
// from the command line).
func (p *Pool) Drain(ctx context.Context) error {
	var wg sync.WaitGroup
	for i := 0; i < p.cfg.Workers; i++ {
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			p.loop(ctx, ctx, fmt.Sprintf("%s/d%d", p.cfg.Owner, n), true)
		}(i)
	}
	wg.Wait()
	return ctx.Err()
}

func (p *Pool) loop(ctx, jobCtx context.Context, owner string, drain bool) {
	for ctx.Err() == nil {
		p.yield(ctx)
		j, err := p.cfg.Store.Claim(ctx, owner, p.cfg.Lease)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Error("claiming a job", "err", err)
			}
		}
		if j != nil {
			// One wake (or notification) stands for any number of jobs:
			// pass it on, so another idle worker looks for the next one.
			p.Wake()
			p.run(jobCtx, owner, j)
			continue
		}
		if drain && err == nil {
			depth, err := p.cfg.Store.Depth(ctx)
			if err == nil && depth[store.StateQueued]+depth[store.StateRunning] == 0 {
				return
			}
		}
		t := time.NewTimer(p.cfg.Poll)
		select {
		case <-ctx.Done():
		case <-p.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// outcome is how a job ended.
type outcome struct {
	note      string
	deferTo   time.Time
	deferWhy  string
	permanent bool // err is not worth retrying
}

func (p *Pool) run(ctx context.Context, owner string, j *store.Job) {
	started := p.cfg.Now()
	log := p.log.With("job", j.ID, "kind", j.Kind, "model", j.Model, "version", j.Version, "attempt", j.Attempts)
	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		t := time.NewTicker(p.cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-jctx.Done():
				return
			case <-t.C:
				if err := p.cfg.Store.Heartbeat(context.WithoutCancel(jctx), j.ID, owner, p.cfg.Lease); err != nil {
					log.Warn("lease lost; stopping job", "err", err)
					cancel()
					return
				}
			}
		}
	}()
	out, err := p.handle(jctx, j)
	cancel()
	<-hbDone
	bg := context.WithoutCancel(ctx)
	result := "done"
	switch {
	case err != nil && ctx.Err() != nil:
		result = "released"
		if rerr := p.cfg.Store.Release(bg, j.ID, owner); rerr != nil {
			log.Error("releasing job", "err", rerr)
		}
	case err != nil:
		final := out.permanent || !registry.Retryable(err) || j.Attempts >= p.cfg.MaxAttempts
		at := p.cfg.Now().Add(backoff(j.Attempts))
		result = "retry"
		if final {
			result = "failed"
			p.giveUp(bg, j, err)
		}
		log.Warn("job error", "err", err, "final", final)
		if rerr := p.cfg.Store.Retry(bg, j.ID, owner, err.Error(), at, final); rerr != nil {
			log.Error("recording job error", "err", rerr)
		}
	case !out.deferTo.IsZero():
		result = "deferred"
		if rerr := p.cfg.Store.Defer(bg, j.ID, owner, out.deferWhy, out.deferTo); rerr != nil {
			log.Error("deferring job", "err", rerr)
		}
	default:
		if rerr := p.cfg.Store.Complete(bg, j.ID, owner, out.note); rerr != nil {
			log.Error("completing job", "err", rerr)
			result = "lost"
		} else {
			log.Info("job done", "note", out.note, "ms", p.cfg.Now().Sub(started).Milliseconds())
		}
	}
	if p.cfg.Metrics != nil {
		p.cfg.Metrics.JobFinished(j.Kind, result, p.cfg.Now().Sub(started))
	}
}

func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt, 8)
	return min(d, 5*time.Minute)
}

// giveUp records a scan that could not be done as status error, so the
// registry never shows an unscanned version as if nothing happened.
func (p *Pool) giveUp(ctx context.Context, j *store.Job, cause error) {
	if j.Kind != store.KindScan {
		return
	}
	r := &store.Result{Model: j.Model, Version: j.Version, Status: StatusError, Reason: "scan could not run: " + cause.Error(),
		ScannedAt: p.cfg.Now(), JobID: j.ID}
	if err := p.cfg.Store.PutResult(ctx, r); err != nil {
		p.log.Error("recording error result", "err", err)
		return
	}
	if err := p.writeTags(ctx, r); err != nil {
		p.log.Error("tagging error result", "err", err)
	}
}

func (p *Pool) handle(ctx context.Context, j *store.Job) (outcome, error) {
	switch j.Kind {
	case store.KindScan:
		return p.scanJob(ctx, j)
	case store.KindAlias:
		return p.aliasJob(ctx, j)
	case store.KindTransitionRequest:
		return p.transitionRequestJob(ctx, j)
	case store.KindStage:
		return p.stageJob(ctx, j)
	case store.KindRetag:
		return p.retagJob(ctx, j)
	}
	return outcome{permanent: true}, fmt.Errorf("unknown job kind %q", j.Kind)
}
