package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/modelgate/modelgate/mlflowplugin/internal/pgtest"
)

type backend struct {
	name string
	dsn  func(t *testing.T) string
}

var backends = []backend{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "state.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.DSN(t) }},
}

func open(t *testing.T, b backend) *Store {
	t.Helper()
	s, err := Open(context.Background(), b.dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func scanJob1(v string) NewJob { return NewJob{Kind: KindScan, Model: "m", Version: v, Source: "test"} }

func TestStore_DedupeAndLifecycle(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, b)
			now := time.Unix(1_800_000_000, 0)
			s.SetClock(func() time.Time { return now })
			first, err := s.Enqueue(ctx, "d1", "mlflow", "model_version.created", scanJob1("1"))
			if err != nil || first.DuplicateDelivery || first.ActiveJob {
				t.Fatalf("first enqueue %+v %v", first, err)
			}
			again, err := s.Enqueue(ctx, "d1", "mlflow", "model_version.created", scanJob1("1"))
			if err != nil || !again.DuplicateDelivery || again.JobID != first.JobID {
				t.Fatalf("replayed delivery %+v %v, want duplicate of job %d", again, err, first.JobID)
			}
			other, err := s.Enqueue(ctx, "d2", "mlflow", "model_version.created", scanJob1("1"))
			if err != nil || other.DuplicateDelivery || !other.ActiveJob || other.JobID != first.JobID {
				t.Fatalf("second delivery for a queued job %+v %v", other, err)
			}
			j, err := s.Claim(ctx, "w1", 10*time.Second)
			if err != nil || j == nil || j.ID != first.JobID || j.Attempts != 1 || j.DeliveryID != "d1" {
				t.Fatalf("claim %+v %v", j, err)
			}
			if j2, err := s.Claim(ctx, "w2", 10*time.Second); err != nil || j2 != nil {
				t.Fatalf("second claim got %+v %v, want nothing", j2, err)
			}
			// The lease runs out: another worker takes the job over and the
			// first one can no longer complete it.
			now = now.Add(11 * time.Second)
			j2, err := s.Claim(ctx, "w2", 10*time.Second)
			if err != nil || j2 == nil || j2.ID != j.ID || j2.Attempts != 2 {
				t.Fatalf("claim after lease expiry %+v %v", j2, err)
			}
			if err := s.Complete(ctx, j.ID, "w1", ""); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("complete by the old owner: %v", err)
			}
			if err := s.Heartbeat(ctx, j.ID, "w1", time.Second); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("heartbeat by the old owner: %v", err)
			}
			if err := s.Defer(ctx, j.ID, "w2", "waiting", now.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if j3, _ := s.Claim(ctx, "w3", time.Second); j3 != nil {
				t.Fatalf("deferred job claimed early")
			}
			now = now.Add(2 * time.Minute)
			j3, err := s.Claim(ctx, "w3", time.Second)
			if err != nil || j3 == nil || j3.Attempts != 2 {
				t.Fatalf("deferred job %+v %v (a deferral must not count as an attempt)", j3, err)
			}
			if err := s.Complete(ctx, j3.ID, "w3", "ok"); err != nil {
				t.Fatal(err)
			}
			// Done jobs free their key: a later audit may scan again.
			later, err := s.Enqueue(ctx, "", "audit", "audit", scanJob1("1"))
			if err != nil || later.ActiveJob || later.JobID == first.JobID {
				t.Fatalf("enqueue after done %+v %v", later, err)
			}
			jf, _ := s.Claim(ctx, "w4", time.Second)
			if err := s.Retry(ctx, jf.ID, "w4", "boom", now, true); err != nil {
				t.Fatal(err)
			}
			got, err := s.Job(ctx, jf.ID)
			if err != nil || got.State != StateFailed || got.LastError != "boom" || got.FinishedAt == nil {
				t.Fatalf("failed job %+v %v", got, err)
			}
			depth, err := s.Depth(ctx)
			if err != nil || depth[StateDone] != 1 || depth[StateFailed] != 1 || depth[StateQueued] != 0 {
				t.Fatalf("depth %v %v", depth, err)
			}
		})
	}
}

func TestStore_ResultsAndAliasHistory(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, b)
			if r, err := s.GetResult(ctx, "m", "1", false); r != nil || err != nil {
				t.Fatalf("missing result: %v %v", r, err)
			}
			r := &Result{Model: "m", Version: "1", Status: "failed", Findings: 2, Digest: "sha256:ab", ScannedAt: time.Now(), JobID: 7,
				Report: []byte(`{"a":1}`), SARIF: []byte(`{"s":1}`)}
			if err := s.PutResult(ctx, r); err != nil {
				t.Fatal(err)
			}
			if err := s.SetStatus(ctx, "m", "1", "blocked", "alias removed"); err != nil {
				t.Fatal(err)
			}
			got, err := s.GetResult(ctx, "m", "1", true)
			if err != nil || got.Status != "blocked" || got.Findings != 2 || string(got.SARIF) != `{"s":1}` || got.Reason != "alias removed" {
				t.Fatalf("result %+v %v", got, err)
			}
			for _, v := range []string{"1", "2", "3"} {
				if err := s.RecordAlias(ctx, AliasEvent{Model: "m", Alias: "champion", Version: v, Action: "kept"}); err != nil {
					t.Fatal(err)
				}
			}
			hist, err := s.AliasHistory(ctx, "m", "champion")
			if err != nil || len(hist) != 3 || hist[0].Version != "3" {
				t.Fatalf("history %+v %v", hist, err)
			}
		})
	}
}

