package mlflowplugin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/scan"
	"github.com/modelgate/modelgate/mlflowplugin"
	"github.com/modelgate/modelgate/mlflowplugin/fakemlflow"
	"github.com/modelgate/modelgate/mlflowplugin/registry"
	"github.com/modelgate/modelgate/mlflowplugin/store"
	"github.com/modelgate/modelgate/mlflowplugin/webhook"
	"github.com/modelgate/modelgate/mlflowplugin/worker"
)

const testSecret = "test-webhook-secret"

// mlmodel is an MLmodel file as mlflow.sklearn.log_model writes it.
const mlmodel = `artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.2
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.2.1
mlflow_version: 2.9.2
model_size_bytes: 1000
model_uuid: 0f4a6c1e2b3d4e5f8a9b0c1d2e3f4a5b
utc_time_created: '2026-11-23 08:53:42.000000'
`

func fixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "test", "fixtures", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// modelDir is an MLflow model directory around one pickle fixture.
func modelDir(t testing.TB, pickle string) map[string][]byte {
	return map[string][]byte{
		"MLmodel":          []byte(mlmodel),
		"model.pkl":        fixture(t, pickle),
		"requirements.txt": []byte("mlflow==2.9.2\nscikit-learn==1.2.1\n"),
	}
}

func cleanModel(t testing.TB) map[string][]byte { return modelDir(t, "benign/sklearn_logreg.pkl") }
func evilModel(t testing.TB) map[string][]byte {
	return modelDir(t, "malicious/posix_system_reduce_p2.pkl")
}

type rig struct {
	fake *fakemlflow.Server
	svc  *mlflowplugin.Service
	recv *httptest.Server
}

func newRig(t testing.TB, edit func(*mlflowplugin.Options)) *rig {
	t.Helper()
	fake := fakemlflow.New()
	t.Cleanup(fake.Close)
	tmp := t.TempDir()
	opts := mlflowplugin.Options{
		DB:               filepath.Join(tmp, "state.db"),
		Registry:         registry.Config{TrackingURI: fake.URL, Backoff: 10 * time.Millisecond},
		Secret:           []byte(testSecret),
		DatabricksSecret: []byte("databricks-secret"),
		Protected:        []string{"champion", "production"},
		Workers:          2,
		Poll:             50 * time.Millisecond,
		Lease:            5 * time.Second,
		ScanOptions:      func() scan.Options { return scan.Options{TempDir: tmp} },
	}
	if edit != nil {
		edit(&opts)
	}
	svc, err := mlflowplugin.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	recv := httptest.NewServer(svc.Handler)
	opts.PublicURL = recv.URL
	// Reopen with the public URL now known; the first store handle is closed.
	svc.Close()
	if svc, err = mlflowplugin.Open(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	recv.Config.Handler = svc.Handler
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Pool.Run(ctx, 5*time.Second); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		recv.Close()
		svc.Close()
	})
	fake.SendWebhooks(recv.URL+"/webhooks/mlflow", []byte(testSecret))
	return &rig{fake: fake, svc: svc, recv: recv}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) tags(t *testing.T, name, version string) map[string]string {
	tags, _, ok := r.fake.Get(name, version)
	if !ok {
		t.Fatalf("no version %s/%s", name, version)
	}
	return tags
}

func (r *rig) waitStatus(t *testing.T, name, version string, want ...string) map[string]string {
	t.Helper()
	var tags map[string]string
	waitFor(t, name+"/"+version+" status "+strings.Join(want, "|"), func() bool {
		tags = r.tags(t, name, version)
		for _, w := range want {
			if tags[worker.TagStatus] == w {
				return true
			}
		}
		return false
	})
	return tags
}

// idle waits until the queue holds no queued or running job.
func (r *rig) idle(t *testing.T) {
	t.Helper()
	r.fake.WaitDeliveries()
	waitFor(t, "an idle queue", func() bool {
		d, err := r.svc.Store.Depth(context.Background())
		return err == nil && d[store.StateQueued]+d[store.StateRunning] == 0
	})
	r.fake.WaitDeliveries()
}

