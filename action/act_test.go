package action

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests run examples/github/modelgate.yml with a real runner:
// nektos/act in host mode (no Docker), loopback only (--no-cache-server,
// no artifact server). The workflow uses this action as `uses: ./`, so act
// runs action.yml, install.sh builds modelgate-full from the copied source, and
// `modelgate action` gates the job. .ci/install-act.sh installs act.

// actEvent is one line of `act --json`.
type actEvent struct {
	Msg           string            `json:"msg"`
	Command       string            `json:"command"`
	Arg           string            `json:"arg"`
	Content       string            `json:"content"`
	Name          string            `json:"name"`
	KV            map[string]string `json:"kvPairs"`
	StepID        []string          `json:"stepID"`
	StepResult    string            `json:"stepResult"`
	ExecutionTime int64             `json:"executionTime"`
	JobResult     string            `json:"jobResult"`
	RawOutput     bool              `json:"raw_output"`
}

func actBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MODELGATE_ACT"); p != "" {
		return p
	}
	if p, err := exec.LookPath("act"); err == nil {
		return p
	}
	t.Skip("SKIPPED: nektos/act is not installed (.ci/install-act.sh builds it; or set MODELGATE_ACT)")
	return ""
}

// sourceRoots are what `go build ./cmd/modelgate-full` (install.sh) and action.yml need;
// TestSourceRootsCoverTheBinary keeps the list in step with the imports.
var sourceRoots = []string{"action.yml", "go.mod", "go.sum", "action", "cmd", "core", "gitlab", "hooks", "internal", "mlflowplugin", "sdk"}

// TestSourceRootsCoverTheBinary: every package the binary links from this
// module lies under one of sourceRoots, or the act runs would build from an
// incomplete copy.
func TestSourceRootsCoverTheBinary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.Module}} {{.ImportPath}}", "../cmd/modelgate-full").Output()
	if err != nil {
		t.Skipf("SKIPPED: go list: %v", err)
	}
	const mod = "github.com/modelgate/modelgate"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m, pkg, _ := strings.Cut(line, " ")
		if m != mod {
			continue
		}
		top := strings.SplitN(strings.TrimPrefix(pkg, mod+"/"), "/", 2)[0]
		if !slices.Contains(sourceRoots, top) {
			t.Errorf("%s is not under sourceRoots %v", pkg, sourceRoots)
		}
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	for _, root := range sourceRoots {
		err := filepath.WalkDir(filepath.Join(from, root), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "testdata" {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(p, "_test.go") {
				return nil
			}
			rel, _ := filepath.Rel(from, p)
			return copyFile(p, filepath.Join(to, rel))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	st, err := os.Stat(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, data, st.Mode().Perm())
}

type actRepo struct {
	t   *testing.T
	dir string
}

func newActRepo(t *testing.T) *actRepo {
	t.Helper()
	r := &actRepo{t: t, dir: t.TempDir()}
	copyTree(t, "..", r.dir)
	if err := copyFile(filepath.Join("..", "examples", "github", "modelgate.yml"), filepath.Join(r.dir, ".github", "workflows", "modelgate.yml")); err != nil {
		t.Fatal(err)
	}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *actRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = r.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *actRepo) model(fixture, as string) {
	r.t.Helper()
	if err := copyFile(filepath.Join("..", "test", "fixtures", fixture), filepath.Join(r.dir, filepath.FromSlash(as))); err != nil {
		r.t.Fatal(err)
	}
}

func (r *actRepo) commit(msg string) string {
	r.git("add", "-A")
	r.git("commit", "-qm", msg)
	return r.git("rev-parse", "HEAD")
}

type actRun struct {
	events []actEvent
	err    error
	stderr string
}

// run runs one job of the workflow for one event.
func (r *actRepo) run(act, cache, event, job, payload string) actRun {
	r.t.Helper()
	home := filepath.Join(cache, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		r.t.Fatal(err)
	}
	args := []string{event, "-W", ".github/workflows/modelgate.yml", "-j", job, "-P", "ubuntu-latest=-self-hosted",
		"--no-cache-server", "--action-cache-path", filepath.Join(cache, "actions"), "--json"}
	if payload != "" {
		p := filepath.Join(r.t.TempDir(), "event.json")
		if err := os.WriteFile(p, []byte(payload), 0o644); err != nil {
			r.t.Fatal(err)
		}
		args = append(args, "-e", p)
	}
	cmd := exec.Command(act, args...)
	cmd.Dir = r.dir
	env := []string{"HOME=" + home}
	for _, kv := range os.Environ() {
		// The test may itself run in GitHub Actions; act sets its own.
		if !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "GITHUB_") && !strings.HasPrefix(kv, "RUNNER_") && !strings.HasPrefix(kv, "INPUT_") {
			env = append(env, kv)
		}
	}
	for _, k := range []string{"GOCACHE", "GOMODCACHE"} {
		if out, err := exec.Command("go", "env", k).Output(); err == nil {
			env = append(env, k+"="+strings.TrimSpace(string(out)))
		}
	}
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var run actRun
	run.err, run.stderr = err, stderr.String()
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev actEvent
		if json.Unmarshal(sc.Bytes(), &ev) == nil {
			run.events = append(run.events, ev)
		}
	}
	return run
}

