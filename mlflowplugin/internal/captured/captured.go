// Package captured loads the real MLflow webhook deliveries captured from
// an MLflow 3.6 server (../shared/reference/mlflow-deliveries.txt beside
// the repository), for tests.
package captured

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Secret is the webhook secret of the captured deliveries (given in the file).
const Secret = "s3cr3t-for-test"

// Delivery is one captured request.
type Delivery struct {
	Name   string
	Header http.Header
	Body   []byte
}

// Redacted says whether the capture file edited the body after it was
// signed: delivery 2's source path was shortened to "$SCRATCH/...", so its
// body no longer matches its Content-Length and its signature no longer
// verifies.
func (d Delivery) Redacted() bool {
	n, _ := strconv.Atoi(d.Header.Get("Content-Length"))
	return n != len(d.Body)
}

// Timestamp is the X-MLflow-Timestamp value.
func (d Delivery) Timestamp() int64 {
	n, _ := strconv.ParseInt(d.Header.Get("X-MLflow-Timestamp"), 10, 64)
	return n
}

// SharedFile finds shared/<rel> beside the repository (or any ancestor of
// the working directory).
func SharedFile(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("shared/%s not found beside the repository", rel)
		}
		dir = parent
	}
}

// Load parses the five captured deliveries.
func Load(t testing.TB) []Delivery {
	t.Helper()
	f, err := os.Open(SharedFile(t, "reference/mlflow-deliveries.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Delivery
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur *Delivery
	state := 0 // 0 outside, 1 request line, 2 headers, 3 body line
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "===== delivery"):
			out = append(out, Delivery{Name: line, Header: http.Header{}})
			cur = &out[len(out)-1]
			state = 1
		case state == 1 && strings.HasPrefix(line, "POST "):
			state = 2
		case state == 2 && line == "":
			state = 3
		case state == 2:
			if k, v, ok := strings.Cut(line, ": "); ok {
				cur.Header.Add(k, v)
			}
		case state == 3:
			cur.Body = []byte(line)
			state = 0
		}
	}
	if len(out) != 5 {
		t.Fatalf("parsed %d captured deliveries, want 5", len(out))
	}
	return out
}
