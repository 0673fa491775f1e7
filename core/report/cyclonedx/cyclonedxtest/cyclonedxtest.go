// Package cyclonedxtest validates CycloneDX BOMs in tests against the
// official 1.6 and 1.7 JSON schemas (embedded from testdata/, with the
// SPDX, JSF and cryptography schemas they refer to).
//
//	cyclonedxtest.Validate(t, "1.6", out.Bytes())
package cyclonedxtest

import (
	"bytes"
	"embed"
	"fmt"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed testdata/*.schema.json
var files embed.FS

const base = "http://cyclonedx.org/schema/"

var (
	once    sync.Once
	schemas map[string]*jsonschema.Schema
	compErr error
)

func compile() {
	c := jsonschema.NewCompiler()
	ents, err := files.ReadDir("testdata")
	if err != nil {
		compErr = err
		return
	}
	for _, e := range ents {
		b, err := files.ReadFile("testdata/" + e.Name())
		if err != nil {
			compErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			compErr = fmt.Errorf("%s: %w", e.Name(), err)
			return
		}
		if err := c.AddResource(base+e.Name(), doc); err != nil {
			compErr = fmt.Errorf("%s: %w", e.Name(), err)
			return
		}
	}
	schemas = map[string]*jsonschema.Schema{}
	for _, v := range []string{"1.6", "1.7"} {
		s, err := c.Compile(base + "bom-" + v + ".schema.json")
		if err != nil {
			compErr = fmt.Errorf("bom-%s: %w", v, err)
			return
		}
		schemas[v] = s
	}
}

// Check validates a JSON BOM against the schema of spec version v.
func Check(v string, data []byte) error {
	once.Do(compile)
	if compErr != nil {
		return compErr
	}
	s, ok := schemas[v]
	if !ok {
		return fmt.Errorf("no schema for CycloneDX %s", v)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(doc)
}

// Validate fails t when data is not a valid CycloneDX BOM of version v.
func Validate(t testing.TB, v string, data []byte) {
	t.Helper()
	if err := Check(v, data); err != nil {
		t.Errorf("BOM is not valid CycloneDX %s: %v", v, err)
	}
}
