// Package store is the receiver's durable state: the job queue, the
// delivery ids seen, scan results with their reports, and alias history.
// One implementation over database/sql serves SQLite (embedded, pure Go,
// the default) and PostgreSQL (several replicas: jobs are claimed with
// FOR UPDATE SKIP LOCKED, deliveries dedupe on a primary key).
//
// A job is accepted only inside a committed transaction, so once a
// delivery is answered 2xx the job survives kill -9. Concurrent enqueues
// are group-committed (one transaction, on PostgreSQL one statement, per
// batch), and on PostgreSQL every commit of queued jobs is followed by a
// NOTIFY that WatchJobs hears on the other replicas. Running jobs hold a
// lease that their worker renews; a job whose worker died is claimed again
// when the lease runs out.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Job kinds.
const (
	KindScan              = "scan"               // scan a version and tag it
	KindAlias             = "alias"              // a protected alias was set
	KindTransitionRequest = "transition_request" // Databricks: approve or reject
	KindStage             = "stage"              // a version reached a stage
	KindRetag             = "retag"              // someone changed our tags
)

// Job states.
const (
	StateQueued  = "queued"
	StateRunning = "running"
	StateDone    = "done"
	StateFailed  = "failed"
)

// NewJob is a job to enqueue.
type NewJob struct {
	Kind    string
	Model   string
	Version string
	Alias   string // alias name, or target stage for stage jobs
	Source  string // "mlflow", "databricks", "reconcile", "audit"
	Payload json.RawMessage
	// Key dedupes active jobs: while one job with this key is queued or
	// running no second one is created ("" means Kind:Model:Version:Alias).
	Key string
}

func (j NewJob) key() string {
	if j.Key != "" {
		return j.Key
	}
	return strings.Join([]string{j.Kind, j.Model, j.Version, j.Alias}, "\x1f")
}

// Job is a queued, running or finished job.
type Job struct {
	ID         int64           `json:"id"`
	Kind       string          `json:"kind"`
	Model      string          `json:"model"`
	Version    string          `json:"version"`
	Alias      string          `json:"alias,omitempty"`
	Source     string          `json:"source"`
	DeliveryID string          `json:"delivery_id,omitempty"`
	Payload    json.RawMessage `json:"payload,omitempty"`
	State      string          `json:"state"`
	Attempts   int             `json:"attempts"`
	LastError  string          `json:"last_error,omitempty"`
	Owner      string          `json:"owner,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	RunAfter   time.Time       `json:"run_after"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
}

