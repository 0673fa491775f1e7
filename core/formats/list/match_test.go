package list

import (
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
)

// TestNoFormatClaimsOrdinaryFiles audits every format's Match against
// files any repository holds: none may claim source, data or documents
// that merely start like its format. The JSON configs at the end are the
// two that formats do own.
func TestNoFormatClaimsOrdinaryFiles(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"data":{"id":1,"name":"iris"}}`))
	zw.Close()
	ordinary := map[string][]byte{
		"emoji.py":     []byte("EMOJI = {\n    \"smile\": \"\\U0001f604\",\n}\n"),
		"config.js":    []byte("var c = {\n  \"a\": 1\n};\n"),
		"fixture.json": []byte(`{"data":{"id":1}}`),
		"i18n.json":    []byte(`{"greeting": "caf\u00e9", "list": [1, 2]}`),
		"settings.yml": []byte("model:\n  name: resnet\n  layers: 50\n"),
		"table.csv":    []byte("a,b,c\n1,2,3\n"),
		"README.md":    []byte("# Title\n\nSome text about pickle and safetensors.\n"),
		"page.html":    []byte("<!doctype html><html><body>{{ x }}</body></html>"),
		"font.pfb":     append([]byte{0x80, 0x01, 0x10, 0x00, 0x00, 0x00}, "%!PS-AdobeFont-1.0"...),
		"zeros.bin":    make([]byte, 4096),
		"formula.txt":  []byte("x^2 + y^2 = z^2"),
		"data.json.gz": gz.Bytes(),
	}
	for name, data := range ordinary {
		in := &engine.Input{Name: name, R: bytes.NewReader(data), Size: int64(len(data)), Head: data[:min(len(data), engine.HeadSize)]}
		for _, f := range Default() {
			if f.Match(in) && !(name == "data.json.gz" && f.Name() == "gzip") {
				t.Errorf("%s is claimed by %s", name, f.Name())
			}
		}
	}
}