func (a actRun) jobResult() string {
	for _, ev := range a.events {
		if ev.JobResult != "" {
			return ev.JobResult
		}
	}
	return ""
}

func (a actRun) commands(kind string) []actEvent {
	var out []actEvent
	for _, ev := range a.events {
		if ev.Command == kind {
			out = append(out, ev)
		}
	}
	return out
}

// line returns the first raw log line starting with prefix.
func (a actRun) line(prefix string) string {
	for _, ev := range a.events {
		if ev.RawOutput && strings.HasPrefix(ev.Msg, prefix) {
			return strings.TrimSpace(ev.Msg)
		}
	}
	return ""
}

func (a actRun) step(id ...string) (actEvent, bool) {
	for _, ev := range a.events {
		if ev.StepResult != "" && strings.Join(ev.StepID, "/") == strings.Join(id, "/") {
			return ev, true
		}
	}
	return actEvent{}, false
}

func (a actRun) dump() string {
	var b strings.Builder
	for _, ev := range a.events {
		fmt.Fprintln(&b, strings.TrimRight(ev.Msg, "\n"))
	}
	return b.String() + "\nstderr:\n" + a.stderr
}

var scanTime = regexp.MustCompile(`^modelgate: scanned \d+ file\(s\) in (\d+) ms`)

