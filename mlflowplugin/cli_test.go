package mlflowplugin_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/mlflowplugin/fakemlflow"
	"github.com/modelgate/modelgate/mlflowplugin/store"
	"github.com/modelgate/modelgate/mlflowplugin/worker"
)

func runCLI(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(modelgateBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), 0
}

func TestFakeMLflowAPI_CLIVerifyExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	r := newRig(t, nil)
	good := r.fake.CreateVersion("churn", cleanModel(t), fakemlflow.CreateOptions{})
	r.waitStatus(t, "churn", good, "passed")
	r.fake.SetAlias("churn", "champion", good)
	bad := r.fake.CreateVersion("churn", evilModel(t), fakemlflow.CreateOptions{})
	r.waitStatus(t, "churn", bad, "failed")
	never := r.fake.CreateVersion("quiet", cleanModel(t), fakemlflow.CreateOptions{Silent: true})
	r.idle(t)
	env := []string{"MLFLOW_TRACKING_URI=" + r.fake.URL}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"models:/churn@champion"}, 0, "PASS models:/churn/" + good},
		{[]string{"models:/churn/" + bad}, 1, "scan status is failed"},
		{[]string{"models:/quiet/" + never}, 1, "never scanned"},
		{[]string{"models:/churn@nosuch"}, 1, "cannot check"},
		{[]string{"runs:/abc/model"}, 2, "not models:/"},
	}
	for _, c := range cases {
		out, code := runCLI(t, env, append([]string{"mlflow", "verify"}, c.args...)...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("verify %v: exit %d %q, want %d and %q", c.args, code, out, c.code, c.want)
		}
	}
	r.fake.ReplaceFile("churn", good, "requirements.txt", []byte("mlflow==2.9.2\nevil-package==6.6.6\n"))
	out, code := runCLI(t, env, "mlflow", "verify", "--format", "json", "models:/churn@champion")
	var v struct {
		Passed bool   `json:"passed"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 1 || v.Passed || !strings.Contains(v.Reason, "changed") {
		t.Fatalf("verify after a change: exit %d %s", code, out)
	}
	if _, code := runCLI(t, nil, "mlflow", "verify", "models:/churn@champion"); code != 2 {
		t.Fatalf("verify without MLFLOW_TRACKING_URI: exit %d, want 2", code)
	}
}

func TestFakeMLflowAPI_CLIRegisterWebhookAndReconcile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	fake := fakemlflow.New()
	defer fake.Close()
	env := []string{"MLFLOW_TRACKING_URI=" + fake.URL, "MODELGATE_MLFLOW_WEBHOOK_SECRET=" + testSecret}
	out, code := runCLI(t, env, "mlflow", "register-webhook", "--url", "https://gate.example/webhooks/mlflow")
	if code != 0 {
		t.Fatalf("register-webhook: %d %s", code, out)
	}
	hooks := fake.Webhooks()
	if len(hooks) != 1 || hooks[0]["url"] != "https://gate.example/webhooks/mlflow" || strings.Contains(out, testSecret) {
		t.Fatalf("webhooks %v, output %q", hooks, out)
	}
	evs, _ := json.Marshal(hooks[0]["events"])
	if !strings.Contains(string(evs), `{"action":"CREATED","entity":"MODEL_VERSION"}`) {
		t.Fatalf("events on the wire: %s (want upper-case enum names)", evs)
	}
	// A lost delivery, found by `reconcile` run once from the command line.
	v := fake.CreateVersion("churn", evilModel(t), fakemlflow.CreateOptions{Silent: true})
	db := filepath.Join(t.TempDir(), "state.db")
	out, code = runCLI(t, env, "mlflow", "reconcile", "--db", db)
	if code != 0 || !strings.Contains(out, "1 jobs queued") || !strings.Contains(out, "0 failed jobs") {
		t.Fatalf("reconcile: %d %s", code, out)
	}
	if tags, _, _ := fake.Get("churn", v); tags[worker.TagStatus] != "failed" {
		t.Fatalf("after reconcile: %v", tags)
	}
	out, code = runCLI(t, env, "mlflow", "audit", "--db", db, "--model", "churn")
	if code != 0 || !strings.Contains(out, "1 jobs queued") || fake.Downloads("churn", v, "model.pkl") != 2 {
		t.Fatalf("audit: %d %s (downloads %d)", code, out, fake.Downloads("churn", v, "model.pkl"))
	}
	out, code = runCLI(t, nil, "mlflow", "jobs", "--db", db)
	if code != 0 || !strings.Contains(out, "ID  STATE") || strings.Count(out, "done") != 2 {
		t.Fatalf("jobs: %d\n%s", code, out)
	}
}

// TestFakeMLflowAPI_GracefulShutdownReleasesJobs: SIGTERM with scans
// running; the grace runs out, the running jobs go back to the queue
// (their attempt not counted) and the next start finishes them.
func TestFakeMLflowAPI_GracefulShutdownReleasesJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	fake := fakemlflow.New()
	defer fake.Close()
	fake.DownloadDelay = 400 * time.Millisecond
	db := filepath.Join(t.TempDir(), "state.db")
	r1 := startReceiver(t, fake.URL, db, "--workers", "2", "--shutdown-grace", "50ms")
	fake.SendWebhooks("http://"+r1.addr+"/webhooks/mlflow", []byte(testSecret))
	var versions []string
	for i := 0; i < 4; i++ {
		versions = append(versions, fake.CreateVersion("g", cleanModel(t), fakemlflow.CreateOptions{}))
	}
	fake.WaitDeliveries()
	waitFor(t, "a download in flight", func() bool { return fake.InFlightDownloads() > 0 })
	r1.stop(t)
	released := 0
	for _, j := range listJobs(t, db) {
		if j.State == store.StateRunning {
			t.Fatalf("job %d still running after a graceful stop", j.ID)
		}
		if j.State == store.StateQueued && j.LastError == "released at shutdown" {
			released++
		}
	}
	if released == 0 {
		t.Fatal("no running job was released at shutdown")
	}
	r2 := startReceiver(t, fake.URL, db, "--workers", "2")
	fake.SendWebhooks("http://"+r2.addr+"/webhooks/mlflow", []byte(testSecret))
	for _, v := range versions {
		waitFor(t, "version "+v+" tagged", func() bool {
			tags, _, _ := fake.Get("g", v)
			return tags[worker.TagStatus] == "passed"
		})
	}
	r2.stop(t)
	for _, j := range listJobs(t, db) {
		if j.State != store.StateDone || j.Attempts != 1 {
			t.Errorf("job %d: %s after %d attempts, want done after 1 (a release is not an attempt)", j.ID, j.State, j.Attempts)
		}
	}
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestFakeMLflowAPI_ServeTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	fake := fakemlflow.New()
	defer fake.Close()
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	r := startReceiver(t, fake.URL, filepath.Join(dir, "state.db"), "--tls-cert", certFile, "--tls-key", keyFile)
	v := fake.CreateVersion("tls", cleanModel(t), fakemlflow.CreateOptions{Silent: true})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	d := signedDelivery("tls-1", versionCreated("tls", v))
	code, err := d.post(client, "https://"+r.addr+"/webhooks/mlflow")
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("https delivery: %d %v", code, err)
	}
	waitFor(t, "the version tagged", func() bool {
		tags, _, _ := fake.Get("tls", v)
		return tags[worker.TagStatus] == "passed"
	})
	r.stop(t)
}
