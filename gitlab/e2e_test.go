package gitlab_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/modelgate/modelgate/core/report/cyclonedx/cyclonedxtest"
	"github.com/modelgate/modelgate/core/report/sarif/sariftest"
)

// These tests run the component (templates/modelgate/template.yml) with
// gitlab-ci-local, a real local runner of .gitlab-ci.yml
// (.ci/install-gitlab-ci-local.sh installs 4.73.0), in shell mode: the
// job's image is not pulled, the job runs on this machine, and the
// component's binary input points at a modelgate built from this tree.
// gitlab-ci-local does not collect sast or codequality reports, so the
// tests read the files the job wrote and the artifacts it exported.

const componentProject = "modelgate/modelgate"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func modelgateBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "modelgate-gitlab-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "modelgate")
		version, err := dockerfileArg("VERSION")
		if err != nil {
			buildErr = err
			return
		}
		// The same build as the Dockerfile's, so that the tests run the
		// binaries the image would hold.
		cmd := exec.Command(goTool(), "build", "-trimpath",
			"-ldflags", "-s -w -X github.com/modelgate/modelgate/internal/climain.Version=v"+version,
			"-o", dir+string(filepath.Separator), "../cmd/modelgate", "../cmd/modelgate-full")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

func gitlabCILocal(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("gitlab-ci-local")
	if err != nil {
		t.Skip("SKIPPED: gitlab-ci-local is not installed (.ci/install-gitlab-ci-local.sh installs it; .ci/run calls it)")
	}
	if _, err := exec.LookPath("rsync"); err != nil {
		t.Fatal("gitlab-ci-local needs rsync (apt-get install -y rsync)")
	}
	return p
}

// componentRepo is a throwaway repository that plays the component
// project: its origin is <host>/modelgate/modelgate, so that
// include: component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/modelgate@$CI_COMMIT_SHA
// resolves to its own templates/modelgate/template.yml.
type componentRepo struct {
	t    *testing.T
	dir  string
	home string
	// pathPrefix, when set, goes first on the jobs' PATH.
	pathPrefix string
	// allowColor leaves NO_COLOR unset.
	allowColor bool
}

func newComponentRepo(t *testing.T) *componentRepo {
	t.Helper()
	root := t.TempDir()
	r := &componentRepo{t: t, dir: filepath.Join(root, "repo"), home: filepath.Join(root, "home")}
	for _, d := range []string{r.dir, r.home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.git("init", "-q", "-b", "main")
	r.git("remote", "add", "origin", "https://gitlab.invalid/"+componentProject+".git")
	tmpl, err := os.ReadFile("../templates/modelgate/template.yml")
	if err != nil {
		t.Fatal(err)
	}
	r.write("templates/modelgate/template.yml", tmpl)
	return r
}

func (r *componentRepo) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if r.pathPrefix != "" && strings.HasPrefix(kv, "PATH=") {
			kv = "PATH=" + r.pathPrefix + string(os.PathListSeparator) + strings.TrimPrefix(kv, "PATH=")
		}
		if strings.HasPrefix(kv, "GIT_") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "XDG_CONFIG_HOME=") ||
			strings.HasPrefix(kv, "CI_") || strings.HasPrefix(kv, "GITLAB_") || strings.HasPrefix(kv, "NO_COLOR=") {
			continue
		}
		env = append(env, kv)
	}
	if !r.allowColor {
		env = append(env, "NO_COLOR=1")
	}
	return append(env, "HOME="+r.home, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
}

func (r *componentRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = r.dir, r.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *componentRepo) write(rel string, data []byte) {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *componentRepo) copyFixture(src, rel string) {
	r.t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		r.t.Fatal(err)
	}
	r.write(rel, b)
}

func (r *componentRepo) commit(msg string) string {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

// ciFile is a .gitlab-ci.yml that includes the component in its
// self-test form with the given extra inputs (YAML lines, indented under
// inputs:).
func ciFile(includeForm string, inputs ...string) []byte {
	var b strings.Builder
	b.WriteString("include:\n")
	switch includeForm {
	case "component":
		b.WriteString("  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/modelgate@$CI_COMMIT_SHA\n")
	case "local":
		b.WriteString("  - local: templates/modelgate/template.yml\n")
	}
	b.WriteString("    inputs:\n")
	for _, in := range inputs {
		b.WriteString("      " + in + "\n")
	}
	return []byte(b.String())
}

type pipelineRun struct {
	code int
	log  string
}

// run executes the whole pipeline with gitlab-ci-local in shell mode.
func (r *componentRepo) run(extra ...string) pipelineRun {
	r.t.Helper()
	args := append([]string{"--force-shell-executor", "--home", filepath.Join(r.home, ".gitlab-ci-local"), "--concurrency", "1"}, extra...)
	cmd := exec.Command(gitlabCILocal(r.t), args...)
	cmd.Dir, cmd.Env = r.dir, r.env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatalf("gitlab-ci-local: %v", err)
	}
	return pipelineRun{code: code, log: out.String()}
}