func TestFakeMLflowAPI_CleanVersionTaggedPassed(t *testing.T) {
	r := newRig(t, nil)
	v := r.fake.CreateVersion("churn", cleanModel(t), fakemlflow.CreateOptions{Pending: 400 * time.Millisecond})
	tags := r.waitStatus(t, "churn", v, "passed", "failed", "error")
	if tags[worker.TagStatus] != "passed" || tags[worker.TagFindings] != "0" {
		t.Fatalf("tags %v, want passed with 0 findings", tags)
	}
	if !strings.HasPrefix(tags[worker.TagDigest], "sha256:") || tags[worker.TagScanned] == "" {
		t.Fatalf("tags %v lack digest or scanned_at", tags)
	}
	if want := r.recv.URL + "/reports/churn/" + v; tags[worker.TagReport] != want {
		t.Fatalf("report tag %q, want %q", tags[worker.TagReport], want)
	}
	for _, f := range []string{"MLmodel", "model.pkl", "requirements.txt"} {
		if n := r.fake.Downloads("churn", v, f); n != 1 {
			t.Errorf("%s downloaded %d times, want once", f, n)
		}
	}
	resp, err := http.Get(tags[worker.TagReport])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 {
		t.Fatalf("report: %d %v", resp.StatusCode, err)
	}
	if doc["outcome"] != "pass" {
		t.Fatalf("report outcome %v", doc["outcome"])
	}
	sresp, err := http.Get(tags[worker.TagReport] + "?format=sarif")
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := io.ReadAll(sresp.Body)
	sresp.Body.Close()
	if !strings.Contains(string(sb), `"version": "2.1.0"`) {
		t.Fatalf("sarif report: %.200s", sb)
	}
	// The receiver's own tag writes come back as deliveries; they must
	// create no jobs.
	r.idle(t)
	jobs, err := r.svc.Store.Jobs(context.Background(), store.JobFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].Kind != store.KindScan || jobs[0].State != store.StateDone {
		t.Fatalf("jobs %+v, want one done scan job", jobs)
	}
}

func TestFakeMLflowAPI_MaliciousVersionTaggedFailed(t *testing.T) {
	r := newRig(t, nil)
	v := r.fake.CreateVersion("churn", evilModel(t), fakemlflow.CreateOptions{Pending: 200 * time.Millisecond})
	tags := r.waitStatus(t, "churn", v, "passed", "failed", "error")
	if tags[worker.TagStatus] != "failed" || tags[worker.TagFindings] == "0" {
		t.Fatalf("tags %v, want failed with findings", tags)
	}
	res, err := r.svc.Store.GetResult(context.Background(), "churn", v, true)
	if err != nil || res == nil {
		t.Fatalf("stored result: %v %v", res, err)
	}
	if !strings.Contains(string(res.Report), "model.pkl") || !strings.Contains(string(res.Report), "posix") {
		t.Fatalf("report does not name the payload: %.400s", res.Report)
	}
}

func TestFakeMLflowAPI_ProtectedAliasOnFailedVersionRemovedAndRepointed(t *testing.T) {
	r := newRig(t, nil)
	good := r.fake.CreateVersion("churn", cleanModel(t), fakemlflow.CreateOptions{})
	r.waitStatus(t, "churn", good, "passed")
	r.fake.SetAlias("churn", "champion", good)
	r.idle(t)
	if r.fake.Alias("churn", "champion") != good {
		t.Fatalf("alias on a passing version was touched")
	}
	bad := r.fake.CreateVersion("churn", evilModel(t), fakemlflow.CreateOptions{})
	r.waitStatus(t, "churn", bad, "failed")
	r.fake.SetAlias("churn", "champion", bad)
	waitFor(t, "champion re-pointed", func() bool { return r.fake.Alias("churn", "champion") == good })
	tags := r.waitStatus(t, "churn", bad, "blocked")
	if !strings.Contains(tags[worker.TagReason], "champion") {
		t.Fatalf("reason %q does not say which alias", tags[worker.TagReason])
	}
	// An unprotected alias is left alone.
	r.fake.SetAlias("churn", "experiment", bad)
	// A protected alias with no earlier passing target is removed.
	lone := r.fake.CreateVersion("fraud", evilModel(t), fakemlflow.CreateOptions{})
	r.waitStatus(t, "fraud", lone, "failed")
	r.fake.SetAlias("fraud", "production", lone)
	waitFor(t, "production removed", func() bool { return r.fake.Alias("fraud", "production") == "" })
	r.idle(t)
	if r.fake.Alias("churn", "experiment") != bad {
		t.Fatalf("unprotected alias was changed")
	}
	if r.fake.Alias("churn", "champion") != good {
		t.Fatalf("champion moved off the passing version after the re-point")
	}
	hist, err := r.svc.Store.AliasHistory(context.Background(), "churn", "champion")
	if err != nil || len(hist) < 3 || hist[0].Version != good || hist[0].Action != "kept" {
		t.Fatalf("alias history %+v %v, want version %s kept last", hist, err, good)
	}
	repointed := false
	for _, e := range hist {
		repointed = repointed || (e.Version == bad && e.Action == "repointed")
	}
	if !repointed {
		t.Fatalf("alias history %+v has no re-point away from version %s", hist, bad)
	}
}