// Result is the latest verdict for one model version.
type Result struct {
	Model     string    `json:"model"`
	Version   string    `json:"version"`
	Status    string    `json:"status"` // passed, failed, error, blocked
	Findings  int       `json:"findings"`
	Digest    string    `json:"digest,omitempty"`
	URI       string    `json:"artifact_uri,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	ScannedAt time.Time `json:"scanned_at"`
	JobID     int64     `json:"job_id"`
	// Report and SARIF are the full reports (JSON documents).
	Report []byte `json:"-"`
	SARIF  []byte `json:"-"`
}

// AliasEvent is one entry of an alias's history.
type AliasEvent struct {
	Model   string    `json:"model"`
	Alias   string    `json:"alias"`
	Version string    `json:"version"`
	Action  string    `json:"action"` // "kept", "removed", "repointed"
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
}

// ErrLeaseLost is returned when a job's lease passed to another worker.
var ErrLeaseLost = errors.New("job lease lost to another worker")

type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

// Store is the SQL-backed state.
type Store struct {
	enq         chan *enqueueReq
	quit        chan struct{}
	batcherDone chan struct{}
	closeOnce   sync.Once
	db          *sql.DB
	// accept takes enqueues: on PostgreSQL its commits wait for the WAL
	// flush, db's do not (see openPostgres). On SQLite it is db.
	accept  *sql.DB
	dialect dialect
	now     func() time.Time
	closers []func() error
	// pgConfig opens WatchJobs' LISTEN connection; notify wakes the
	// notifier (PostgreSQL only).
	pgConfig *pgx.ConnConfig
	notify   chan struct{}
}

// Open opens (and migrates) the store named by dsn: a postgres:// or
// postgresql:// URL, or a SQLite file path (optionally sqlite://PATH).
func Open(ctx context.Context, dsn string) (*Store, error) {
	var s *Store
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s, err = openPostgres(dsn)
	default:
		s, err = openSQLite(strings.TrimPrefix(dsn, "sqlite://"))
	}
	if err != nil {
		return nil, err
	}
	s.now = time.Now
	s.enq, s.quit, s.batcherDone = make(chan *enqueueReq), make(chan struct{}), make(chan struct{})
	// SQLite has one writer, so one batcher. On PostgreSQL a second batch
	// forms and is sent while the first waits for its WAL flush.
	batchers := 1
	if s.dialect == postgresDialect {
		batchers = 2
	}
	var wg sync.WaitGroup
	for range batchers {
		wg.Add(1)
		go func() { defer wg.Done(); s.batcher() }()
	}
	if s.dialect == postgresDialect {
		s.notify = make(chan struct{}, 1)
		wg.Add(1)
		go func() { defer wg.Done(); s.notifier() }()
	}
	go func() { wg.Wait(); close(s.batcherDone) }()
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// SetClock replaces the clock (tests).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Close releases the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.batcherDone
	})
	err := s.db.Close()
	if s.accept != s.db {
		if cerr := s.accept.Close(); err == nil {
			err = cerr
		}
	}
	for _, c := range s.closers {
		if cerr := c(); err == nil {
			err = cerr
		}
	}
	return err
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Postgres reports whether the store is shared (PostgreSQL).
func (s *Store) Postgres() bool { return s.dialect == postgresDialect }

// q rewrites ? placeholders for PostgreSQL.
func (s *Store) q(query string) string {
	if s.dialect != postgresDialect {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func (s *Store) migrate(ctx context.Context) error {
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	blob := "BLOB"
	if s.dialect == postgresDialect {
		id = "BIGSERIAL PRIMARY KEY"
		blob = "BYTEA"
	}
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS jobs (
			id ` + id + `,
			kind TEXT NOT NULL, model TEXT NOT NULL, version TEXT NOT NULL, alias TEXT NOT NULL DEFAULT '',
			source TEXT NOT NULL DEFAULT '', delivery_id TEXT NOT NULL DEFAULT '', payload TEXT NOT NULL DEFAULT '',
			dedupe_key TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
			last_error TEXT NOT NULL DEFAULT '', owner TEXT NOT NULL DEFAULT '',
			lease_until BIGINT NOT NULL DEFAULT 0, run_after BIGINT NOT NULL DEFAULT 0,
			created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, finished_at BIGINT NOT NULL DEFAULT 0)`,
		`CREATE UNIQUE INDEX IF NOT EXISTS jobs_active_key ON jobs (dedupe_key) WHERE state IN ('queued', 'running')`,
		`CREATE INDEX IF NOT EXISTS jobs_claim ON jobs (state, run_after, id)`,
		// A replayed delivery looks up the job its first delivery queued.
		`CREATE INDEX IF NOT EXISTS jobs_by_delivery ON jobs (delivery_id)`,
		`CREATE TABLE IF NOT EXISTS deliveries (
			id TEXT PRIMARY KEY, source TEXT NOT NULL, event TEXT NOT NULL, received_at BIGINT NOT NULL, job_id BIGINT NOT NULL DEFAULT 0)`,
		`CREATE TABLE IF NOT EXISTS results (
			model TEXT NOT NULL, version TEXT NOT NULL, status TEXT NOT NULL, findings INTEGER NOT NULL,
			digest TEXT NOT NULL, uri TEXT NOT NULL, reason TEXT NOT NULL, scanned_at BIGINT NOT NULL, job_id BIGINT NOT NULL,
			report ` + blob + `, sarif ` + blob + `, PRIMARY KEY (model, version))`,
		`CREATE TABLE IF NOT EXISTS alias_history (
			id ` + id + `, model TEXT NOT NULL, alias TEXT NOT NULL, version TEXT NOT NULL,
			action TEXT NOT NULL, reason TEXT NOT NULL, at BIGINT NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS alias_history_by_alias ON alias_history (model, alias, id)`,
	}
	if s.dialect == postgresDialect {
		// Replicas starting together must not race on CREATE IF NOT EXISTS.
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		defer tx.Rollback() //nolint:errcheck // after commit it is a no-op
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7131313)`); err != nil {
			return fmt.Errorf("store: migrate lock: %w", err)
		}
		for _, st := range stmts {
			if _, err := tx.ExecContext(ctx, st); err != nil {
				return fmt.Errorf("store: migrate: %w", err)
			}
		}
		return tx.Commit()
	}
	for _, st := range stmts {
		if _, err := s.db.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
	}
	return nil
}

// Enqueued says what Enqueue did.
type Enqueued struct {
	JobID int64
	// DuplicateDelivery: the delivery id was seen before; nothing was queued.
	DuplicateDelivery bool
	// ActiveJob: an equal job was already queued or running; JobID is that job.
	ActiveJob bool
}

// Enqueue records a delivery (deliveryID "" for none) and queues its job in
// one transaction. A delivery id seen before creates nothing.
func (s *Store) Enqueue(ctx context.Context, deliveryID, source, event string, j NewJob) (Enqueued, error) {
	req := &enqueueReq{deliveryID: deliveryID, source: source, event: event, job: j, done: make(chan struct{})}
	select {
	case s.enq <- req:
	case <-s.quit:
		return Enqueued{}, errors.New("store: closed")
	case <-ctx.Done():
		return Enqueued{}, ctx.Err()
	}
	<-req.done
	return req.out, req.err
}

type enqueueReq struct {
	deliveryID, source, event string
	job                       NewJob
	out                       Enqueued
	err                       error
	done                      chan struct{}
}

// maxBatch bounds one group commit.
const maxBatch = 128

// batcher is the group commit: the enqueues waiting when a commit ends go
// into the next transaction together, so concurrent deliveries share one
// WAL flush (an fsync each would serialise them) and are served in arrival
// order (database/sql hands a contended connection to a random waiter,
// which is what made the tail slow). No request waits for a batch to fill:
// a lone delivery is committed at once.
func (s *Store) batcher() {
	for {
		var first *enqueueReq
		select {
		case first = <-s.enq:
		case <-s.quit:
			return
		}
		batch := []*enqueueReq{first}
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-s.enq:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		// One lock order across replicas: two batches never wait on each
		// other's delivery rows in opposite orders.
		sort.SliceStable(batch, func(i, j int) bool { return batch[i].deliveryID < batch[j].deliveryID })
		if s.dialect == postgresDialect {
			s.commitPostgres(batch)
		} else {
			s.commit(batch)
		}
		for _, r := range batch {
			close(r.done)
		}
		s.announce()
	}
}

// commit runs a batch in one transaction. If something in it fails (a
// deadlock with another replica, say) each request gets its own.
func (s *Store) commit(batch []*enqueueReq) {
	if len(batch) == 0 {
		return
	}
	if err := s.runBatch(batch); err != nil && len(batch) > 1 {
		for _, r := range batch {
			r.err = s.runBatch([]*enqueueReq{r})
		}
	} else if err != nil {
		batch[0].err = err
	}
}

// commitPostgres sends the batch's deliveries as one statement (one round
// trip, one commit); enqueues without a delivery id (reconcile) take the
// transaction path.
func (s *Store) commitPostgres(batch []*enqueueReq) {
	var withID, without []*enqueueReq
	for _, r := range batch {
		if r.deliveryID != "" {
			withID = append(withID, r)
		} else {
			without = append(without, r)
		}
	}
	s.commit(without)
	if len(withID) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.enqueuePostgresBatch(ctx, withID); err != nil {
		for _, r := range withID {
			r.out, r.err = s.enqueuePostgres(ctx, s.accept, r)
		}
	}
}

// pgBatchEnqueue records a batch of deliveries and queues their jobs in
// one autocommitted statement. Rows are inserted in delivery-id order and
// jobs in key order, so two replicas' batches never wait on each other in
// a cycle. The lookups of an existing job read the statement's snapshot: a
// job another replica commits meanwhile is reported as job 0, which only
// the answer's informational job_id shows.
const pgBatchEnqueue = `WITH input AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
			WITH ORDINALITY AS t(id, source, event, kind, model, version, alias, jsource, payload, dkey, n)
	), d AS (
		INSERT INTO deliveries (id, source, event, received_at)
		SELECT id, source, event, $11 FROM input ORDER BY id
		ON CONFLICT DO NOTHING RETURNING id
	), jb AS (
		INSERT INTO jobs (kind, model, version, alias, source, delivery_id, payload, dedupe_key, state, run_after, created_at, updated_at)
		SELECT kind, model, version, alias, jsource, id, payload, dkey, 'queued', $11, $11, $11 FROM input
		WHERE id IN (SELECT id FROM d) ORDER BY dkey, n
		ON CONFLICT DO NOTHING RETURNING id, delivery_id, dedupe_key
	)
	SELECT r.n, r.fresh, r.inserted,
		CASE WHEN r.fresh AND r.inserted IS NULL THEN COALESCE((SELECT jb.id FROM jb WHERE jb.dedupe_key = r.dkey),
			(SELECT j.id FROM jobs j WHERE j.dedupe_key = r.dkey AND j.state IN ('queued', 'running') LIMIT 1)) END,
		CASE WHEN NOT r.fresh THEN (SELECT j.id FROM jobs j WHERE j.delivery_id = r.id ORDER BY j.id LIMIT 1) END
	FROM (SELECT i.n, i.id, i.dkey, d.id IS NOT NULL AS fresh, jb.id AS inserted
		FROM input i LEFT JOIN d ON d.id = i.id LEFT JOIN jb ON jb.delivery_id = i.id) r`

func (s *Store) enqueuePostgresBatch(ctx context.Context, batch []*enqueueReq) error {
	// A delivery id twice in one batch (a retry racing the original) is
	// sent once; the others are its duplicates.
	first := map[string]*enqueueReq{}
	var sent, dups []*enqueueReq
	for _, r := range batch {
		if _, ok := first[r.deliveryID]; ok {
			dups = append(dups, r)
			continue
		}
		first[r.deliveryID] = r
		sent = append(sent, r)
	}
	cols := make([][]string, 10)
	for _, r := range sent {
		j := r.job
		for c, v := range []string{r.deliveryID, r.source, r.event, j.Kind, j.Model, j.Version, j.Alias, j.Source, string(j.Payload), j.key()} {
			cols[c] = append(cols[c], v)
		}
	}
	args := make([]any, 0, 11)
	for _, c := range cols {
		args = append(args, c)
	}
	args = append(args, ms(s.now()))
	rows, err := s.accept.QueryContext(ctx, pgBatchEnqueue, args...)
	if err != nil {
		return fmt.Errorf("store: enqueue batch: %w", err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var n int
		var fresh bool
		var inserted, active, earlier sql.NullInt64
		if err := rows.Scan(&n, &fresh, &inserted, &active, &earlier); err != nil {
			return fmt.Errorf("store: enqueue batch: %w", err)
		}
		if n < 1 || n > len(sent) {
			return fmt.Errorf("store: enqueue batch: row %d of %d", n, len(sent))
		}
		r := sent[n-1]
		switch {
		case !fresh:
			r.out = Enqueued{DuplicateDelivery: true, JobID: earlier.Int64}
		case inserted.Valid:
			r.out = Enqueued{JobID: inserted.Int64}
		default:
			r.out = Enqueued{ActiveJob: true, JobID: active.Int64}
		}
		got++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: enqueue batch: %w", err)
	}
	if got != len(sent) {
		return fmt.Errorf("store: enqueue batch: %d answers for %d deliveries", got, len(sent))
	}
	for _, r := range sent {
		r.err = nil
	}
	for _, r := range dups {
		r.out, r.err = Enqueued{DuplicateDelivery: true, JobID: first[r.deliveryID].out.JobID}, nil
	}
	return nil
}

func (s *Store) runBatch(batch []*enqueueReq) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tx, err := s.accept.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: enqueue: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after commit it is a no-op
	for _, r := range batch {
		if r.out, err = s.enqueueTx(ctx, tx, r); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: enqueue commit: %w", err)
	}
	for _, r := range batch {
		r.err = nil
	}
	return nil
}

func (s *Store) enqueueTx(ctx context.Context, tx *sql.Tx, r *enqueueReq) (Enqueued, error) {
	var out Enqueued
	now := ms(s.now())
	j := r.job
	if r.deliveryID != "" {
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO deliveries (id, source, event, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`),
			r.deliveryID, r.source, r.event, now)
		if err != nil {
			return out, fmt.Errorf("store: record delivery: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			out.DuplicateDelivery = true
			_ = tx.QueryRowContext(ctx, s.q(`SELECT job_id FROM deliveries WHERE id = ?`), r.deliveryID).Scan(&out.JobID)
			return out, nil
		}
	}
	key := j.key()
	err := tx.QueryRowContext(ctx, s.q(`INSERT INTO jobs (kind, model, version, alias, source, delivery_id, payload, dedupe_key, state, run_after, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`),
		j.Kind, j.Model, j.Version, j.Alias, j.Source, r.deliveryID, string(j.Payload), key, now, now, now).Scan(&out.JobID)
	if errors.Is(err, sql.ErrNoRows) {
		out.ActiveJob = true
		err = tx.QueryRowContext(ctx, s.q(`SELECT id FROM jobs WHERE dedupe_key = ? AND state IN ('queued', 'running')`), key).Scan(&out.JobID)
	}
	if err != nil {
		return out, fmt.Errorf("store: queue job: %w", err)
	}
	if r.deliveryID != "" {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE deliveries SET job_id = ? WHERE id = ?`), out.JobID, r.deliveryID); err != nil {
			return out, fmt.Errorf("store: record delivery: %w", err)
		}
	}
	return out, nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// enqueuePostgres records the delivery and queues its job in one
// statement (one round trip).
func (s *Store) enqueuePostgres(ctx context.Context, tx queryer, r *enqueueReq) (Enqueued, error) {
	var out Enqueued
	now := ms(s.now())
	j := r.job
	key := j.key()
	var fresh bool
	var jobID sql.NullInt64
	err := tx.QueryRowContext(ctx, `WITH d AS (
			INSERT INTO deliveries (id, source, event, received_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id
		), jb AS (
			INSERT INTO jobs (kind, model, version, alias, source, delivery_id, payload, dedupe_key, state, run_after, created_at, updated_at)
			SELECT $5, $6, $7, $8, $9, $1, $10, $11, 'queued', $4, $4, $4 WHERE EXISTS (SELECT 1 FROM d)
			ON CONFLICT DO NOTHING RETURNING id
		)
		SELECT EXISTS (SELECT 1 FROM d), (SELECT id FROM jb)`,
		r.deliveryID, r.source, r.event, now, j.Kind, j.Model, j.Version, j.Alias, j.Source, string(j.Payload), key).Scan(&fresh, &jobID)
	if err != nil {
		return out, fmt.Errorf("store: enqueue: %w", err)
	}
	switch {
	case !fresh:
		out.DuplicateDelivery = true
		err = tx.QueryRowContext(ctx, `SELECT id FROM jobs WHERE delivery_id = $1 ORDER BY id LIMIT 1`, r.deliveryID).Scan(&out.JobID)
		if errors.Is(err, sql.ErrNoRows) {
			err = nil // the first delivery joined a job that was already queued
		}
	case !jobID.Valid:
		out.ActiveJob = true
		err = tx.QueryRowContext(ctx, `SELECT id FROM jobs WHERE dedupe_key = $1 AND state IN ('queued', 'running')`, key).Scan(&out.JobID)
		if errors.Is(err, sql.ErrNoRows) {
			err = nil // it finished in between
		}
	default:
		out.JobID = jobID.Int64
	}
	if err != nil {
		return out, fmt.Errorf("store: enqueue: %w", err)
	}
	return out, nil
}

const jobCols = `id, kind, model, version, alias, source, delivery_id, payload, state, attempts, last_error, owner, created_at, updated_at, run_after, finished_at`

func scanJob(row interface{ Scan(...any) error }) (*Job, error) {
	var j Job
	var payload string
	var created, updated, runAfter, finished int64
	if err := row.Scan(&j.ID, &j.Kind, &j.Model, &j.Version, &j.Alias, &j.Source, &j.DeliveryID, &payload, &j.State,
		&j.Attempts, &j.LastError, &j.Owner, &created, &updated, &runAfter, &finished); err != nil {
		return nil, err
	}
	if payload != "" {
		j.Payload = json.RawMessage(payload)
	}
	j.CreatedAt, j.UpdatedAt, j.RunAfter = time.UnixMilli(created), time.UnixMilli(updated), time.UnixMilli(runAfter)
	if finished != 0 {
		t := time.UnixMilli(finished)
		j.FinishedAt = &t
	}
	return &j, nil
}

// Claim takes the oldest runnable job (queued and due, or running with an
// expired lease) for owner, or returns nil when there is none.
func (s *Store) Claim(ctx context.Context, owner string, lease time.Duration) (*Job, error) {
	now := s.now()
	lock := ""
	if s.dialect == postgresDialect {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	row := s.db.QueryRowContext(ctx, s.q(`UPDATE jobs SET state = 'running', owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
		WHERE id = (SELECT id FROM jobs WHERE (state = 'queued' AND run_after <= ?) OR (state = 'running' AND lease_until < ?)
		ORDER BY id LIMIT 1`+lock+`) RETURNING `+jobCols), owner, ms(now.Add(lease)), ms(now), ms(now), ms(now))
	j, err := scanJob(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: claim: %w", err)
	}
	return j, nil
}

func (s *Store) owned(res sql.Result, err error, op string) error {
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Heartbeat extends a running job's lease.
func (s *Store) Heartbeat(ctx context.Context, id int64, owner string, lease time.Duration) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE jobs SET lease_until = ? WHERE id = ? AND owner = ? AND state = 'running'`),
		ms(s.now().Add(lease)), id, owner)
	return s.owned(res, err, "heartbeat")
}

