package sigstoreverify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/signing"
)

// vectors is the reference signer's test material in the shared folder
// beside the repository.
func vectors(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "..", "shared", "reference", "model-signing-vectors")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("model-signing vectors missing: %v", err)
	}
	return dir
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func trustFor(t *testing.T, dir, kind string) signing.Trust {
	keys := filepath.Join(dir, "keys")
	switch kind {
	case "elliptic-key":
		return signing.Trust{PublicKeyPEM: readFile(t, filepath.Join(keys, "signing-key-pub.pem"))}
	case "certificate":
		return signing.Trust{RootPEM: readFile(t, filepath.Join(keys, "ca-cert.pem")), IntermediatesPEM: readFile(t, filepath.Join(keys, "int-ca-cert.pem"))}
	}
	return signing.Trust{Identity: "stefanb@us.ibm.com", OIDCIssuer: "https://sigstore.verify.ibm.com/oauth2",
		TrustedRootJSON: readFile(t, filepath.Join(dir, "trusted-root-public-good.json"))}
}

// modelOf maps a vector folder to the model it signs: the two oldest
// elliptic-key vectors sign the single file signme-1.
func modelOf(t *testing.T, folder string) signing.Model {
	t.Helper()
	p := folder
	if strings.HasSuffix(folder, "v0.3.1-elliptic-key") || strings.HasSuffix(folder, "v1.0.0-elliptic-key") {
		p = filepath.Join(folder, "signme-1")
	}
	m, err := signing.DiskModel(p, filepath.Join(folder, "model.sig"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReferenceVectorsVerify(t *testing.T) {
	dir := vectors(t)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "v") {
			continue
		}
		n++
		kind := e.Name()[strings.Index(e.Name(), "-")+1:]
		t.Run(e.Name(), func(t *testing.T) {
			folder := filepath.Join(dir, e.Name())
			// v1.0.1 signed with --ignore-paths ignore-me but did not record it.
			res, err := Verifier{}.Verify(context.Background(), modelOf(t, folder), trustFor(t, dir, kind), signing.Options{IgnorePaths: []string{"ignore-me"}})
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK() {
				t.Fatalf("problems: %+v", res.Problems)
			}
			if res.Signer == "" {
				t.Error("no signer reported")
			}
			t.Logf("signer: %s", res.Signer)
		})
	}
	if n < 9 {
		t.Fatalf("only %d vector folders", n)
	}
}

// copyDir copies a vector folder so a negative case can change it.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if err := os.WriteFile(filepath.Join(dst, e.Name()), readFile(t, filepath.Join(src, e.Name())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestNegativeCases(t *testing.T) {
	dir := vectors(t)
	type mutate func(t *testing.T, d string)
	write := func(name, data string) mutate {
		return func(t *testing.T, d string) {
			if err := os.WriteFile(filepath.Join(d, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	remove := func(name string) mutate {
		return func(t *testing.T, d string) {
			if err := os.Remove(filepath.Join(d, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	tamper := func(t *testing.T, d string) {
		p := filepath.Join(d, "model.sig")
		b := readFile(t, p)
		// Flip one character of the base64 payload.
		i := strings.Index(string(b), `"payload": "`) + len(`"payload": "`) + 40
		if i < 40 {
			i = strings.Index(string(b), `"payload":"`) + len(`"payload":"`) + 40
		}
		c := byte('A')
		if b[i] == 'A' {
			c = 'B'
		}
		b[i] = c
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	otherKey := signing.Trust{PublicKeyPEM: throwawayKeyPEM(t)}
	cases := []struct {
		name   string
		folder string
		change mutate
		trust  *signing.Trust
		ignore []string
		want   signing.ProblemKind
	}{
		{"changed file (key)", "v1.1.0-elliptic-key", write("signme-1", "changed\n"), nil, nil, signing.Changed},
		{"changed file (certificate)", "v1.1.0-certificate", write("signme-2", "changed\n"), nil, nil, signing.Changed},
		{"changed file (sigstore)", "v1.1.0-sigstore", write("signme-1", "changed\n"), nil, nil, signing.Changed},
		{"extra file", "v1.1.0-certificate", write("payload.pkl", "extra"), nil, nil, signing.Extra},
		{"ignored file not recorded", "v1.0.1-certificate", nil, nil, nil, signing.Extra},
		{"missing file", "v1.1.0-elliptic-key", remove("signme-2"), nil, nil, signing.Missing},
		{"another key", "v1.0.1-elliptic-key", nil, &otherKey, []string{"ignore-me"}, signing.SignerNotAllowed},
		// A v1.1 key bundle names its key only by an opaque hint, so a
		// wrong key cannot be told from a bad signature.
		{"another key, hint only", "v1.1.0-elliptic-key", nil, &otherKey, nil, signing.Invalid},
		{"another identity", "v1.1.0-sigstore", nil, &signing.Trust{Identity: "mallory@example.com", OIDCIssuer: "https://sigstore.verify.ibm.com/oauth2",
			TrustedRootJSON: readFile(t, filepath.Join(dir, "trusted-root-public-good.json"))}, nil, signing.SignerNotAllowed},
		{"another CA", "v1.1.0-certificate", nil, &signing.Trust{RootPEM: throwawayCAPEM(t)}, nil, signing.SignerNotAllowed},
		{"tampered payload", "v1.1.0-elliptic-key", tamper, nil, nil, signing.Invalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := copyDir(t, filepath.Join(dir, tc.folder))
			if tc.change != nil {
				tc.change(t, d)
			}
			trust := trustFor(t, dir, tc.folder[strings.Index(tc.folder, "-")+1:])
			if tc.trust != nil {
				trust = *tc.trust
			}
			m, err := signing.DiskModel(d, "")
			if err != nil {
				t.Fatal(err)
			}
			res, err := Verifier{}.Verify(context.Background(), m, trust, signing.Options{IgnorePaths: tc.ignore, Now: time.Now})
			if err != nil {
				t.Fatal(err)
			}
			if res.OK() {
				t.Fatalf("verified; want %s", tc.want)
			}
			if tc.want != "" && res.Problems[0].Kind != tc.want {
				t.Fatalf("problems %+v, want %s", res.Problems, tc.want)
			}
		})
	}
}

// throwawayKeyPEM is a fresh P-384 public key that signed nothing.
func throwawayKeyPEM(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// throwawayCAPEM is a fresh self-signed CA certificate that issued nothing.
func throwawayCAPEM(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "throwaway CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
