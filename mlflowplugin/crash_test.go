package mlflowplugin_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/modelgate/modelgate/mlflowplugin/fakemlflow"
	"github.com/modelgate/modelgate/mlflowplugin/store"
	"github.com/modelgate/modelgate/mlflowplugin/worker"
)

// TestFakeMLflowAPI_CrashSafety_SIGKILL kills a real receiver process with
// SIGKILL while jobs are queued and running, restarts it on the same
// SQLite file, and checks that every acknowledged delivery's job completes
// exactly once.
func TestFakeMLflowAPI_CrashSafety_SIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the receiver binary")
	}
	fake := fakemlflow.New()
	defer fake.Close()
	fake.DownloadDelay = 120 * time.Millisecond // a scan takes a few hundred ms
	db := filepath.Join(t.TempDir(), "state.db")
	r1 := startReceiver(t, fake.URL, db, "--workers", "2", "--lease", "2s")
	fake.SendWebhooks("http://"+r1.addr+"/webhooks/mlflow", []byte(testSecret))

	const n = 12
	want := map[string]string{}
	for i := 0; i < n; i++ {
		files, status := cleanModel(t), "passed"
		if i%3 == 0 {
			files, status = evilModel(t), "failed"
		}
		want[fake.CreateVersion("crash", files, fakemlflow.CreateOptions{})] = status
	}
	fake.WaitDeliveries()
	for _, st := range fake.DeliveryStatuses() {
		if st != 202 {
			t.Fatalf("delivery answered %d, want 202 (all %v)", st, fake.DeliveryStatuses())
		}
	}
	// Kill once some scans finished while another is downloading (so it
	// is running: downloads happen between claim and completion).
	waitFor(t, "the first scans", func() bool {
		done := 0
		for v := range want {
			if tags, _, _ := fake.Get("crash", v); tags[worker.TagStatus] != "" {
				done++
			}
		}
		return done >= 2 && fake.InFlightDownloads() > 0
	})
	r1.kill(t)
	before := listJobs(t, db)
	states := map[string]int{}
	running := map[int64]bool{}
	for _, j := range before {
		states[j.State]++
		if j.State == store.StateRunning {
			running[j.ID] = true
		}
	}
	if len(before) != n || states[store.StateQueued] == 0 || states[store.StateRunning] == 0 {
		t.Fatalf("at the kill: %d jobs %v; want %d with some queued and some running", len(before), states, n)
	}
	t.Logf("killed with jobs %v", states)

	r2 := startReceiver(t, fake.URL, db, "--workers", "2", "--lease", "2s")
	fake.SendWebhooks("http://"+r2.addr+"/webhooks/mlflow", []byte(testSecret))
	waitFor(t, "every version tagged", func() bool {
		for v := range want {
			if tags, _, _ := fake.Get("crash", v); tags[worker.TagStatus] == "" {
				return false
			}
		}
		return true
	})
	waitFor(t, "every job done", func() bool {
		time.Sleep(200 * time.Millisecond)
		for _, j := range listJobs(t, db) {
			if j.State != store.StateDone {
				return false
			}
		}
		return true
	})
	r2.stop(t)
	after := listJobs(t, db)
	if len(after) != n {
		t.Fatalf("%d jobs after restart, want %d (a job was lost or duplicated)", len(after), n)
	}
	for _, j := range after {
		if j.State != store.StateDone {
			t.Errorf("job %d is %s: %s", j.ID, j.State, j.LastError)
		}
		if running[j.ID] && j.Attempts < 2 {
			t.Errorf("job %d was running at the kill but shows %d attempt(s)", j.ID, j.Attempts)
		}
		if !running[j.ID] && j.Attempts != 1 {
			t.Errorf("job %d was not running at the kill but ran %d times", j.ID, j.Attempts)
		}
	}
	for v, status := range want {
		tags, _, _ := fake.Get("crash", v)
		if tags[worker.TagStatus] != status {
			t.Errorf("version %s: status %q, want %q", v, tags[worker.TagStatus], status)
		}
		writes := fake.TagWrites("crash", v, worker.TagStatus)
		if writes < 1 || writes > 2 {
			t.Errorf("version %s: status written %d times", v, writes)
		}
	}
}