// Complete marks a job done.
func (s *Store) Complete(ctx context.Context, id int64, owner, note string) error {
	now := ms(s.now())
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE jobs SET state = 'done', last_error = ?, updated_at = ?, finished_at = ?, lease_until = 0
		WHERE id = ? AND owner = ? AND state = 'running'`), note, now, now, id, owner)
	return s.owned(res, err, "complete")
}

// Retry puts a job back in the queue to run after at, keeping the error;
// final marks it failed instead.
func (s *Store) Retry(ctx context.Context, id int64, owner, lastErr string, at time.Time, final bool) error {
	now := ms(s.now())
	state, finished := StateQueued, int64(0)
	if final {
		state, finished = StateFailed, now
	}
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE jobs SET state = ?, last_error = ?, run_after = ?, updated_at = ?, finished_at = ?, lease_until = 0, owner = ''
		WHERE id = ? AND owner = ? AND state = 'running'`), state, truncate(lastErr, 2000), ms(at), now, finished, id, owner)
	return s.owned(res, err, "retry")
}

// Defer puts a job back without counting the attempt (waiting for a
// version to become READY, or for a scan another job runs).
func (s *Store) Defer(ctx context.Context, id int64, owner, why string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE jobs SET state = 'queued', attempts = attempts - 1, last_error = ?, run_after = ?, updated_at = ?, lease_until = 0, owner = ''
		WHERE id = ? AND owner = ? AND state = 'running'`), why, ms(at), ms(s.now()), id, owner)
	return s.owned(res, err, "defer")
}

// Release gives a running job back at once (graceful shutdown): the
// attempt is not counted.
func (s *Store) Release(ctx context.Context, id int64, owner string) error {
	err := s.Defer(ctx, id, owner, "released at shutdown", s.now())
	if err == nil {
		s.announce() // another replica can take it now
	}
	return err
}

// JobFilter selects jobs to list.
type JobFilter struct {
	State string
	Limit int
}

// Jobs lists jobs, newest first.
func (s *Store) Jobs(ctx context.Context, f JobFilter) ([]Job, error) {
	query := `SELECT ` + jobCols + ` FROM jobs`
	var args []any
	if f.State != "" {
		query += ` WHERE state = ?`
		args = append(args, f.State)
	}
	query += ` ORDER BY id DESC`
	if f.Limit > 0 {
		query += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list jobs: %w", err)
		}
		out = append(out, *j)
	}
	return out, rows.Err()
}

// Job returns one job.
func (s *Store) Job(ctx context.Context, id int64) (*Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, s.q(`SELECT `+jobCols+` FROM jobs WHERE id = ?`), id))
	if err != nil {
		return nil, fmt.Errorf("store: job %d: %w", id, err)
	}
	return j, nil
}

// ActiveJob reports whether a job with this kind, model and version is
// queued or running.
func (s *Store) ActiveJob(ctx context.Context, kind, model, version string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM jobs WHERE kind = ? AND model = ? AND version = ? AND state IN ('queued', 'running')`),
		kind, model, version).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: active job: %w", err)
	}
	return n > 0, nil
}

