// Package sariftest checks SARIF logs in tests: against the official SARIF
// 2.1.0 JSON schemas (both the OASIS errata schema and the SchemaStore copy,
// embedded from testdata/), and against the rules GitHub code scanning
// applies on upload that the schemas do not express.
//
// Use it from any package that produces SARIF:
//
//	sariftest.Validate(t, out.Bytes())
package sariftest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed testdata/sarif-schema-2.1.0.json
var oasisSchema []byte

//go:embed testdata/sarif-2.1.0.json
var schemaStoreSchema []byte

// GitHub's documented upload limits (results beyond MaxResults make the
// upload fail).
const (
	MaxResults       = 25000
	MaxRules         = 25000
	MaxRuns          = 20
	MaxTags          = 20
	MaxNameLen       = 255
	MaxDescriptorLen = 1024
)

var (
	once     sync.Once
	schemas  []*jsonschema.Schema
	compErr  error
	levels   = map[string]bool{"none": true, "note": true, "warning": true, "error": true}
	precises = map[string]bool{"very-high": true, "high": true, "medium": true, "low": true}
)

func compile() {
	for _, s := range []struct {
		url  string
		data []byte
	}{
		{"file:///sariftest/sarif-schema-2.1.0.json", oasisSchema},
		{"file:///sariftest/sarif-2.1.0.json", schemaStoreSchema},
	} {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(s.data))
		if err != nil {
			compErr = fmt.Errorf("%s: %w", s.url, err)
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource(s.url, doc); err != nil {
			compErr = fmt.Errorf("%s: %w", s.url, err)
			return
		}
		sch, err := c.Compile(s.url)
		if err != nil {
			compErr = fmt.Errorf("%s: %w", s.url, err)
			return
		}
		schemas = append(schemas, sch)
	}
}

// Validate fails t with one error per problem Check finds in data.
func Validate(t testing.TB, data []byte) {
	t.Helper()
	for _, err := range Check(data) {
		t.Error(err)
	}
}

// Check validates data against both SARIF 2.1.0 schemas and GitHub's
// upload rules, and returns every problem found. Beyond the schemas it
// requires, for every run: a driver name; rules with unique ids, a name of
// at most 255 characters, non-empty short and full descriptions of at most
// 1024 characters, a non-empty help.text, a valid defaultConfiguration
// level, properties.security-severity (when present) a string that parses
// as a number in 0.1..10, at most 20 tags, a valid precision; and results
// whose ruleId names a rule (with a matching ruleIndex), with a message,
// exactly one location whose artifactLocation.uri is a relative URI
// reference and whose region starts at a line >= 1, at most 25,000 per run.
func Check(data []byte) []error {
	once.Do(compile)
	if compErr != nil {
		return []error{fmt.Errorf("sariftest: compiling schema: %w", compErr)}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return []error{fmt.Errorf("SARIF is not JSON: %w", err)}
	}
	var errs []error
	for _, sch := range schemas {
		if err := sch.Validate(inst); err != nil {
			errs = append(errs, fmt.Errorf("schema %s: %v", sch.Location, err))
		}
	}
	var log sarifLog
	if err := json.Unmarshal(data, &log); err != nil {
		return append(errs, fmt.Errorf("decoding SARIF: %w", err))
	}
	return append(errs, log.github()...)
}

