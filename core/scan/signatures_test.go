package scan_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/scan"
	"github.com/modelgate/modelgate/core/signing/sigstoreverify"
)

func vectorDir(t *testing.T, name string) string {
	t.Helper()
	d := filepath.Join("..", "..", "..", "shared", "reference", "model-signing-vectors", name)
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("model-signing vectors missing: %v", err)
	}
	return d
}

func copyInto(t *testing.T, src, dst string) {
	t.Helper()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dst, e.Name()), b)
	}
}

// TestPolicyRequiresSignatures: a policy's signatures section turns each
// way a signature can fail into its own finding on the file concerned.
func TestPolicyRequiresSignatures(t *testing.T) {
	keys := vectorDir(t, "keys")
	policyYAML := `signatures:
  - path: models/prod/*
    public_key: ` + filepath.Join(keys, "signing-key-pub.pem") + "\n"
	cases := []struct {
		name   string
		setup  func(t *testing.T, model string)
		rules  string // rule ids found, sorted, comma-joined
		at     string // path of the first finding, relative to the root
		signer bool
	}{
		{"signed and intact", func(t *testing.T, m string) {}, "", "", true},
		{"file changed", func(t *testing.T, m string) { write(t, filepath.Join(m, "signme-1"), []byte("tampered\n")) }, "MG283", "models/prod/llm/signme-1", true},
		{"extra file", func(t *testing.T, m string) { write(t, filepath.Join(m, "extra.py"), []byte("import os\n")) }, "MG285", "models/prod/llm/extra.py", true},
		{"file missing", func(t *testing.T, m string) { os.Remove(filepath.Join(m, "signme-2")) }, "MG284", "models/prod/llm/signme-2", true},
		{"unsigned", func(t *testing.T, m string) { os.Remove(filepath.Join(m, "model.sig")) }, "MG280", "models/prod/llm/model.sig", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			model := filepath.Join(root, "models", "prod", "llm")
			copyInto(t, vectorDir(t, "v1.1.0-elliptic-key"), model)
			write(t, filepath.Join(root, "models", "dev", "scratch.txt"), []byte("not required\n"))
			tc.setup(t, model)
			pol, err := policy.Parse([]byte(policyYAML), "", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			rep, err := scan.Run(context.Background(), scan.Paths([]string{root}, root), scan.Options{Policy: pol, SignatureVerifier: sigstoreverify.Verifier{}})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			first := ""
			for _, f := range rep.Findings() {
				if strings.HasPrefix(f.RuleID, "MG28") {
					ids = append(ids, f.RuleID)
					if first == "" {
						first = f.Path
					}
				}
			}
			if got := strings.Join(ids, ","); got != tc.rules {
				t.Fatalf("rules %q, want %q", got, tc.rules)
			}
			if first != tc.at {
				t.Errorf("finding at %q, want %q", first, tc.at)
			}
			if (tc.rules == "") != (rep.Outcome == report.OutcomePass) {
				t.Errorf("outcome %s with findings %q", rep.Outcome, tc.rules)
			}
			var signer string
			for _, m := range rep.Models {
				if m.Path == "models/prod/llm" {
					signer = m.Properties["signature:signer"]
				}
			}
			if (signer != "") != tc.signer {
				t.Errorf("signer %q recorded on the model: want one %v", signer, tc.signer)
			}
		})
	}
}

// TestSignaturesWithoutVerifierFailClosed: a library caller that forgets
// the verifier gets an error before anything is read, never a pass.
func TestSignaturesWithoutVerifierFailClosed(t *testing.T) {
	keys := vectorDir(t, "keys")
	pol, err := policy.Parse([]byte("signatures:\n  - path: models/*\n    public_key: "+filepath.Join(keys, "signing-key-pub.pem")+"\n"), "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	write(t, filepath.Join(root, "models", "m", "weights.bin"), []byte("data\n"))
	rep, err := scan.Run(context.Background(), scan.Paths([]string{root}, root), scan.Options{Policy: pol})
	if !errors.Is(err, scan.ErrNoSignatureVerifier) || rep != nil {
		t.Fatalf("got report %v, error %v; want ErrNoSignatureVerifier", rep, err)
	}
}

func TestPolicySignaturesNeedOneTrust(t *testing.T) {
	for _, y := range []string{
		"signatures:\n  - path: models/*\n",
		"signatures:\n  - path: models/*\n    public_key: a.pem\n    identity: x@example.com\n    oidc_issuer: https://issuer\n",
		"signatures:\n  - path: models/*\n    identity: x@example.com\n    oidc_issuer: https://issuer\n",
		"signatures:\n  - path: models/*\n    public_key: does-not-exist.pem\n",
	} {
		if _, err := policy.Parse([]byte(y), "", time.Now()); err == nil {
			t.Errorf("accepted:\n%s", y)
		}
	}
}