func (r *componentRepo) read(rel string) []byte {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, filepath.FromSlash(rel)))
	if err != nil {
		r.t.Fatalf("job output %s: %v", rel, err)
	}
	return b
}

// checkReports validates the five report files the job wrote, and that
// gitlab-ci-local exported them as the job's artifacts.
func (r *componentRepo) checkReports(schemaVersion string) (sast sastDoc, jsonRep jsonReport) {
	r.t.Helper()
	sastOut := r.read("gl-sast-report.json")
	validateSAST(r.t, sastOut, schemaVersion)
	validateCodeQuality(r.t, r.read("gl-code-quality-report.json"))
	sariftest.Validate(r.t, r.read("modelgate.sarif"))
	cyclonedxtest.Validate(r.t, "1.6", r.read("gl-sbom-modelgate.cdx.json"))
	if err := json.Unmarshal(r.read("modelgate.json"), &jsonRep); err != nil {
		r.t.Fatalf("modelgate.json: %v", err)
	}
	for _, f := range []string{"gl-sast-report.json", "gl-code-quality-report.json", "modelgate.sarif", "modelgate.json", "gl-sbom-modelgate.cdx.json"} {
		exported := r.read(".gitlab-ci-local/artifacts/modelgate/" + f)
		if !bytes.Equal(exported, r.read(f)) {
			r.t.Errorf("artifact %s differs from the job's file", f)
		}
	}
	return parseSAST(r.t, sastOut), jsonRep
}

type jsonReport struct {
	Files []struct {
		Path string `json:"path"`
	} `json:"files"`
	ExitCode int `json:"exit_code"`
}

func (j jsonReport) paths() []string {
	var ps []string
	for _, f := range j.Files {
		ps = append(ps, f.Path)
	}
	sort.Strings(ps)
	return ps
}

func binaryInput(t *testing.T) string { return "binary: " + modelgateBinary(t) }

// TestGitLabCILocal_MaliciousModelFailsJob: a repository with a malicious
// model; the job fails, and the reports are produced, valid, and exported
// as artifacts although the job failed (when: always).
func TestGitLabCILocal_MaliciousModelFailsJob(t *testing.T) {
	gitlabCILocal(t)
	r := newComponentRepo(t)
	r.copyFixture("testdata/resaved/model_v1.pkl", "models/clf.pkl")
	r.copyFixture("../test/fixtures/benign/sklearn_logreg.pkl", "models/ok.pkl")
	r.write(".gitlab-ci.yml", ciFile("component", `paths: "models/"`, binaryInput(t)))
	r.commit("models")
	res := r.run()
	if res.code == 0 || !strings.Contains(res.log, "FAIL  modelgate") {
		t.Fatalf("pipeline passed (rc %d), want the modelgate job to fail:\n%s", res.code, res.log)
	}
	for _, want := range []string{"modelgate_1_started", "FAIL: 1 finding(s) at or above high"} {
		if !strings.Contains(res.log, want) {
			t.Errorf("job log lacks %q:\n%s", want, res.log)
		}
	}
	sast, js := r.checkReports("15.0.7")
	if len(sast.Vulnerabilities) != 1 || sast.Vulnerabilities[0].Identifiers[0].Value != "MG101" ||
		sast.Vulnerabilities[0].Location["file"] != "models/clf.pkl" || sast.Vulnerabilities[0].Severity != "Critical" {
		t.Errorf("SAST vulnerabilities: %+v", sast.Vulnerabilities)
	}
	if js.ExitCode != 1 || strings.Join(js.paths(), ",") != "models/clf.pkl,models/ok.pkl" {
		t.Errorf("JSON report: exit %d, files %v", js.ExitCode, js.paths())
	}
}

