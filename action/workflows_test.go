package action

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The action's own supply chain: what action.yml, the examples and the
// release workflow run must be pinned, and inputs must reach scripts only
// through env.

func workflowFiles(t *testing.T) []string {
	t.Helper()
	files := []string{filepath.Join("..", "action.yml"), filepath.Join("..", ".github", "workflows", "release.yml")}
	ex, err := filepath.Glob(filepath.Join("..", "examples", "github", "*.yml"))
	if err != nil || len(ex) < 3 {
		t.Fatalf("examples/github: %v %v", ex, err)
	}
	return append(files, ex...)
}

// steps returns every step mapping in a workflow or action file.
func steps(t *testing.T, file string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var out []map[string]any
	add := func(list any) {
		items, _ := list.([]any)
		for _, s := range items {
			if m, ok := s.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	if runs, ok := doc["runs"].(map[string]any); ok {
		add(runs["steps"])
	}
	jobs, _ := doc["jobs"].(map[string]any)
	for _, j := range jobs {
		if jm, ok := j.(map[string]any); ok {
			add(jm["steps"])
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s has no steps", file)
	}
	return out
}

var pinned = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$`)

func TestEveryUsesIsPinnedByCommitSHA(t *testing.T) {
	for _, file := range workflowFiles(t) {
		for _, s := range steps(t, file) {
			uses, _ := s["uses"].(string)
			if uses == "" || uses == "./" {
				continue
			}
			if !pinned.MatchString(uses) {
				t.Errorf("%s: uses %q is not pinned by a full commit SHA", file, uses)
			}
		}
	}
	// action.yml itself runs no other action: pinning it pins everything.
	for _, s := range steps(t, filepath.Join("..", "action.yml")) {
		if s["uses"] != nil {
			t.Errorf("action.yml uses %v", s["uses"])
		}
	}
}

func TestNoExpressionsInsideRun(t *testing.T) {
	for _, file := range workflowFiles(t) {
		for _, s := range steps(t, file) {
			if run, _ := s["run"].(string); strings.Contains(run, "${{") {
				t.Errorf("%s: a run: script holds an expression; pass it through env:\n%s", file, run)
			}
		}
	}
}

// Every input action.yml declares reaches the binary under the name
// go-githubactions' GetInput reads, and every input the Go code reads is
// declared; every output comes from the scan step.
func TestActionYmlMapsInputsAndOutputs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Inputs  map[string]map[string]string `yaml:"inputs"`
		Outputs map[string]map[string]string `yaml:"outputs"`
		Runs    struct {
			Using string `yaml:"using"`
			Steps []struct {
				ID  string            `yaml:"id"`
				Env map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Runs.Using != "composite" {
		t.Fatalf("runs.using %q: act and every runner OS need composite", meta.Runs.Using)
	}
	env := map[string]map[string]string{}
	for _, s := range meta.Runs.Steps {
		env[s.ID] = s.Env
	}
	for name, in := range meta.Inputs {
		if in["description"] == "" {
			t.Errorf("input %s has no description", name)
		}
		want := "${{ inputs." + name + " }}"
		if name == "version" {
			if env["install"]["MODELGATE_VERSION"] != want {
				t.Errorf("install step: MODELGATE_VERSION = %q", env["install"]["MODELGATE_VERSION"])
			}
			continue
		}
		if got := env["scan"]["INPUT_"+strings.ToUpper(name)]; got != want {
			t.Errorf("scan step: INPUT_%s = %q, want %q", strings.ToUpper(name), got, want)
		}
	}
	if d := meta.Inputs["version"]["default"]; d != "" {
		t.Errorf("version defaults to %q: no floating default", d)
	}
	src, err := os.ReadFile("inputs.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`GetInput\("([^"]+)"\)`).FindAllStringSubmatch(string(src), -1) {
		if _, ok := meta.Inputs[m[1]]; !ok {
			t.Errorf("the Go code reads input %q that action.yml does not declare", m[1])
		}
	}
	want := []string{"verdict", "findings", "critical", "high", "medium", "low", "not-scanned", "sarif-file", "json-file", "cyclonedx-file", "exit-code"}
	var got []string
	for name, out := range meta.Outputs {
		got = append(got, name)
		if out["value"] != "${{ steps.scan.outputs."+name+" }}" {
			t.Errorf("output %s = %q", name, out["value"])
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("outputs %v, want %v", got, want)
	}
}

// actionlint checks the workflows, and action.yml through them: it reads
// the metadata of `uses: ./` and checks every with: against its inputs.
// It only does that inside a repository, so the files are laid out as one.
func TestActionlint(t *testing.T) {
	bin := os.Getenv("MODELGATE_ACTIONLINT")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("actionlint"); err != nil {
			t.Skip("SKIPPED: actionlint is not installed (.ci/install-act.sh builds it; or set MODELGATE_ACTIONLINT)")
		}
	}
	lint := func(t *testing.T, extra string) (string, error) {
		dir := t.TempDir()
		for _, f := range workflowFiles(t) {
			to := filepath.Join(dir, ".github", "workflows", filepath.Base(f))
			if filepath.Base(f) == "action.yml" {
				to = filepath.Join(dir, "action.yml")
			}
			if err := copyFile(f, to); err != nil {
				t.Fatal(err)
			}
		}
		if extra != "" {
			if err := os.WriteFile(filepath.Join(dir, ".github", "workflows", "extra.yml"), []byte(extra), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
			t.Fatalf("git init: %v %s", err, out)
		}
		cmd := exec.Command(bin, "-no-color")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := lint(t, ""); err != nil {
		t.Fatalf("actionlint: %v\n%s", err, out)
	}
	// It does look: a misspelt input of the action and an expression in
	// run: are both reported.
	bad := "on: pull_request\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n" +
		"      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n" +
		"      - uses: ./\n        with:\n          fail_on: high\n" +
		"      - run: echo \"${{ github.event.pull_request.title }}\"\n"
	out, err := lint(t, bad)
	if err == nil || !strings.Contains(out, `input "fail_on" is not defined`) || !strings.Contains(out, "potentially untrusted") {
		t.Errorf("actionlint missed planted mistakes: %v\n%s", err, out)
	}
}
