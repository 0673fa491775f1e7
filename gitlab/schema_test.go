package gitlab_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schemas from testdata/schemas (see SOURCES.md there).
var (
	schemaOnce sync.Once
	sastByVer  map[string]*jsonschema.Schema
	cqItem     *jsonschema.Schema
	schemaErr  error
)

func compileSchema(file string) (*jsonschema.Schema, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "schemas", file))
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	url := "file:///gitlab/" + file
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return c.Compile(url)
}

func schemas(t testing.TB) {
	t.Helper()
	schemaOnce.Do(func() {
		sastByVer = map[string]*jsonschema.Schema{}
		for _, v := range []string{"15.0.7", "15.2.4"} {
			s, err := compileSchema("gitlab-sast-report-format-" + v + ".json")
			if err != nil {
				schemaErr = err
				return
			}
			sastByVer[v] = s
		}
		cqItem, schemaErr = compileSchema("gitlab-codequality-codeclimate.json")
	})
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
}

// validateSAST checks a gl-sast-report.json against the official schema
// of the version it declares, and that the version is the one wanted.
func validateSAST(t testing.TB, data []byte, wantVersion string) {
	t.Helper()
	schemas(t)
	var head struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		t.Fatalf("SAST report is not JSON: %v", err)
	}
	if head.Version != wantVersion {
		t.Errorf("declared version %q, want %q", head.Version, wantVersion)
	}
	s, ok := sastByVer[head.Version]
	if !ok {
		t.Fatalf("no schema for declared version %q", head.Version)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("SAST report does not validate against schema %s: %v", head.Version, err)
	}
}

var cqSeverities = map[string]bool{"info": true, "minor": true, "major": true, "critical": true, "blocker": true}

// validateCodeQuality applies GitLab's per-item validator schema and the
// documented required fields to every element of the array.
func validateCodeQuality(t testing.TB, data []byte) {
	t.Helper()
	schemas(t)
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		t.Error("Code Quality report starts with a byte order mark")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		t.Fatalf("Code Quality report is not a JSON array: %v", err)
	}
	if items == nil {
		t.Fatal("Code Quality report is null, want an array")
	}
	for i, raw := range items {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if err := cqItem.Validate(inst); err != nil {
			t.Errorf("item %d fails GitLab's codeclimate schema: %v", i, err)
		}
		var it struct {
			CheckName   string `json:"check_name"`
			Description string `json:"description"`
			Fingerprint string `json:"fingerprint"`
			Severity    string `json:"severity"`
			Location    struct {
				Path  string `json:"path"`
				Lines *struct {
					Begin *int `json:"begin"`
				} `json:"lines"`
			} `json:"location"`
		}
		if err := json.Unmarshal(raw, &it); err != nil {
			t.Fatal(err)
		}
		switch {
		case it.CheckName == "", it.Description == "", it.Fingerprint == "", it.Location.Path == "":
			t.Errorf("item %d lacks a documented field: %s", i, raw)
		case !cqSeverities[it.Severity]:
			t.Errorf("item %d severity %q not in info|minor|major|critical|blocker", i, it.Severity)
		case it.Location.Lines == nil || it.Location.Lines.Begin == nil || *it.Location.Lines.Begin < 1:
			t.Errorf("item %d has no location.lines.begin >= 1: %s", i, raw)
		}
	}
}

// TestSchemasRejectWhatTheyShould guards the validators themselves: a
// report missing the scan block and a Code Quality item without a
// fingerprint must fail, or the other tests would prove nothing.
func TestSchemasRejectWhatTheyShould(t *testing.T) {
	schemas(t)
	for v, s := range sastByVer {
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(`{"version":"` + v + `","vulnerabilities":[]}`)))
		if s.Validate(inst) == nil {
			t.Errorf("schema %s accepted a report without scan", v)
		}
		inst, _ = jsonschema.UnmarshalJSON(bytes.NewReader([]byte(`{"version":"` + v + `","scan":{"type":"sast","status":"success","start_time":"2026-01-01T00:00:00.5Z","end_time":"2026-01-01T00:00:00","analyzer":{"id":"a","name":"a","version":"1","vendor":{"name":"v"}},"scanner":{"id":"a","name":"a","version":"1","vendor":{"name":"v"}}},"vulnerabilities":[]}`)))
		if s.Validate(inst) == nil {
			t.Errorf("schema %s accepted a start_time with a fraction and zone", v)
		}
	}
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(`{"description":"d","severity":"major","location":{"path":"p"}}`)))
	if cqItem.Validate(inst) == nil {
		t.Error("codeclimate schema accepted an item without fingerprint")
	}
}
