package gitlab_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/modelgate/modelgate/gitlab"
)

type componentInput struct {
	Type        string   `yaml:"type"`
	Default     any      `yaml:"default"`
	Options     []string `yaml:"options"`
	Regex       string   `yaml:"regex"`
	Description string   `yaml:"description"`
}

type componentJob struct {
	Stage string `yaml:"stage"`
	Image struct {
		Name       string   `yaml:"name"`
		Entrypoint []string `yaml:"entrypoint"`
	} `yaml:"image"`
	AllowFailure string            `yaml:"allow_failure"`
	Variables    map[string]string `yaml:"variables"`
	Script       []string          `yaml:"script"`
	Artifacts    struct {
		When    string            `yaml:"when"`
		Paths   []string          `yaml:"paths"`
		Reports map[string]string `yaml:"reports"`
	} `yaml:"artifacts"`
}

func loadComponent(t *testing.T) (map[string]componentInput, componentJob) {
	t.Helper()
	b, err := os.ReadFile("../templates/modelgate/template.yml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var head struct {
		Spec struct {
			Inputs map[string]componentInput `yaml:"inputs"`
		} `yaml:"spec"`
	}
	if err := dec.Decode(&head); err != nil {
		t.Fatalf("spec: %v", err)
	}
	var jobs map[string]componentJob
	if err := dec.Decode(&jobs); err != nil {
		t.Fatalf("jobs: %v", err)
	}
	var rest any
	if err := dec.Decode(&rest); !errors.Is(err, io.EOF) {
		t.Fatalf("more than two YAML documents (%v)", err)
	}
	job, ok := jobs["modelgate"]
	if !ok || len(jobs) != 1 {
		t.Fatalf("jobs %v, want one job named modelgate", jobs)
	}
	return head.Spec.Inputs, job
}

// TestComponentInputs pins the component's interface: every input typed
// and defaulted (so an include with no inputs works), options matching
// what the CLI accepts, and the version pinned to the image the
// Dockerfile builds.
func TestComponentInputs(t *testing.T) {
	inputs, _ := loadComponent(t)
	want := map[string]string{
		"stage": "string", "paths": "string", "fail-on": "string", "policy": "string",
		"changed-only": "boolean", "image": "string", "version": "string", "binary": "string",
		"allow-failure": "boolean", "schema-version": "string",
	}
	for name, typ := range want {
		in, ok := inputs[name]
		if !ok {
			t.Errorf("input %s missing", name)
			continue
		}
		got := in.Type
		if got == "" {
			got = "string"
		}
		if got != typ {
			t.Errorf("input %s type %s, want %s", name, got, typ)
		}
		if in.Default == nil {
			t.Errorf("input %s has no default (it would be mandatory)", name)
		}
		if typ == "boolean" {
			if _, ok := in.Default.(bool); !ok {
				t.Errorf("input %s default %v is not a boolean", name, in.Default)
			}
		}
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
	}
	for name := range inputs {
		if _, ok := want[name]; !ok {
			t.Errorf("input %s not covered by this test", name)
		}
	}
	if got := inputs["schema-version"]; !slices.Equal(got.Options, gitlab.SchemaVersions()) || got.Default != gitlab.DefaultSchemaVersion {
		t.Errorf("schema-version options %v default %v, want %v default %s", got.Options, got.Default, gitlab.SchemaVersions(), gitlab.DefaultSchemaVersion)
	}
	if got := inputs["fail-on"]; !slices.Equal(got.Options, []string{"critical", "high", "medium", "low", "never"}) || got.Default != "high" {
		t.Errorf("fail-on options %v default %v", got.Options, got.Default)
	}
	version, err := dockerfileArg("VERSION")
	if err != nil {
		t.Fatal(err)
	}
	if inputs["version"].Default != version {
		t.Errorf("version input defaults to %v, the Dockerfile builds %s: bump both together", inputs["version"].Default, version)
	}
}

// TestComponentJobWiring checks the job: inputs only reach the script as
// variables, the image's entrypoint is cleared, and every report is an
// artifact published even when the job fails.
func TestComponentJobWiring(t *testing.T) {
	inputs, job := loadComponent(t)
	for _, line := range job.Script {
		if strings.Contains(line, "$[[") {
			t.Errorf("an input is interpolated into the script:\n%s", line)
		}
	}
	interpolated := map[string]bool{}
	for _, v := range job.Variables {
		for name := range inputs {
			if strings.Contains(v, "$[[ inputs."+name+" ]]") {
				interpolated[name] = true
			}
		}
	}
	for _, name := range []string{"paths", "fail-on", "policy", "changed-only", "schema-version", "binary"} {
		if !interpolated[name] {
			t.Errorf("input %s does not reach the job as a variable", name)
		}
	}
	if job.Stage != "$[[ inputs.stage ]]" || job.AllowFailure != "$[[ inputs.allow-failure ]]" {
		t.Errorf("stage %q, allow_failure %q", job.Stage, job.AllowFailure)
	}
	if job.Image.Name != "$[[ inputs.image ]]:$[[ inputs.version ]]" || !slices.Equal(job.Image.Entrypoint, []string{""}) {
		t.Errorf("image %+v", job.Image)
	}
	if job.Artifacts.When != "always" {
		t.Errorf("artifacts when %q, want always (a failed job must still publish its reports)", job.Artifacts.When)
	}
	if job.Artifacts.Reports["sast"] != "gl-sast-report.json" || job.Artifacts.Reports["codequality"] != "gl-code-quality-report.json" ||
		job.Artifacts.Reports["cyclonedx"] != "gl-sbom-modelgate.cdx.json" {
		t.Errorf("reports %v", job.Artifacts.Reports)
	}
	for _, f := range []string{"gl-sast-report.json", "gl-code-quality-report.json", "modelgate.sarif", "modelgate.json", "gl-sbom-modelgate.cdx.json"} {
		if !slices.Contains(job.Artifacts.Paths, f) {
			t.Errorf("%s is not an artifact", f)
		}
		if !strings.Contains(strings.Join(job.Script, "\n"), "="+f) {
			t.Errorf("the script does not write %s", f)
		}
	}
}

// TestExampleUsesDeclaredInputs keeps examples/gitlab/.gitlab-ci.yml
// honest: it includes the component by its catalog path, and every input
// it passes exists, with a value the component accepts.
func TestExampleUsesDeclaredInputs(t *testing.T) {
	inputs, _ := loadComponent(t)
	b, err := os.ReadFile("../examples/gitlab/.gitlab-ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Include []struct {
			Component string         `yaml:"component"`
			Inputs    map[string]any `yaml:"inputs"`
		} `yaml:"include"`
	}
	if err := yaml.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex.Include) != 1 || !strings.HasPrefix(ex.Include[0].Component, "$CI_SERVER_FQDN/modelgate/modelgate/modelgate@") {
		t.Fatalf("example include %+v", ex.Include)
	}
	if len(ex.Include[0].Inputs) == 0 {
		t.Fatal("example passes no inputs")
	}
	for name, v := range ex.Include[0].Inputs {
		in, ok := inputs[name]
		if !ok {
			t.Errorf("example passes unknown input %s", name)
			continue
		}
		if in.Type == "boolean" {
			if _, ok := v.(bool); !ok {
				t.Errorf("input %s: %v is not a boolean", name, v)
			}
		}
		if len(in.Options) > 0 && !slices.Contains(in.Options, v.(string)) {
			t.Errorf("input %s: %v not in %v", name, v, in.Options)
		}
	}
}
