package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres opens a shared store: several receivers use one database.
func openPostgres(dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: postgres dsn: %w", err)
	}
	// Only an enqueue must be on disk before its answer: accept keeps the
	// server's synchronous_commit. Everything a worker writes is redone by
	// an idempotent job if a database crash loses it, so those commits do
	// not wait for the WAL flush; this keeps the workers' fsyncs out of the
	// webhook's answer time.
	accept := stdlib.OpenDB(*cfg)
	accept.SetMaxOpenConns(16)
	accept.SetMaxIdleConns(16)
	wcfg := cfg.Copy()
	if _, set := wcfg.RuntimeParams["synchronous_commit"]; !set {
		wcfg.RuntimeParams["synchronous_commit"] = "off"
	}
	db := stdlib.OpenDB(*wcfg)
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	return &Store{db: db, accept: accept, dialect: postgresDialect, pgConfig: cfg}, nil
}

// jobsChannel is where replicas announce queued jobs to each other.
const jobsChannel = "modelgate_jobs"

// announce asks the notifier to tell the other replicas that jobs were
// queued. Requests made while a notification is being sent fold into the
// next one.
func (s *Store) announce() {
	if s.dialect != postgresDialect {
		return
	}
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// notifier sends NOTIFY in its own transaction, after the jobs' commit and
// off the answer path: a transaction that notifies holds a database-wide
// lock through its commit, so notifying inside the enqueue would serialise
// every replica's commits (and their WAL flushes) behind each other.
func (s *Store) notifier() {
	for {
		select {
		case <-s.quit:
			return
		case <-s.notify:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		// A lost notification costs a poll interval, nothing more.
		_, _ = s.db.ExecContext(ctx, `SELECT pg_notify($1, '')`, jobsChannel)
		cancel()
	}
}

// WatchJobs calls wake whenever a job is queued on a shared store
// (PostgreSQL LISTEN/NOTIFY), so idle workers on every replica start at
// once instead of at their next poll, and once each time the listening
// connection is (re)established, since what was queued while it was down
// sent it nothing. A broken connection is retried with backoff (onErr
// hears why); polling goes on meanwhile. It returns when ctx ends; on
// SQLite (one process, whose enqueues wake its workers directly) at once.
func (s *Store) WatchJobs(ctx context.Context, wake func(), onErr func(error)) {
	if s.dialect != postgresDialect {
		return
	}
	const first, most = 100 * time.Millisecond, 10 * time.Second
	backoff := first
	for ctx.Err() == nil {
		listened, err := s.listen(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		if listened {
			backoff = first
		}
		if onErr != nil {
			onErr(err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, most)
	}
}

// listen holds one LISTEN connection until it breaks or ctx ends.
func (s *Store) listen(ctx context.Context, wake func()) (listened bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, s.pgConfig)
	if err != nil {
		return false, fmt.Errorf("store: listen: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+jobsChannel); err != nil {
		return false, fmt.Errorf("store: listen: %w", err)
	}
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true, fmt.Errorf("store: listen: %w", err)
		}
		wake()
	}
}