func TestActHostMode(t *testing.T) {
	act := actBinary(t)
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("SKIPPED: git is not installed")
	}
	// One action cache for all runs: the first builds modelgate into its
	// tool cache, the others find it there.
	cache := t.TempDir()

	t.Run("malicious and clean model: the job fails", func(t *testing.T) {
		r := newActRepo(t)
		r.model(evilFixture, "models/evil.pkl")
		r.model(cleanFixture, "models/clean.pkl")
		r.commit("models")
		run := r.run(act, cache, "push", "gate", "")
		if run.err == nil || run.jobResult() != "failure" {
			t.Fatalf("act: %v, job %q; want a failed job\n%s", run.err, run.jobResult(), run.dump())
		}
		errs := run.commands("error")
		if len(errs) != 1 || errs[0].KV["file"] != "models/evil.pkl" || errs[0].KV["line"] != "1" ||
			!strings.HasPrefix(errs[0].KV["title"], "MG101") || !strings.Contains(errs[0].Arg, "posix.system") {
			t.Errorf("error annotations %+v\n%s", errs, run.dump())
		}
		notices := run.commands("notice")
		if len(notices) != 1 || !strings.Contains(notices[0].Arg, "SARIF not uploaded: there is no token") {
			t.Errorf("notices %+v", notices)
		}
		sums := run.commands("summary")
		if len(sums) == 0 || !strings.Contains(sums[0].Content, "### Blocked files") || !strings.Contains(sums[0].Content, "`models/evil.pkl` | critical | MG101") ||
			strings.Contains(sums[0].Content, "clean.pkl") {
			t.Errorf("summary events %+v", sums)
		}
		if got, want := run.line("modelgate-outputs"), "modelgate-outputs verdict=fail findings=1 critical=1 not-scanned=0 exit-code=1 sarif=modelgate.sarif"; got != want {
			t.Errorf("outputs line %q, want %q", got, want)
		}
	})

	t.Run("clean model only: the job passes", func(t *testing.T) {
		r := newActRepo(t)
		r.model(cleanFixture, "models/clean.pkl")
		r.commit("models")
		run := r.run(act, cache, "push", "gate", "")
		if run.err != nil || run.jobResult() != "success" {
			t.Fatalf("act: %v, job %q\n%s", run.err, run.jobResult(), run.dump())
		}
		if n := len(run.commands("error")) + len(run.commands("warning")); n != 0 {
			t.Errorf("%d annotations", n)
		}
		if got := run.line("modelgate-outputs"); got != "modelgate-outputs verdict=pass findings=0 critical=0 not-scanned=0 exit-code=0 sarif=modelgate.sarif" {
			t.Errorf("outputs line %q", got)
		}
		if s := run.commands("summary"); len(s) == 0 || !strings.Contains(s[0].Content, "✅ modelgate passed") {
			t.Errorf("summary %+v", s)
		}
	})

	// The base already holds a malicious file (not this change's doing);
	// the change adds a clean one: changed-only scans that one alone.
	changed := func(t *testing.T) (*actRepo, string, string) {
		r := newActRepo(t)
		r.model(evilFixture, "models/old-evil.pkl")
		r.model(cleanFixture, "models/clean.pkl")
		base := r.commit("base")
		r.model(cleanFixture, "models/new.pkl")
		head := r.commit("add a model")
		return r, base, head
	}
	checkChanged := func(t *testing.T, run actRun) {
		if run.err != nil || run.jobResult() != "success" {
			t.Fatalf("act: %v, job %q\n%s", run.err, run.jobResult(), run.dump())
		}
		if got := run.line("modelgate-scanned"); got != `modelgate-scanned "path": "models/new.pkl"` {
			t.Errorf("scanned %q, want only models/new.pkl\n%s", got, run.dump())
		}
	}
	t.Run("changed-only on push scans only the changed file", func(t *testing.T) {
		r, base, head := changed(t)
		checkChanged(t, r.run(act, cache, "push", "changed-only", fmt.Sprintf(`{"ref": "refs/heads/main", "before": %q, "after": %q}`, base, head)))
	})
	t.Run("changed-only on pull_request scans only the changed file", func(t *testing.T) {
		r, base, head := changed(t)
		checkChanged(t, r.run(act, cache, "pull_request", "changed-only", fmt.Sprintf(`{"number": 3, "pull_request": {"number": 3,
			"base": {"sha": %q, "ref": "main", "repo": {"full_name": "octo/models"}},
			"head": {"sha": %q, "ref": "feature", "repo": {"full_name": "octo/models"}}}}`, base, head)))
	})

	// With the binary cached, what the action adds beyond the scan: the
	// whole install step plus the scan step minus the scan itself.
	t.Run("overhead with the binary cached", func(t *testing.T) {
		r := newActRepo(t)
		r.model(evilFixture, "models/evil.pkl")
		r.model(cleanFixture, "models/clean.pkl")
		r.commit("models")
		// Warm up: builds the binary into the tool cache when this
		// subtest runs alone.
		if run := r.run(act, cache, "push", "gate", ""); run.jobResult() != "failure" {
			t.Fatalf("warm-up run: job %q\n%s", run.jobResult(), run.dump())
		}
		var samples []time.Duration
		for range 3 {
			run := r.run(act, cache, "push", "gate", "")
			install, ok1 := run.step("modelgate", "install")
			scanStep, ok2 := run.step("modelgate", "scan")
			m := scanTime.FindStringSubmatch(run.line("modelgate: scanned"))
			if !ok1 || !ok2 || m == nil {
				t.Fatalf("steps or scan time missing\n%s", run.dump())
			}
			ms, _ := strconv.Atoi(m[1])
			samples = append(samples, time.Duration(install.ExecutionTime+scanStep.ExecutionTime)-time.Duration(ms)*time.Millisecond)
			t.Logf("install step %v, scan step %v, scan itself %d ms", time.Duration(install.ExecutionTime), time.Duration(scanStep.ExecutionTime), ms)
		}
		worst := samples[0]
		for _, s := range samples {
			worst = max(worst, s)
		}
		t.Logf("ACT OVERHEAD (binary cached) beyond the scan: %v (worst of %v)", worst, samples)
	})
}
