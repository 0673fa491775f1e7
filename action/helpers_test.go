package action

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"
)

// fakeRunner is a runner's environment for one step: GITHUB_* variables,
// INPUT_* variables, and temp files for the file commands.
type fakeRunner struct {
	t                 *testing.T
	env               map[string]string
	workspace, output string
	summary, temp     string
	stdout            bytes.Buffer
}

func newFakeRunner(t *testing.T) *fakeRunner {
	t.Helper()
	dir := t.TempDir()
	f := &fakeRunner{t: t, workspace: filepath.Join(dir, "ws"), output: filepath.Join(dir, "output"),
		summary: filepath.Join(dir, "summary"), temp: filepath.Join(dir, "tmp")}
	for _, d := range []string{f.workspace, f.temp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{f.output, f.summary} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f.env = map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": f.workspace, "GITHUB_OUTPUT": f.output,
		"GITHUB_STEP_SUMMARY": f.summary, "RUNNER_TEMP": f.temp, "GITHUB_REPOSITORY": "octo/models",
		"GITHUB_EVENT_NAME": "workflow_dispatch", "GITHUB_SHA": strings.Repeat("a", 40), "GITHUB_REF": "refs/heads/main",
		"GITHUB_API_URL": "http://127.0.0.1:1", "GITHUB_SERVER_URL": "https://github.com",
	}
	return f
}

func (f *fakeRunner) getenv(k string) string { return f.env[k] }

func (f *fakeRunner) input(name, v string) { f.env["INPUT_"+strings.ToUpper(name)] = v }

func (f *fakeRunner) action() *githubactions.Action {
	return githubactions.New(githubactions.WithGetenv(f.getenv), githubactions.WithWriter(&f.stdout))
}

// copyModel puts a fixture into the workspace.
func (f *fakeRunner) copyModel(fixture, as string) {
	f.t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "test", "fixtures", fixture))
	if err != nil {
		f.t.Fatal(err)
	}
	dst := filepath.Join(f.workspace, filepath.FromSlash(as))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeRunner) event(name, payload string) {
	f.t.Helper()
	p := filepath.Join(f.temp, "event.json")
	if err := os.WriteFile(p, []byte(payload), 0o644); err != nil {
		f.t.Fatal(err)
	}
	f.env["GITHUB_EVENT_NAME"] = name
	f.env["GITHUB_EVENT_PATH"] = p
}

// outputs parses GITHUB_OUTPUT as the runner does (name<<DELIM records).
func (f *fakeRunner) outputs() map[string]string {
	f.t.Helper()
	data, err := os.ReadFile(f.output)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, delim, ok := strings.Cut(sc.Text(), "<<")
		if !ok {
			f.t.Fatalf("GITHUB_OUTPUT line %q is not name<<DELIM", sc.Text())
		}
		var val []string
		for sc.Scan() && sc.Text() != delim {
			val = append(val, sc.Text())
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

func (f *fakeRunner) summaryText() string {
	data, err := os.ReadFile(f.summary)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(data)
}

// commands returns the workflow commands printed on stdout.
func (f *fakeRunner) commands(kind string) []string {
	var out []string
	for _, line := range strings.Split(f.stdout.String(), "\n") {
		if strings.HasPrefix(line, "::"+kind+" ") || strings.HasPrefix(line, "::"+kind+"::") {
			out = append(out, line)
		}
	}
	return out
}