// Depth counts jobs by state.
func (s *Store) Depth(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM jobs GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("store: depth: %w", err)
	}
	defer rows.Close()
	out := map[string]int{StateQueued: 0, StateRunning: 0, StateDone: 0, StateFailed: 0}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// PutResult stores (replaces) a version's result.
func (s *Store) PutResult(ctx context.Context, r *Result) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO results (model, version, status, findings, digest, uri, reason, scanned_at, job_id, report, sarif)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (model, version) DO UPDATE SET status = excluded.status, findings = excluded.findings, digest = excluded.digest,
		uri = excluded.uri, reason = excluded.reason, scanned_at = excluded.scanned_at, job_id = excluded.job_id,
		report = excluded.report, sarif = excluded.sarif`),
		r.Model, r.Version, r.Status, r.Findings, r.Digest, r.URI, truncate(r.Reason, 2000), ms(r.ScannedAt), r.JobID, r.Report, r.SARIF)
	if err != nil {
		return fmt.Errorf("store: put result: %w", err)
	}
	return nil
}

// SetStatus changes a stored result's status and reason (blocking).
func (s *Store) SetStatus(ctx context.Context, model, version, status, reason string) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE results SET status = ?, reason = ? WHERE model = ? AND version = ?`), status, truncate(reason, 2000), model, version)
	if err != nil {
		return fmt.Errorf("store: set status: %w", err)
	}
	return nil
}

