package mlflowplugin_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/scan"
	"github.com/modelgate/modelgate/mlflowplugin"
	"github.com/modelgate/modelgate/mlflowplugin/fakemlflow"
	"github.com/modelgate/modelgate/mlflowplugin/internal/pgtest"
	"github.com/modelgate/modelgate/mlflowplugin/registry"
	"github.com/modelgate/modelgate/mlflowplugin/store"
	"github.com/modelgate/modelgate/mlflowplugin/worker"
)

// TestFakeMLflowAPI_PostgresNotifyWakesIdleWorkers: a receiver whose
// workers poll only once an hour still runs, at once, jobs that another
// replica queues on the shared PostgreSQL store: LISTEN/NOTIFY wakes them.
func TestFakeMLflowAPI_PostgresNotifyWakesIdleWorkers(t *testing.T) {
	dsn := pgtest.DSN(t)
	fake := fakemlflow.New()
	defer fake.Close()
	tmp := t.TempDir()
	svc, err := mlflowplugin.Open(context.Background(), mlflowplugin.Options{
		DB:          dsn,
		Registry:    registry.Config{TrackingURI: fake.URL, Backoff: 10 * time.Millisecond},
		Secret:      []byte(testSecret),
		Workers:     2,
		Poll:        time.Hour,
		ScanOptions: func() scan.Options { return scan.Options{TempDir: tmp} },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ctx, ln, mlflowplugin.ServeOptions{Ready: ready, Grace: 5 * time.Second}) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	<-ready

	other, err := store.Open(context.Background(), dsn) // the other replica
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	scanned := func(v string) {
		t.Helper()
		waitFor(t, "version "+v+" scanned", func() bool {
			tags, _, _ := fake.Get("notify", v)
			return tags[worker.TagStatus] == worker.StatusPassed
		})
	}
	// The first job may be claimed by the workers' first look at the
	// queue; after it the workers are idle, waiting for a wake.
	for i, delivery := range []string{"first", "second", ""} {
		v := fake.CreateVersion("notify", cleanModel(t), fakemlflow.CreateOptions{Silent: true})
		if i > 0 {
			time.Sleep(300 * time.Millisecond) // let the workers go idle
		}
		if _, err := other.Enqueue(context.Background(), delivery, "mlflow", "model_version.created",
			store.NewJob{Kind: store.KindScan, Model: "notify", Version: v, Source: "mlflow"}); err != nil {
			t.Fatal(err)
		}
		scanned(v)
	}
}
