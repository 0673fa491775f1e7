package test

// End-to-end tests of the commit stage with the real clients: git, git-lfs
// and the pre-commit framework, driving the modelgate binary built from this
// checkout.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

const (
	evilFixture  = "fixtures/malicious/posix_system_reduce_p2.pkl"
	cleanFixture = "fixtures/benign/sklearn_logreg.pkl"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// modelgateBinary builds cmd/modelgate once per test run, with
// cmd/modelgate-full beside it as every distribution lays them out, so that
// runs needing plugins or signatures go through the real hand-off.
func modelgateBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "modelgate-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "modelgate")
		out, err := exec.Command(goTool(), "build", "-o", dir+string(filepath.Separator), "../cmd/modelgate", "../cmd/modelgate-full").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// goTool finds the go command: on PATH, else where .ci/run and the README
// install it.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

// gitEnv is an environment isolated from the user's git configuration and
// from any git process that runs these tests (say, from a hook).
func gitEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com",
	)
}

// gitRepo is a throwaway repository with a working tree.
type gitRepo struct {
	t    *testing.T
	dir  string
	home string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is required: %v", err)
	}
	root := t.TempDir()
	r := &gitRepo{t: t, dir: filepath.Join(root, "repo"), home: filepath.Join(root, "home")}
	for _, d := range []string{r.dir, r.home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.git("init", "-q", "-b", "main")
	return r
}

// run runs a command in the repository and returns its combined output and
// exit code.
func (r *gitRepo) run(name string, args ...string) (string, int) {
	r.t.Helper()
	return r.runIn(r.dir, nil, name, args...)
}

func (r *gitRepo) runIn(dir string, extraEnv []string, name string, args ...string) (string, int) {
	r.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(gitEnv(r.home), extraEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatalf("%s %v: %v", name, args, err)
	}
	return out.String(), code
}

// git runs git and fails the test if it fails.
func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	out, code := r.run("git", args...)
	if code != 0 {
		r.t.Fatalf("git %v: exit %d\n%s", args, code, out)
	}
	return out
}

