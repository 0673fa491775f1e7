package signing

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzManifest feeds hostile statements and bundles to the parts this
// package parses itself: they must fail cleanly, never panic.
func FuzzManifest(f *testing.F) {
	dir := filepath.Join("..", "..", "..", "shared", "reference", "model-signing-vectors")
	for _, v := range []string{"v0.3.1-elliptic-key", "v1.1.0-certificate", "v1.1.0-sigstore"} {
		b, err := os.ReadFile(filepath.Join(dir, v, "model.sig"))
		if err != nil {
			continue
		}
		f.Add(b)
		var doc struct {
			Envelope struct {
				Payload string `json:"payload"`
			} `json:"dsseEnvelope"`
		}
		if json.Unmarshal(b, &doc) == nil {
			if p, err := base64.StdEncoding.DecodeString(doc.Envelope.Payload); err == nil {
				f.Add(p)
			}
		}
	}
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://model_signing/signature/v1.0","subject":[{"name":"m","digest":{"sha256":"00"}}],"predicate":{"resources":[{"name":"../x"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ParseStatement(data); err == nil {
			for _, n := range m.Names() {
				if validName(n) != nil {
					t.Fatalf("accepted bad name %q", n)
				}
			}
		}
	})
}
