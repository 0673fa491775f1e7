package sigstoreverify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzNormalize feeds hostile bundles to the rewriting done before
// sigstore-go reads them: it must fail cleanly, never panic.
func FuzzNormalize(f *testing.F) {
	dir := filepath.Join("..", "..", "..", "..", "shared", "reference", "model-signing-vectors")
	for _, v := range []string{"v0.3.1-elliptic-key", "v1.1.0-certificate", "v1.1.0-sigstore"} {
		if b, err := os.ReadFile(filepath.Join(dir, v, "model.sig")); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"verificationMaterial":{"publicKey":{"rawBytes":"AA=="},"x509CertificateChain":{"certificates":[{"rawBytes":"AA=="}]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, ref, err := normalize(data)
		if err != nil {
			return
		}
		if !json.Valid(out) || ref == nil {
			t.Fatalf("normalize accepted %q but gave invalid JSON %q (reference %v)", data, out, ref)
		}
	})
}
