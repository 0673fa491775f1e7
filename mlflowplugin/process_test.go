package mlflowplugin_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelgate/modelgate/mlflowplugin/store"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// modelgateBinary builds the real command once per test run.
func modelgateBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "modelgate-bin-")
		if err != nil {
			buildErr = err
			return
		}
		// Both binaries, side by side as they are installed: the tests
		// run `modelgate mlflow ...`, which execs modelgate-mlflow in its
		// place (so signals, SIGKILL included, reach the receiver).
		binPath = filepath.Join(dir, "modelgate")
		out, err := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "github.com/modelgate/modelgate/cmd/modelgate", "github.com/modelgate/modelgate/cmd/modelgate-mlflow").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// receiver is a `modelgate mlflow serve` process.
type receiver struct {
	cmd    *exec.Cmd
	addr   string
	stderr *bytes.Buffer
	done   chan error
}

func startReceiver(t *testing.T, trackingURI, db string, extra ...string) *receiver {
	t.Helper()
	addr := freeAddr(t)
	args := append([]string{"mlflow", "serve", "--listen", addr, "--db", db, "--log-format", "json",
		"--reconcile-interval", "0", "--protected-alias", "champion", "--public-url", "http://" + addr}, extra...)
	cmd := exec.Command(modelgateBinary(t), args...)
	cmd.Env = append(os.Environ(), "MLFLOW_TRACKING_URI="+trackingURI, "MODELGATE_MLFLOW_WEBHOOK_SECRET="+testSecret)
	var stderr bytes.Buffer
	cmd.Stderr = &syncWriter{w: &stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &receiver{cmd: cmd, addr: addr, stderr: &stderr, done: make(chan error, 1)}
	go func() { r.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-r.done
		}
		if t.Failed() {
			t.Logf("receiver %s log:\n%s", addr, lastBytes(stderr.String(), 4000))
		}
	})
	scheme, client := "http", http.DefaultClient
	for _, a := range extra {
		if a == "--tls-cert" {
			scheme = "https"
			client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get(scheme + "://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("receiver did not come up: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (r *receiver) kill(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-r.done
}

func (r *receiver) stop(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("receiver exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("receiver did not stop after SIGTERM")
	}
}

// listJobs runs `modelgate mlflow jobs --format json`.
func listJobs(t *testing.T, db string) []store.Job {
	t.Helper()
	out, err := exec.Command(modelgateBinary(t), "mlflow", "jobs", "--format", "json", "--limit", "0", "--db", db).Output()
	if err != nil {
		t.Fatalf("mlflow jobs: %v", err)
	}
	var jobs []store.Job
	if err := json.Unmarshal(out, &jobs); err != nil {
		t.Fatalf("mlflow jobs output: %v\n%s", err, out)
	}
	return jobs
}
