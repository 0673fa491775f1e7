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

// jobsChannel is what the jobs_notify trigger (see migrate) notifies
// whenever a job is queued, by any replica or tool.
const jobsChannel = "modelgate_jobs"

// pgNotifyTrigger makes every queued job (inserted, retried, deferred or
// released) notify jobsChannel. PostgreSQL sends one notification per
// channel and transaction, at commit, so a batch of deliveries makes one.
var pgNotifyTrigger = []string{
	`CREATE OR REPLACE FUNCTION modelgate_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM pg_notify('` + jobsChannel + `', '');
		RETURN NULL;
	END $$`,
	// Created once: dropping and re-creating it at every start would lock
	// the jobs table under the other replicas' traffic.
	`DO $$ BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'jobs_notify' AND tgrelid = 'jobs'::regclass) THEN
			CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE OF state ON jobs
				FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION modelgate_jobs_notify();
		END IF;
	END $$`,
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
