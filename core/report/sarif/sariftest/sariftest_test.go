package sariftest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/report/sarif/sariftest"
)

const valid = `{
  "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
  "version": "2.1.0",
  "runs": [{
    "tool": {"driver": {"name": "modelgate", "rules": [{
      "id": "MG101", "name": "PickleDangerousCall",
      "shortDescription": {"text": "short"}, "fullDescription": {"text": "full"},
      "help": {"text": "help", "markdown": "**help**"},
      "defaultConfiguration": {"level": "error"},
      "properties": {"security-severity": "9.5", "tags": ["security"], "precision": "high"}
    }]}},
    "results": [{
      "ruleId": "MG101", "ruleIndex": 0, "level": "error",
      "message": {"text": "Bad."},
      "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a%20b.pkl"}, "region": {"startLine": 1}}}],
      "partialFingerprints": {"primaryLocationLineHash": "abc:1"}
    }]
  }]
}`

// mutate applies f to the decoded valid document and re-encodes it.
func mutate(t *testing.T, f func(run map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(valid), &doc); err != nil {
		t.Fatal(err)
	}
	f(doc["runs"].([]any)[0].(map[string]any))
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rule(run map[string]any) map[string]any {
	return run["tool"].(map[string]any)["driver"].(map[string]any)["rules"].([]any)[0].(map[string]any)
}

func result(run map[string]any) map[string]any {
	return run["results"].([]any)[0].(map[string]any)
}

func TestValid(t *testing.T) {
	sariftest.Validate(t, []byte(valid))
}

func TestCheckRejects(t *testing.T) {
	tests := []struct {
		name string
		f    func(run map[string]any)
		want string
	}{
		{"severity number", func(r map[string]any) { rule(r)["properties"].(map[string]any)["security-severity"] = 9.5 }, "security-severity"},
		{"severity range", func(r map[string]any) { rule(r)["properties"].(map[string]any)["security-severity"] = "11" }, "security-severity"},
		{"severity text", func(r map[string]any) { rule(r)["properties"].(map[string]any)["security-severity"] = "high" }, "security-severity"},
		{"no help", func(r map[string]any) { delete(rule(r), "help") }, "help.text"},
		{"no full description", func(r map[string]any) { delete(rule(r), "fullDescription") }, "fullDescription"},
		{"long short description", func(r map[string]any) {
			rule(r)["shortDescription"] = map[string]any{"text": strings.Repeat("x", 1025)}
		}, "shortDescription"},
		{"bad precision", func(r map[string]any) { rule(r)["properties"].(map[string]any)["precision"] = "sure" }, "precision"},
		{"unknown rule", func(r map[string]any) { result(r)["ruleId"] = "MG999" }, "not in tool.driver.rules"},
		{"wrong index", func(r map[string]any) { result(r)["ruleIndex"] = 3 }, "ruleIndex"},
		{"two locations", func(r map[string]any) {
			l := result(r)["locations"].([]any)
			result(r)["locations"] = append(l, l[0])
		}, "exactly 1"},
		{"absolute uri", func(r map[string]any) {
			result(r)["locations"].([]any)[0].(map[string]any)["physicalLocation"].(map[string]any)["artifactLocation"] = map[string]any{"uri": "file:///a.pkl"}
		}, "not relative"},
		{"unencoded uri", func(r map[string]any) {
			result(r)["locations"].([]any)[0].(map[string]any)["physicalLocation"].(map[string]any)["artifactLocation"] = map[string]any{"uri": "a b.pkl"}
		}, "percent-encoded"},
		{"no start line", func(r map[string]any) {
			delete(result(r)["locations"].([]any)[0].(map[string]any)["physicalLocation"].(map[string]any), "region")
		}, "startLine"},
		{"schema: bad level", func(r map[string]any) { result(r)["level"] = "fatal" }, "schema"},
		{"schema: null suppression status", func(r map[string]any) {
			result(r)["suppressions"] = []any{map[string]any{"kind": "external", "status": nil}}
		}, "schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := sariftest.Check(mutate(t, tt.f))
			var all []string
			for _, e := range errs {
				all = append(all, e.Error())
			}
			if !strings.Contains(strings.Join(all, "\n"), tt.want) {
				t.Errorf("errors %q do not mention %q", all, tt.want)
			}
		})
	}
}

func TestNotJSON(t *testing.T) {
	if errs := sariftest.Check([]byte("{")); len(errs) == 0 {
		t.Error("accepted invalid JSON")
	}
}