// TestGitLabCILocal_CleanModelPasses: clean models pass; the reports are
// still written, empty, with the schema version chosen by input.
func TestGitLabCILocal_CleanModelPasses(t *testing.T) {
	gitlabCILocal(t)
	r := newComponentRepo(t)
	r.copyFixture("../test/fixtures/benign/sklearn_logreg.pkl", "models/ok.pkl")
	r.write(".gitlab-ci.yml", ciFile("component", `paths: "models/"`, `schema-version: "15.2.4"`, binaryInput(t)))
	r.commit("models")
	res := r.run()
	if res.code != 0 || !strings.Contains(res.log, "PASS  modelgate") {
		t.Fatalf("pipeline failed (rc %d):\n%s", res.code, res.log)
	}
	sast, js := r.checkReports("15.2.4")
	if len(sast.Vulnerabilities) != 0 || sast.Scan.Status != "success" {
		t.Errorf("clean scan: status %s, %d vulnerabilities", sast.Scan.Status, len(sast.Vulnerabilities))
	}
	if strings.Join(js.paths(), ",") != "models/ok.pkl" {
		t.Errorf("files scanned: %v", js.paths())
	}
}

// TestGitLabCILocal_ChangedOnlyInMergeRequest: the base commit holds a
// malicious model, the merge request adds a clean one. With changed-only
// in an MR-like pipeline (CI_MERGE_REQUEST_DIFF_BASE_SHA set) only the
// added file is scanned and the job passes; the same repository without
// the MR variables scans everything and fails, which proves the old file
// was really left out rather than missed.
func TestGitLabCILocal_ChangedOnlyInMergeRequest(t *testing.T) {
	gitlabCILocal(t)
	r := newComponentRepo(t)
	r.copyFixture("testdata/resaved/model_v1.pkl", "models/legacy.pkl")
	r.write(".gitlab-ci.yml", ciFile("component", `paths: "."`, `changed-only: true`, binaryInput(t)))
	base := r.commit("base")
	r.git("checkout", "-q", "-b", "feature")
	r.copyFixture("../test/fixtures/benign/sklearn_logreg.pkl", "models/new.pkl")
	r.commit("add a model")

	mr := r.run("--variable", "CI_PIPELINE_SOURCE=merge_request_event",
		"--variable", "CI_MERGE_REQUEST_DIFF_BASE_SHA="+base,
		"--variable", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main")
	if mr.code != 0 || !strings.Contains(mr.log, "changed-only: scanning what the merge request changes since "+base) {
		t.Fatalf("MR pipeline: rc %d:\n%s", mr.code, mr.log)
	}
	_, js := r.checkReports("15.0.7")
	if got := strings.Join(js.paths(), ","); got != "models/new.pkl" {
		t.Errorf("MR pipeline scanned %q, want only models/new.pkl", got)
	}

	branch := r.run()
	if branch.code == 0 || !strings.Contains(branch.log, "not a merge request pipeline") {
		t.Fatalf("branch pipeline: rc %d, want failure on models/legacy.pkl:\n%s", branch.code, branch.log)
	}
	_, js = r.checkReports("15.0.7")
	if got := strings.Join(js.paths(), ","); !strings.Contains(got, "models/legacy.pkl") || !strings.Contains(got, "models/new.pkl") {
		t.Errorf("branch pipeline scanned %q, want both models", got)
	}
}

// TestGitLabCILocal_InputsCannotInjectShell passes shell syntax through
// every free-text input that reaches the script. The job must treat the
// values as data: modelgate is asked for those literal paths (which name
// nothing, so the job fails with exit 2) and no command runs.
func TestGitLabCILocal_InputsCannotInjectShell(t *testing.T) {
	gitlabCILocal(t)
	r := newComponentRepo(t)
	r.copyFixture("../test/fixtures/benign/sklearn_logreg.pkl", "models/ok.pkl")
	r.write(".gitlab-ci.yml", ciFile("component",
		`paths: 'models/ ";touch pwned1;" $(touch pwned2) `+"`touch pwned3`"+`'`,
		`policy: '$(touch pwned4)'`,
		binaryInput(t)))
	r.commit("hostile inputs")
	res := r.run()
	if res.code == 0 {
		t.Fatalf("pipeline passed with nonexistent paths:\n%s", res.log)
	}
	for _, f := range []string{"pwned1", "pwned2", "pwned3", "pwned4"} {
		if _, err := os.Stat(filepath.Join(r.dir, f)); err == nil {
			t.Errorf("an input ran a command: %s exists", f)
		}
	}
	if !strings.Contains(res.log, "$(touch pwned4)") {
		t.Errorf("modelgate did not receive the literal policy value:\n%s", res.log)
	}
}

// TestGitLabCILocal_IncludeLocalSameFile: self-managed instances without
// the catalog include the same file with include: project: or remote:.
// Those fetch from a GitLab server, which cannot run here; include: local:
// goes through the same spec:inputs interpolation of the same file, which
// is what this checks (with inputs that differ from the defaults).
func TestGitLabCILocal_IncludeLocalSameFile(t *testing.T) {
	gitlabCILocal(t)
	r := newComponentRepo(t)
	r.copyFixture("testdata/resaved/model_v1.pkl", "models/clf.pkl")
	r.write(".gitlab-ci.yml", ciFile("local", `paths: "models/"`, `fail-on: never`, `stage: build`, binaryInput(t)))
	r.commit("models")
	res := r.run()
	if res.code != 0 {
		t.Fatalf("fail-on never should pass (rc %d):\n%s", res.code, res.log)
	}
	expanded := string(r.read(".gitlab-ci-local/expanded-gitlab-ci.yml"))
	for _, want := range []string{"stage: build", "MODELGATE_FAIL_ON: never", "allow_failure: false"} {
		if !strings.Contains(expanded, want) {
			t.Errorf("expanded pipeline lacks %q:\n%s", want, expanded)
		}
	}
	sast, _ := r.checkReports("15.0.7")
	if len(sast.Vulnerabilities) != 1 {
		t.Errorf("fail-on never still reports the finding; got %d vulnerabilities", len(sast.Vulnerabilities))
	}
}

// TestGitLabCILocal_ProjectPipelineSelfTest runs this repository's own
// .gitlab-ci.yml (the catalog project's pipeline) in a copy of the files
// it needs: the component's self-test job scans examples/models and must
// fail on them (allowed), and verify-component must find the expected
// rules in its reports. build-image (kaniko) and release need a GitLab
// server and a registry and are only parsed and schema-checked here.
func TestGitLabCILocal_ProjectPipelineSelfTest(t *testing.T) {
	gitlabCILocal(t)
	r := newComponentRepo(t)
	r.pathPrefix = filepath.Dir(modelgateBinary(t))
	r.copyFixture("../.gitlab-ci.yml", ".gitlab-ci.yml")
	r.copyFixture("../Dockerfile", "Dockerfile")
	models, err := os.ReadDir("../examples/models")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range models {
		r.copyFixture(filepath.Join("../examples/models", m.Name()), "examples/models/"+m.Name())
	}
	r.commit("project")
	res := r.run("--variable", "CI_REGISTRY_IMAGE=registry.invalid/modelgate/modelgate", "modelgate", "verify-component")
	if res.code != 0 || !strings.Contains(res.log, "PASS  verify-component") || !strings.Contains(res.log, "WARN  modelgate") {
		t.Fatalf("rc %d; want modelgate to fail (allowed) and verify-component to pass:\n%s", res.code, res.log)
	}
	r.checkReports("15.0.7")
}

// TestGitLabCILocal_ColourOnlyInGitLabJobs: the job log is coloured where
// GitLab renders it (GITLAB_CI=true, as GitLab's runner sets it) and plain
// elsewhere; gitlab-ci-local itself sets GITLAB_CI=false.
func TestGitLabCILocal_ColourOnlyInGitLabJobs(t *testing.T) {
	gitlabCILocal(t)
	r := newComponentRepo(t)
	r.allowColor = true
	r.copyFixture("testdata/resaved/model_v1.pkl", "models/clf.pkl")
	r.write(".gitlab-ci.yml", ciFile("component", `paths: "models/"`, binaryInput(t)))
	r.commit("models")
	const red = "\x1b[1;31mFAIL:"
	r.run()
	if log := string(r.read(".gitlab-ci-local/output/modelgate.log")); strings.Contains(log, red) || !strings.Contains(log, "FAIL: 1 finding") {
		t.Errorf("outside GitLab (GITLAB_CI=false) the log must be plain:\n%q", log)
	}
	r.run("--variable", "GITLAB_CI=true")
	if log := string(r.read(".gitlab-ci-local/output/modelgate.log")); !strings.Contains(log, red) {
		t.Errorf("with GITLAB_CI=true the verdict is not coloured:\n%q", log)
	}
}