// The subset of SARIF the GitHub checks read.
type (
	sarifLog struct {
		Version string `json:"version"`
		Runs    []run  `json:"runs"`
	}
	run struct {
		Tool struct {
			Driver struct {
				Name  string       `json:"name"`
				Rules []descriptor `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []result `json:"results"`
	}
	mmString struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown"`
	}
	descriptor struct {
		ID                   string    `json:"id"`
		Name                 string    `json:"name"`
		ShortDescription     *mmString `json:"shortDescription"`
		FullDescription      *mmString `json:"fullDescription"`
		Help                 *mmString `json:"help"`
		DefaultConfiguration *struct {
			Level string `json:"level"`
		} `json:"defaultConfiguration"`
		Properties map[string]any `json:"properties"`
	}
	result struct {
		RuleID    string `json:"ruleId"`
		RuleIndex *int   `json:"ruleIndex"`
		Level     string `json:"level"`
		Message   struct {
			Text string `json:"text"`
		} `json:"message"`
		Locations []struct {
			PhysicalLocation *struct {
				ArtifactLocation *struct {
					URI string `json:"uri"`
				} `json:"artifactLocation"`
				Region *struct {
					StartLine *int `json:"startLine"`
				} `json:"region"`
			} `json:"physicalLocation"`
		} `json:"locations"`
		PartialFingerprints map[string]any `json:"partialFingerprints"`
	}
)

func (l *sarifLog) github() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if l.Version != "2.1.0" {
		bad("version is %q, want 2.1.0", l.Version)
	}
	if len(l.Runs) == 0 || len(l.Runs) > MaxRuns {
		bad("%d runs, want 1..%d", len(l.Runs), MaxRuns)
	}
	for ri, r := range l.Runs {
		at := fmt.Sprintf("runs[%d]", ri)
		if r.Tool.Driver.Name == "" {
			bad("%s: tool.driver.name is empty", at)
		}
		rules := r.Tool.Driver.Rules
		if len(rules) > MaxRules {
			bad("%s: %d rules, GitHub accepts at most %d", at, len(rules), MaxRules)
		}
		index := map[string]int{}
		for i, d := range rules {
			dat := fmt.Sprintf("%s.tool.driver.rules[%d] (%s)", at, i, d.ID)
			if d.ID == "" {
				bad("%s: empty id", dat)
			}
			if _, dup := index[d.ID]; dup {
				bad("%s: duplicate rule id", dat)
			}
			index[d.ID] = i
			if len(d.Name) > MaxNameLen {
				bad("%s: name longer than %d", dat, MaxNameLen)
			}
			for _, f := range []struct {
				name string
				s    *mmString
			}{{"shortDescription", d.ShortDescription}, {"fullDescription", d.FullDescription}} {
				switch {
				case f.s == nil || f.s.Text == "":
					bad("%s: %s.text is empty", dat, f.name)
				case len(f.s.Text) > MaxDescriptorLen:
					bad("%s: %s.text longer than %d", dat, f.name, MaxDescriptorLen)
				}
			}
			if d.Help == nil || d.Help.Text == "" {
				bad("%s: help.text is empty", dat)
			}
			if c := d.DefaultConfiguration; c != nil && c.Level != "" && !levels[c.Level] {
				bad("%s: defaultConfiguration.level %q", dat, c.Level)
			}
			if v, ok := d.Properties["security-severity"]; ok {
				s, isString := v.(string)
				f, err := strconv.ParseFloat(s, 64)
				if !isString || err != nil || f < 0.1 || f > 10 {
					bad("%s: security-severity %#v is not a string holding a number in 0.1..10", dat, v)
				}
			}
			if v, ok := d.Properties["tags"]; ok {
				tags, isList := v.([]any)
				if !isList || len(tags) > MaxTags {
					bad("%s: tags must be a list of at most %d strings", dat, MaxTags)
				}
			}
			if v, ok := d.Properties["precision"]; ok {
				if s, _ := v.(string); !precises[s] {
					bad("%s: precision %#v", dat, v)
				}
			}
		}
		if len(r.Results) > MaxResults {
			bad("%s: %d results, GitHub accepts at most %d", at, len(r.Results), MaxResults)
		}
		for i, res := range r.Results {
			rat := fmt.Sprintf("%s.results[%d] (%s)", at, i, res.RuleID)
			idx, ok := index[res.RuleID]
			if !ok {
				bad("%s: ruleId is not in tool.driver.rules", rat)
			}
			if res.RuleIndex != nil && ok && *res.RuleIndex != idx {
				bad("%s: ruleIndex %d, but the rule is at %d", rat, *res.RuleIndex, idx)
			}
			if res.Level != "" && !levels[res.Level] {
				bad("%s: level %q", rat, res.Level)
			}
			if strings.TrimSpace(res.Message.Text) == "" {
				bad("%s: message.text is empty", rat)
			}
			if len(res.Locations) != 1 {
				bad("%s: %d locations, want exactly 1", rat, len(res.Locations))
				continue
			}
			pl := res.Locations[0].PhysicalLocation
			if pl == nil || pl.ArtifactLocation == nil {
				bad("%s: location has no physicalLocation.artifactLocation", rat)
				continue
			}
			if err := relativeURI(pl.ArtifactLocation.URI); err != nil {
				bad("%s: artifactLocation.uri: %v", rat, err)
			}
			if pl.Region == nil || pl.Region.StartLine == nil || *pl.Region.StartLine < 1 {
				bad("%s: region.startLine missing or < 1", rat)
			}
			if v, ok := res.PartialFingerprints["primaryLocationLineHash"]; ok {
				if s, _ := v.(string); s == "" {
					bad("%s: primaryLocationLineHash %#v", rat, v)
				}
			}
		}
	}
	return errs
}

// relativeURI checks that s is a relative-path URI reference: parseable,
// no scheme, no host, not starting with '/', and percent-encoded (no
// spaces, no raw non-ASCII).
func relativeURI(s string) error {
	if s == "" {
		return fmt.Errorf("empty")
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "" || u.Host != "" || strings.HasPrefix(s, "/") {
		return fmt.Errorf("%q is not relative", s)
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f {
			return fmt.Errorf("%q is not percent-encoded", s)
		}
	}
	return nil
}