func TestFakeMLflowAPI_AliasSetBeforeScanFinishes(t *testing.T) {
	r := newRig(t, nil)
	bad := r.fake.CreateVersion("churn", evilModel(t), fakemlflow.CreateOptions{Pending: 500 * time.Millisecond})
	r.fake.SetAlias("churn", "production", bad)
	waitFor(t, "production removed", func() bool { return r.fake.Alias("churn", "production") == "" })
	r.waitStatus(t, "churn", bad, "blocked")
	r.idle(t)
	if n := r.fake.Downloads("churn", bad, "model.pkl"); n != 1 {
		t.Fatalf("model.pkl downloaded %d times, want once", n)
	}
}

func postDatabricks(t *testing.T, url string, secret []byte, ev map[string]any) int {
	t.Helper()
	b, _ := json.Marshal(ev)
	req, _ := http.NewRequest(http.MethodPost, url+"/webhooks/databricks", strings.NewReader(string(b)))
	req.Header.Set(webhook.HeaderDatabricks, webhook.SignDatabricks(secret, b))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestFakeDatabricksAPI_TransitionRequestRejectedAndStageMovedBack runs
// against fakemlflow's Databricks routes, a FAKE of the documented
// workspace-registry contract (integration-contracts.md §1.6: flat signed
// payloads; POST /api/2.0/mlflow/transition-requests/reject {name, version,
// stage, comment} answering an activity, as Databricks' REST reference has
// it; transition-stage), not of a real workspace: none runs here.
func TestFakeDatabricksAPI_TransitionRequestRejectedAndStageMovedBack(t *testing.T) {
	r := newRig(t, nil)
	r.fake.SendWebhooks("", nil) // a Databricks workspace sends only its own webhooks
	bad := r.fake.CreateVersion("airline", evilModel(t), fakemlflow.CreateOptions{})
	good := r.fake.CreateVersion("airline", cleanModel(t), fakemlflow.CreateOptions{})
	secret := []byte("databricks-secret")
	for _, v := range []string{bad, good} {
		code := postDatabricks(t, r.recv.URL, secret, map[string]any{"event": "TRANSITION_REQUEST_CREATED", "webhook_id": "c5596721",
			"event_timestamp": time.Now().UnixMilli(), "model_name": "airline", "version": v, "to_stage": "Production", "from_stage": "None",
			"text": "transition request"})
		if code != http.StatusAccepted {
			t.Fatalf("transition request delivery: %d", code)
		}
	}
	waitFor(t, "a rejection", func() bool { return len(r.fake.Rejections()) > 0 })
	r.idle(t)
	rej := r.fake.Rejections()
	if len(rej) != 1 || rej[0].Version != bad || rej[0].Stage != "Production" || !strings.Contains(rej[0].Comment, "failed") {
		t.Fatalf("rejections %+v, want only version %s's request rejected", rej, bad)
	}
	if r.tags(t, "airline", good)[worker.TagStatus] != "passed" {
		t.Fatalf("good version not tagged passed")
	}
	// A failed version moved to Production anyway is moved back.
	r.fake.SetStage("airline", bad, "Production")
	code := postDatabricks(t, r.recv.URL, secret, map[string]any{"event": "MODEL_VERSION_TRANSITIONED_STAGE", "webhook_id": "c5596721",
		"event_timestamp": time.Now().UnixMilli(), "model_name": "airline", "version": bad, "to_stage": "Production", "from_stage": "Staging"})
	if code != http.StatusAccepted {
		t.Fatalf("transition delivery: %d", code)
	}
	waitFor(t, "stage moved back", func() bool {
		_, stage, _ := r.fake.Get("airline", bad)
		return stage == "Staging"
	})
	// A bad Databricks signature is refused.
	if code := postDatabricks(t, r.recv.URL, []byte("wrong"), map[string]any{"event": "MODEL_VERSION_CREATED",
		"event_timestamp": time.Now().UnixMilli(), "model_name": "airline", "version": good}); code != http.StatusUnauthorized {
		t.Fatalf("bad signature: %d", code)
	}
}

func TestFakeMLflowAPI_ReconcilePicksUpLostDelivery(t *testing.T) {
	r := newRig(t, nil)
	seen := r.fake.CreateVersion("churn", cleanModel(t), fakemlflow.CreateOptions{})
	r.waitStatus(t, "churn", seen, "passed")
	lost := r.fake.CreateVersion("churn", evilModel(t), fakemlflow.CreateOptions{Silent: true})
	lostClean := r.fake.CreateVersion("other", cleanModel(t), fakemlflow.CreateOptions{Silent: true})
	r.idle(t)
	if tags := r.tags(t, "churn", lost); tags[worker.TagStatus] != "" {
		t.Fatalf("a version without a delivery got tags %v", tags)
	}
	st, err := r.svc.Reconcile(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if st.Versions != 3 || st.Queued != 2 {
		t.Fatalf("reconcile %+v, want 3 versions seen and 2 queued", st)
	}
	r.waitStatus(t, "churn", lost, "failed")
	r.waitStatus(t, "other", lostClean, "passed")
	r.idle(t)
	if n := r.fake.Downloads("churn", seen, "model.pkl"); n != 1 {
		t.Fatalf("an already-scanned version was scanned again (%d downloads)", n)
	}
	st, err = r.svc.Reconcile(context.Background(), false)
	if err != nil || st.Queued != 0 {
		t.Fatalf("second reconcile %+v %v, want nothing queued", st, err)
	}
}

func TestFakeMLflowAPI_VerifyFailsAfterArtifactChanged(t *testing.T) {
	r := newRig(t, nil)
	v := r.fake.CreateVersion("churn", cleanModel(t), fakemlflow.CreateOptions{})
	r.waitStatus(t, "churn", v, "passed")
	r.fake.SetAlias("churn", "champion", v)
	r.idle(t)
	ctx := context.Background()
	for _, uri := range []string{"models:/churn@champion", "models:/churn/" + v} {
		ref, err := mlflowplugin.ParseModelRef(uri)
		if err != nil {
			t.Fatal(err)
		}
		verdict, err := mlflowplugin.Verify(ctx, r.svc.Client, ref, nil)
		if err != nil || !verdict.Passed {
			t.Fatalf("%s: %+v %v, want passed", uri, verdict, err)
		}
	}
	r.fake.ReplaceFile("churn", v, "model.pkl", fixture(t, "malicious/posix_system_reduce_p2.pkl"))
	ref, _ := mlflowplugin.ParseModelRef("models:/churn@champion")
	verdict, err := mlflowplugin.Verify(ctx, r.svc.Client, ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	if verdict.Passed || !strings.Contains(verdict.Reason, "changed") {
		t.Fatalf("verdict %+v, want failed because the artifacts changed", verdict)
	}
	bad := r.fake.CreateVersion("churn", evilModel(t), fakemlflow.CreateOptions{})
	r.waitStatus(t, "churn", bad, "failed")
	verdict, err = mlflowplugin.Verify(ctx, r.svc.Client, mlflowplugin.ModelRef{Name: "churn", Version: bad}, nil)
	if err != nil || verdict.Passed || !strings.Contains(verdict.Reason, "failed") {
		t.Fatalf("failed version verdict %+v %v", verdict, err)
	}
}

func TestFakeMLflowAPI_ForgedStatusTagPutBack(t *testing.T) {
	r := newRig(t, nil)
	v := r.fake.CreateVersion("churn", evilModel(t), fakemlflow.CreateOptions{})
	r.waitStatus(t, "churn", v, "failed")
	r.idle(t)
	r.fake.UserSetTag("churn", v, worker.TagStatus, "passed")
	waitFor(t, "status put back", func() bool { return r.tags(t, "churn", v)[worker.TagStatus] == "failed" })
	r.idle(t)
	if got := r.tags(t, "churn", v)[worker.TagStatus]; got != "failed" {
		t.Fatalf("status %q after the forged tag", got)
	}
}

func TestFakeMLflowAPI_RetriesTransientErrors(t *testing.T) {
	r := newRig(t, nil)
	r.fake.FailNext(3)
	v := r.fake.CreateVersion("churn", cleanModel(t), fakemlflow.CreateOptions{})
	r.waitStatus(t, "churn", v, "passed")
}

func TestParseModelRef(t *testing.T) {
	cases := []struct {
		in   string
		want mlflowplugin.ModelRef
		ok   bool
	}{
		{"models:/churn@champion", mlflowplugin.ModelRef{Name: "churn", Alias: "champion"}, true},
		{"models:/churn/3", mlflowplugin.ModelRef{Name: "churn", Version: "3"}, true},
		{"models:/cat.schema.model/12", mlflowplugin.ModelRef{Name: "cat.schema.model", Version: "12"}, true},
		{"models:/churn", mlflowplugin.ModelRef{}, false},
		{"models:/churn/latest", mlflowplugin.ModelRef{}, false},
		{"runs:/abc/model", mlflowplugin.ModelRef{}, false},
		{"models:/@x", mlflowplugin.ModelRef{}, false},
	}
	for _, c := range cases {
		got, err := mlflowplugin.ParseModelRef(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%s: got %+v %v", c.in, got, err)
		}
	}
}