// GetResult returns a version's result (nil, nil when not scanned);
// withReports loads the report documents too.
func (s *Store) GetResult(ctx context.Context, model, version string, withReports bool) (*Result, error) {
	cols := `model, version, status, findings, digest, uri, reason, scanned_at, job_id`
	if withReports {
		cols += `, report, sarif`
	}
	row := s.db.QueryRowContext(ctx, s.q(`SELECT `+cols+` FROM results WHERE model = ? AND version = ?`), model, version)
	var r Result
	var at int64
	dest := []any{&r.Model, &r.Version, &r.Status, &r.Findings, &r.Digest, &r.URI, &r.Reason, &at, &r.JobID}
	if withReports {
		dest = append(dest, &r.Report, &r.SARIF)
	}
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, fmt.Errorf("store: get result: %w", err)
	}
	r.ScannedAt = time.UnixMilli(at)
	return &r, nil
}

// CountResults returns how many versions have results.
func (s *Store) CountResults(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM results`).Scan(&n)
	return n, err
}

// RecordAlias appends to an alias's history.
func (s *Store) RecordAlias(ctx context.Context, e AliasEvent) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO alias_history (model, alias, version, action, reason, at) VALUES (?, ?, ?, ?, ?, ?)`),
		e.Model, e.Alias, e.Version, e.Action, truncate(e.Reason, 2000), ms(s.now()))
	if err != nil {
		return fmt.Errorf("store: record alias: %w", err)
	}
	return nil
}

// AliasHistory returns an alias's history, newest first.
func (s *Store) AliasHistory(ctx context.Context, model, alias string) ([]AliasEvent, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT model, alias, version, action, reason, at FROM alias_history WHERE model = ? AND alias = ? ORDER BY id DESC LIMIT 200`), model, alias)
	if err != nil {
		return nil, fmt.Errorf("store: alias history: %w", err)
	}
	defer rows.Close()
	var out []AliasEvent
	for rows.Next() {
		var e AliasEvent
		var at int64
		if err := rows.Scan(&e.Model, &e.Alias, &e.Version, &e.Action, &e.Reason, &at); err != nil {
			return nil, err
		}
		e.At = time.UnixMilli(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