// TestStore_ConcurrentClaimsAndDeliveries: many workers and many duplicate
// deliveries at once; every job is claimed exactly once and every delivery
// id makes one job.
func TestStore_ConcurrentClaimsAndDeliveries(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.dsn(t)
			// Two handles on one database stand for two replicas.
			var stores []*Store
			for i := 0; i < 2; i++ {
				s, err := Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				stores = append(stores, s)
			}
			const n = 150
			var wg sync.WaitGroup
			errs := make(chan error, 10*n)
			for g := 0; g < 6; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					s := stores[g%2]
					for i := 0; i < n; i++ {
						if _, err := s.Enqueue(ctx, fmt.Sprintf("d%d", i), "mlflow", "e", scanJob1(fmt.Sprint(i))); err != nil {
							errs <- err
						}
					}
				}(g)
			}
			wg.Wait()
			claimed := make(chan int64, 2*n)
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					s := stores[w%2]
					owner := fmt.Sprintf("w%d", w)
					for {
						j, err := s.Claim(ctx, owner, time.Minute)
						if err != nil {
							errs <- err
							return
						}
						if j == nil {
							return
						}
						claimed <- j.ID
						if err := s.Complete(ctx, j.ID, owner, ""); err != nil {
							errs <- err
						}
					}
				}(w)
			}
			wg.Wait()
			close(errs)
			close(claimed)
			for err := range errs {
				t.Fatal(err)
			}
			seen := map[int64]int{}
			for id := range claimed {
				seen[id]++
			}
			if len(seen) != n {
				t.Fatalf("%d distinct jobs claimed, want %d", len(seen), n)
			}
			for id, c := range seen {
				if c != 1 {
					t.Fatalf("job %d claimed %d times", id, c)
				}
			}
		})
	}
}

// TestStore_GroupCommitAnswers sends many enqueues at once through three
// handles (replicas), so they are committed in shared batches: one delivery
// id sent ten times makes one job and nine duplicates; ten deliveries for
// one job make one job and nine that join it.
func TestStore_GroupCommitAnswers(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.dsn(t)
			var stores []*Store
			for i := 0; i < 3; i++ {
				s, err := Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				stores = append(stores, s)
			}
			type answer struct {
				replay bool
				out    Enqueued
				err    error
			}
			answers := make(chan answer, 20)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for g := 0; g < 20; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					s := stores[g%3]
					<-start
					if g%2 == 0 {
						out, err := s.Enqueue(ctx, "same", "mlflow", "e", scanJob1("1"))
						answers <- answer{true, out, err}
						return
					}
					out, err := s.Enqueue(ctx, fmt.Sprintf("other-%d", g), "mlflow", "e", scanJob1("2"))
					answers <- answer{false, out, err}
				}(g)
			}
			close(start)
			wg.Wait()
			close(answers)
			var fresh, dups, created, joined int
			var jobIDs []int64
			for a := range answers {
				if a.err != nil {
					t.Fatal(a.err)
				}
				switch {
				case a.replay && a.out.DuplicateDelivery:
					dups++
				case a.replay:
					fresh++
					jobIDs = append(jobIDs, a.out.JobID)
				case a.out.DuplicateDelivery:
					t.Fatalf("distinct delivery answered as a duplicate: %+v", a.out)
				case a.out.ActiveJob:
					joined++
				default:
					created++
					jobIDs = append(jobIDs, a.out.JobID)
				}
			}
			if fresh != 1 || dups != 9 || created != 1 || joined != 9 {
				t.Fatalf("replayed id: %d fresh, %d duplicates; one job's deliveries: %d created, %d joined; want 1/9 and 1/9",
					fresh, dups, created, joined)
			}
			jobs, err := stores[0].Jobs(ctx, JobFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) != 2 {
				t.Fatalf("%d jobs in the store, want 2", len(jobs))
			}
			for _, id := range jobIDs {
				if id != jobs[0].ID && id != jobs[1].ID {
					t.Fatalf("answered job %d, which is not in the store (%d, %d)", id, jobs[0].ID, jobs[1].ID)
				}
			}
		})
	}
}

// TestStore_PostgresNotifiesQueuedJobs: a replica watching the shared
// store hears of every job another replica queues (a delivery, a
// reconcile, a job released at shutdown), and once when it starts
// listening.
func TestStore_PostgresNotifiesQueuedJobs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := pgtest.DSN(t)
	a, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	woken := make(chan struct{}, 16)
	errs := make(chan error, 16)
	go b.WatchJobs(ctx, func() { woken <- struct{}{} }, func(err error) { errs <- err })
	expect := func(what string) {
		t.Helper()
		select {
		case <-woken:
		case err := <-errs:
			t.Fatalf("%s: %v", what, err)
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: no notification", what)
		}
	}
	expect("listening")
	if _, err := a.Enqueue(ctx, "d1", "mlflow", "e", scanJob1("1")); err != nil {
		t.Fatal(err)
	}
	expect("delivery queued")
	if _, err := a.Enqueue(ctx, "", "reconcile", "reconcile", scanJob1("2")); err != nil {
		t.Fatal(err)
	}
	expect("reconcile queued")
	j, err := a.Claim(ctx, "w", time.Minute)
	if err != nil || j == nil {
		t.Fatalf("claim %v %v", j, err)
	}
	if err := a.Release(ctx, j.ID, "w"); err != nil {
		t.Fatal(err)
	}
	expect("job released")
	// SQLite has no other process to tell: WatchJobs returns at once.
	s := open(t, backends[0])
	s.WatchJobs(ctx, func() { t.Error("SQLite store woke") }, nil)
}