func (r *gitRepo) write(name string, data []byte) {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *gitRepo) commits() int {
	r.t.Helper()
	out, code := r.run("git", "rev-list", "--count", "HEAD")
	if code != 0 {
		return 0 // unborn branch
	}
	var n int
	fmt.Sscan(out, &n)
	return n
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonScan runs modelgate with --format json and decodes the report.
func (r *gitRepo) jsonScan(args ...string) (jsonReport, int, string) {
	r.t.Helper()
	out, code := r.runIn(r.dir, nil, modelgateBinary(r.t), append([]string{"scan", "--format", "json", "-o", "report.json"}, args...)...)
	data, err := os.ReadFile(filepath.Join(r.dir, "report.json"))
	if err != nil {
		r.t.Fatalf("no report (exit %d): %v\n%s", code, err, out)
	}
	os.Remove(filepath.Join(r.dir, "report.json"))
	var rep jsonReport
	if err := json.Unmarshal(data, &rep); err != nil {
		r.t.Fatalf("decode report: %v\n%s", err, data)
	}
	return rep, code, out
}

type jsonReport struct {
	ExitCode int `json:"exit_code"`
	Files    []struct {
		Path     string   `json:"path"`
		Status   string   `json:"status"`
		Formats  []string `json:"formats"`
		Findings []struct {
			RuleID string `json:"rule_id"`
		} `json:"findings"`
		Unscanned []struct {
			RuleID    string `json:"rule_id"`
			ModelLike bool   `json:"model_like"`
		} `json:"unscanned"`
	} `json:"files"`
}

func (j jsonReport) paths() []string {
	var out []string
	for _, f := range j.Files {
		out = append(out, f.Path)
	}
	return out
}

func (j jsonReport) rules(path string) (found, unscanned []string) {
	for _, f := range j.Files {
		if f.Path != path {
			continue
		}
		for _, fd := range f.Findings {
			found = append(found, fd.RuleID)
		}
		for _, u := range f.Unscanned {
			unscanned = append(unscanned, u.RuleID)
		}
	}
	return found, unscanned
}

// Cases 1-3: the native hook lets a clean commit through, blocks a staged
// malicious model, and judges the index rather than the working tree.
func TestNativeHook(t *testing.T) {
	bin := modelgateBinary(t)
	r := newGitRepo(t)
	r.write("README.md", []byte("# demo\n"))
	r.write("models/clf.pkl", readFixture(t, cleanFixture))
	if out, code := r.run(bin, "hook", "install"); code != 0 {
		t.Fatalf("hook install: exit %d\n%s", code, out)
	}

	// (1) A clean first commit, in a repository with no commits yet.
	r.git("add", ".")
	out, code := r.run("git", "commit", "-m", "clean")
	if code != 0 || r.commits() != 1 {
		t.Fatalf("clean commit rejected (exit %d):\n%s", code, out)
	}
	if !strings.Contains(out, "model file(s) checked") {
		t.Errorf("the hook did not report scanning the staged model:\n%s", out)
	}

	// (2) A malicious model staged: the commit is rejected and the message
	// names the file, the rule, the fix and how to suppress.
	r.write("models/evil.pkl", readFixture(t, evilFixture))
	r.git("add", "models/evil.pkl")
	out, code = r.run("git", "commit", "-m", "evil")
	if code == 0 || r.commits() != 1 {
		t.Fatalf("malicious commit went through (exit %d):\n%s", code, out)
	}
	for _, want := range []string{"blocked this commit", "models/evil.pkl", "MG101", "call: posix.system(", "fix:", "suppressions:", "reason:"} {
		if !strings.Contains(out, want) {
			t.Errorf("block message lacks %q:\n%s", want, out)
		}
	}

	// (3) Malicious in the index, clean in the working tree: still caught.
	r.write("models/evil.pkl", readFixture(t, cleanFixture))
	out, code = r.run("git", "commit", "-m", "evil, hidden by the working tree")
	if code == 0 || r.commits() != 1 || !strings.Contains(out, "models/evil.pkl") {
		t.Fatalf("index content not judged (exit %d):\n%s", code, out)
	}
	// And the other way round: a clean index passes even though the
	// working tree is malicious; --staged reads the index, not the disk.
	r.git("add", "models/evil.pkl")
	r.write("models/evil.pkl", readFixture(t, evilFixture))
	rep, code, out := r.jsonScan("--staged")
	if code != 0 {
		t.Fatalf("clean index flagged (exit %d): %+v\n%s", code, rep, out)
	}
	// git commit -a stages into a temporary index handed over in
	// GIT_INDEX_FILE; the hook must read that one.
	out, code = r.run("git", "commit", "-a", "-m", "evil via -a")
	if code == 0 || r.commits() != 1 {
		t.Fatalf("commit -a of a malicious model went through (exit %d):\n%s", code, out)
	}
}

// A merge that commits without conflicts runs pre-merge-commit, not
// pre-commit: a branch committed with --no-verify must still be stopped.
func TestNativeHookMerge(t *testing.T) {
	bin := modelgateBinary(t)
	r := newGitRepo(t)
	r.write("README.md", []byte("# demo\n"))
	r.git("add", ".")
	r.git("commit", "-q", "-m", "base")
	if out, code := r.run(bin, "hook", "install"); code != 0 {
		t.Fatalf("hook install: exit %d\n%s", code, out)
	}
	r.git("checkout", "-q", "-b", "feature")
	r.write("models/merged.pkl", readFixture(t, evilFixture))
	r.git("add", ".")
	r.git("commit", "-q", "--no-verify", "-m", "hook bypassed")
	r.git("checkout", "-q", "main")
	r.write("notes.txt", []byte("diverge\n"))
	r.git("add", ".")
	r.git("commit", "-q", "-m", "main moves on")
	out, code := r.run("git", "merge", "--no-edit", "feature")
	if code == 0 || !strings.Contains(out, "models/merged.pkl") {
		t.Fatalf("merge bringing a malicious model was not stopped (exit %d):\n%s", code, out)
	}
	if parents := strings.Fields(r.git("log", "-1", "--format=%P")); len(parents) != 1 {
		t.Errorf("a merge commit was created: parents %v", parents)
	}
}

func TestHookInstallPlacement(t *testing.T) {
	bin := modelgateBinary(t)

	t.Run("foreign hook is kept unless chained or forced", func(t *testing.T) {
		r := newGitRepo(t)
		hook := filepath.Join(r.dir, ".git", "hooks", "pre-commit")
		marker := filepath.Join(r.dir, "chained-ran")
		foreign := fmt.Sprintf("#!/bin/sh\ntouch %q\n", marker)
		if err := os.WriteFile(hook, []byte(foreign), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, code := r.run(bin, "hook", "install"); code == 0 {
			t.Fatalf("overwrote a foreign hook:\n%s", out)
		}
		if out, code := r.run(bin, "hook", "install", "--chain"); code != 0 {
			t.Fatalf("hook install --chain: exit %d\n%s", code, out)
		}
		r.write("evil.pkl", readFixture(t, evilFixture))
		r.git("add", ".")
		if _, code := r.run("git", "commit", "-m", "evil"); code == 0 {
			t.Fatal("chained install let a malicious commit through")
		}
		if _, err := os.Stat(marker); err != nil {
			t.Error("the chained hook did not run")
		}
		if out, code := r.run(bin, "hook", "uninstall"); code != 0 {
			t.Fatalf("uninstall: exit %d\n%s", code, out)
		}
		if b, _ := os.ReadFile(hook); string(b) != foreign {
			t.Errorf("uninstall did not restore the chained hook, got:\n%s", b)
		}
		if out, code := r.run(bin, "hook", "uninstall"); code == 0 {
			t.Fatalf("uninstall removed a foreign hook:\n%s", out)
		}
		if out, code := r.run(bin, "hook", "install", "--force"); code != 0 {
			t.Fatalf("install --force: exit %d\n%s", code, out)
		}
		if _, code := r.run("git", "commit", "-m", "evil"); code == 0 {
			t.Fatal("forced install let a malicious commit through")
		}
	})

	t.Run("core.hooksPath", func(t *testing.T) {
		r := newGitRepo(t)
		r.git("config", "core.hooksPath", "githooks")
		if out, code := r.run(bin, "hook", "install"); code != 0 {
			t.Fatalf("hook install: exit %d\n%s", code, out)
		}
		if _, err := os.Stat(filepath.Join(r.dir, "githooks", "pre-commit")); err != nil {
			t.Fatalf("hook not written to core.hooksPath: %v", err)
		}
		r.write("evil.pkl", readFixture(t, evilFixture))
		r.git("add", "evil.pkl")
		if out, code := r.run("git", "commit", "-m", "evil"); code == 0 || !strings.Contains(out, "MG101") {
			t.Fatalf("hook in core.hooksPath did not block (exit %d):\n%s", code, out)
		}
	})

	t.Run("linked worktree", func(t *testing.T) {
		r := newGitRepo(t)
		r.write("README.md", []byte("x\n"))
		r.git("add", ".")
		r.git("commit", "-q", "-m", "base")
		wt := filepath.Join(filepath.Dir(r.dir), "wt")
		r.git("worktree", "add", "-q", "-b", "feature", wt)
		if out, code := r.runIn(wt, nil, bin, "hook", "install"); code != 0 {
			t.Fatalf("hook install in worktree: exit %d\n%s", code, out)
		}
		if _, err := os.Stat(filepath.Join(r.dir, ".git", "hooks", "pre-commit")); err != nil {
			t.Fatalf("hook not in the common hooks dir: %v", err)
		}
		if err := os.WriteFile(filepath.Join(wt, "evil.pkl"), readFixture(t, evilFixture), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, code := r.runIn(wt, nil, "git", "add", "evil.pkl"); code != 0 {
			t.Fatal(out)
		}
		out, code := r.runIn(wt, nil, "git", "commit", "-m", "evil")
		if code == 0 || !strings.Contains(out, "evil.pkl") {
			t.Fatalf("hook in a linked worktree did not block (exit %d):\n%s", code, out)
		}
	})
}

// Case 4: the real pre-commit framework, running this repository's
// .pre-commit-hooks.yaml through try-repo, blocks the malicious commit.
func TestPreCommitFramework(t *testing.T) {
	if _, err := exec.LookPath("pre-commit"); err != nil {
		t.Skip("SKIPPED: the pre-commit framework is not installed (apt-get install -y pre-commit; .ci/run installs it)")
	}
	hookRepo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	r := newGitRepo(t)
	if !isRepoTop(r, hookRepo) {
		// A source tree without its .git (an exported archive): try-repo
		// needs a repository, so commit a copy into one.
		hookRepo = filepath.Join(filepath.Dir(r.dir), "hook-repo")
		copyTree(t, hookRepo, "..")
		r.runIn(hookRepo, nil, "git", "init", "-q")
		r.runIn(hookRepo, nil, "git", "add", ".")
		if out, code := r.runIn(hookRepo, nil, "git", "commit", "-q", "-m", "snapshot"); code != 0 {
			t.Fatalf("snapshot of the source tree: %s", out)
		}
	}
	goBin := filepath.Dir(goTool())
	env := []string{
		"PRE_COMMIT_HOME=" + filepath.Join(r.home, "pre-commit-cache"),
		// pre-commit builds modelgate with the Go on PATH (no download).
		"PATH=" + goBin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"PRE_COMMIT_COLOR=never",
	}
	// Reuse the module and build caches: pre-commit's GOPATH is a fresh
	// directory and HOME is a temporary one here.
	for _, v := range []string{"GOMODCACHE", "GOCACHE", "GOPROXY"} {
		if out, err := exec.Command(goTool(), "env", v).Output(); err == nil {
			env = append(env, v+"="+strings.TrimSpace(string(out)))
		}
	}

	r.write("README.md", []byte("# demo\n"))
	r.write("models/clf.pkl", readFixture(t, cleanFixture))
	r.git("add", ".")
	out, code := r.runIn(r.dir, env, "pre-commit", "try-repo", hookRepo, "modelgate", "--verbose")
	if code != 0 {
		t.Fatalf("pre-commit try-repo failed on a clean change (exit %d):\n%s", code, out)
	}
	r.git("commit", "-q", "-m", "clean")

	r.write("models/evil.pkl", readFixture(t, evilFixture))
	r.git("add", "models/evil.pkl")
	out, code = r.runIn(r.dir, env, "pre-commit", "try-repo", hookRepo, "modelgate")
	if code != 1 {
		t.Fatalf("pre-commit try-repo exit %d, want 1 (hook failed):\n%s", code, out)
	}
	for _, want := range []string{"modelgate", "Failed", "models/evil.pkl", "MG101", "modelgate check failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("pre-commit output lacks %q:\n%s", want, out)
		}
	}
	// No commit ran the hook here, so the message must not claim one was blocked.
	if strings.Contains(out, "blocked this commit") {
		t.Errorf("pre-commit try-repo output claims a commit was blocked:\n%s", out)
	}
}

// isRepoTop reports whether dir is the top of a git working tree.
func isRepoTop(r *gitRepo, dir string) bool {
	out, code := r.runIn(dir, nil, "git", "rev-parse", "--show-toplevel")
	if code != 0 {
		return false
	}
	top, err1 := filepath.EvalSymlinks(strings.TrimSpace(out))
	want, err2 := filepath.EvalSymlinks(dir)
	return err1 == nil && err2 == nil && top == want
}

// copyTree copies the files under src into dst, skipping .git.
func copyTree(t *testing.T, dst, src string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Case 5: LFS-tracked models are scanned through their pointers when the
// object is present, and reported as not scanned when it is not.
func TestLFSPointers(t *testing.T) {
	r := newGitRepo(t)
	evil := readFixture(t, evilFixture)
	oid := sha256Hex(evil)
	object := filepath.Join(r.dir, ".git", "lfs", "objects", oid[0:2], oid[2:4], oid)
	if _, err := exec.LookPath("git-lfs"); err == nil {
		// The real clean filter stores the object and stages the pointer.
		r.git("lfs", "install", "--local")
		r.git("lfs", "track", "*.pkl")
		r.write("models/evil.pkl", evil)
		r.git("add", ".gitattributes", "models/evil.pkl")
	} else {
		t.Logf("git-lfs not installed: writing the pointer and object by hand (spec v1)")
		pointer := fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", oid, len(evil))
		r.write("models/evil.pkl", []byte(pointer))
		if err := os.MkdirAll(filepath.Dir(object), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(object, evil, 0o644); err != nil {
			t.Fatal(err)
		}
		r.git("add", "models/evil.pkl")
	}
	staged := r.git("show", ":models/evil.pkl")
	if !strings.HasPrefix(staged, "version https://git-lfs.github.com/spec/v1") {
		t.Fatalf("the index does not hold a pointer:\n%.200s", staged)
	}

	rep, code, out := r.jsonScan("--staged")
	found, _ := rep.rules("models/evil.pkl")
	if code != 1 || !slices.Contains(found, "MG101") {
		t.Fatalf("malicious LFS object not found through its pointer (exit %d): %+v\n%s", code, rep, out)
	}

	// A CI checkout without LFS objects sees a pointer in the working tree.
	if err := os.WriteFile(filepath.Join(r.dir, "pointer-copy.pkl"), []byte(staged), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, code, out = r.jsonScan("pointer-copy.pkl")
	if found, _ := rep.rules("pointer-copy.pkl"); code != 1 || !slices.Contains(found, "MG101") {
		t.Fatalf("plain scan of a pointer file did not resolve it (exit %d): %+v\n%s", code, rep, out)
	}

	// Without the object: not scanned, and the default policy fails
	// closed for a model-like path.
	if err := os.Remove(object); err != nil {
		t.Fatal(err)
	}
	rep, code, out = r.jsonScan("--staged")
	_, unscanned := rep.rules("models/evil.pkl")
	if code != 2 || !slices.Contains(unscanned, "MG904") {
		t.Fatalf("missing LFS object: exit %d, want 2 with MG904: %+v\n%s", code, rep, out)
	}

	// A local object that differs from its pointer is a finding.
	if err := os.WriteFile(object, readFixture(t, cleanFixture), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, code, out = r.jsonScan("--staged")
	if found, _ := rep.rules("models/evil.pkl"); code != 1 || !slices.Contains(found, "MG250") {
		t.Fatalf("tampered LFS object: exit %d, want 1 with MG250: %+v\n%s", code, rep, out)
	}
}

// Case 6: --git-diff scans only what a revision range adds or modifies,
// from the object store, with repository paths.
func TestGitDiff(t *testing.T) {
	r := newGitRepo(t)
	r.write("README.md", []byte("# demo\n"))
	r.write("models/old.pkl", readFixture(t, evilFixture)) // already in history
	r.write("models/clf.pkl", readFixture(t, cleanFixture))
	r.git("add", ".")
	r.git("commit", "-q", "-m", "base")
	r.git("branch", "base")

	r.write("models/new.pkl", readFixture(t, evilFixture))
	r.write("models/clf.pkl", readFixture(t, "fixtures/benign/sklearn_kmeans.pkl"))
	r.write("README.md", []byte("# demo, changed\n"))
	r.git("rm", "-q", "models/old.pkl")
	r.git("add", ".")
	r.git("commit", "-q", "-m", "feature")
	// The working tree no longer matters: blobs come from the object store.
	r.write("models/new.pkl", []byte("not what was committed\n"))

	for _, spec := range []string{"base..HEAD", "base", "HEAD~1", "base...HEAD"} {
		t.Run(spec, func(t *testing.T) {
			rep, code, out := r.jsonScan("--git-diff", spec)
			want := []string{"README.md", "models/clf.pkl", "models/new.pkl"}
			if got := rep.paths(); !slices.Equal(got, want) {
				t.Errorf("scanned %v, want %v", got, want)
			}
			found, _ := rep.rules("models/new.pkl")
			if code != 1 || !slices.Contains(found, "MG101") {
				t.Fatalf("exit %d, want 1 with MG101 on models/new.pkl: %+v\n%s", code, rep, out)
			}
		})
	}
	// A PATH narrows the range; the clean part passes.
	rep, code, out := r.jsonScan("--git-diff", "base..HEAD", "models/clf.pkl")
	if code != 0 || !slices.Equal(rep.paths(), []string{"models/clf.pkl"}) {
		t.Fatalf("narrowed diff: exit %d, %v\n%s", code, rep.paths(), out)
	}
	if _, code := r.run(modelgateBinary(t), "scan", "--git-diff", "no-such-branch"); code != 2 {
		t.Errorf("unknown revision: exit %d, want 2", code)
	}
}
