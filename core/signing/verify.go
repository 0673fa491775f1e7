package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Trust is who may have signed: exactly one of a public key, a certificate
// chain, or a Sigstore keyless identity.
type Trust struct {
	// PublicKeyPEM is the signer's public key.
	PublicKeyPEM []byte
	// RootPEM is the root of a private certificate chain; IntermediatesPEM
	// are optional (the bundle may carry them).
	RootPEM, IntermediatesPEM []byte
	// Identity and OIDCIssuer name a Sigstore keyless signer (the
	// certificate's SAN and issuer); TrustedRootJSON is the Sigstore
	// trusted root (the public-good one, or a private instance's).
	Identity, OIDCIssuer string
	TrustedRootJSON      []byte
}

func (t Trust) kinds() int {
	n := 0
	if len(t.PublicKeyPEM) > 0 {
		n++
	}
	if len(t.RootPEM) > 0 {
		n++
	}
	if t.Identity != "" || t.OIDCIssuer != "" {
		n++
	}
	return n
}

// File is one file of the model, by its path relative to the model root.
type File struct {
	Name string
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// Model is what is verified: the files and the signature bundle's bytes.
type Model struct {
	// Files lists the model's files ('/'-separated names), the signature
	// itself excluded.
	Files []File
	// SingleFile is set when the model is one file (its manifest names it
	// ".").
	SingleFile bool
	Bundle     []byte
}

// ProblemKind classifies why a signature does not hold.
type ProblemKind string

// Problem kinds; each maps to its own rule.
const (
	Invalid          ProblemKind = "invalid"            // bundle or signature does not verify
	SignerNotAllowed ProblemKind = "signer-not-allowed" // valid, but not by the trusted signer
	Changed          ProblemKind = "changed"            // a file's digest differs
	Missing          ProblemKind = "missing"            // a signed file is absent
	Extra            ProblemKind = "extra"              // a file the signature does not cover
)

// Problem is one reason the signature does not hold.
type Problem struct {
	Kind   ProblemKind
	Path   string // the file, "" for the signature as a whole
	Detail string
}

// Result is the outcome of a verification.
type Result struct {
	// Signer describes who signed (key fingerprint, certificate subject or
	// keyless identity), when the signature verified.
	Signer   string
	Manifest *Manifest
	Problems []Problem
}

// OK reports whether the signature holds for every file.
func (r *Result) OK() bool { return len(r.Problems) == 0 }

// Options adjust a verification.
type Options struct {
	// IgnorePaths are left out of the comparison, like the reference
	// signer's --ignore-paths (relative to the model root). The paths the
	// manifest records as ignored are always left out.
	IgnorePaths []string
	// Now is the clock for certificate validity (nil: time.Now).
	Now func() time.Time
}

// DefaultIgnorePaths are what the reference signer leaves out by default.
var DefaultIgnorePaths = []string{".git", ".gitattributes", ".github", ".gitignore"}

// Verify checks the bundle against trust, then every file against the
// manifest. The error is for unusable input (no trust, an unreadable file);
// a signature that does not hold is a Result with Problems.
func Verify(ctx context.Context, m Model, trust Trust, opts Options) (*Result, error) {
	if trust.kinds() != 1 {
		return nil, errors.New("give exactly one of a public key, a certificate chain, or an identity with its OIDC issuer")
	}
	if len(m.Bundle) > MaxBundleBytes {
		return &Result{Problems: []Problem{{Kind: Invalid, Detail: fmt.Sprintf("signature of %d bytes exceeds %d", len(m.Bundle), MaxBundleBytes)}}}, nil
	}
	data, ref, err := normalize(m.Bundle)
	if err != nil {
		return &Result{Problems: []Problem{{Kind: Invalid, Detail: fmt.Sprintf("not a Sigstore bundle: %v", err)}}}, nil
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return &Result{Problems: []Problem{{Kind: Invalid, Detail: fmt.Sprintf("not a Sigstore bundle: %v", err)}}}, nil
	}
	env, err := b.Envelope()
	if err != nil || env == nil {
		return &Result{Problems: []Problem{{Kind: Invalid, Detail: "the bundle carries no DSSE envelope"}}}, nil
	}
	payload, err := env.RawEnvelope().DecodeB64Payload()
	if err != nil {
		return &Result{Problems: []Problem{{Kind: Invalid, Detail: fmt.Sprintf("envelope payload: %v", err)}}}, nil
	}
	man, err := ParseStatement(payload)
	if err != nil {
		return &Result{Problems: []Problem{{Kind: Invalid, Detail: err.Error()}}}, nil
	}
	res := &Result{Manifest: man}
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	signer, prob := verifyBundle(&b, ref, man, trust, now)
	if prob != nil {
		res.Problems = append(res.Problems, *prob)
		return res, nil
	}
	res.Signer = signer
	probs, err := compareFiles(ctx, m, man, opts)
	if err != nil {
		return nil, err
	}
	res.Problems = probs
	return res, nil
}

func verifyBundle(b *bundle.Bundle, ref *reference, man *Manifest, trust Trust, now time.Time) (string, *Problem) {
	var material root.TrustedMaterial
	var vopts []verify.VerifierOption
	var popts []verify.PolicyOption
	var signer string
	switch {
	case len(trust.PublicKeyPEM) > 0:
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(trust.PublicKeyPEM)
		if err != nil {
			return "", &Problem{Kind: Invalid, Detail: fmt.Sprintf("public key: %v", err)}
		}
		if material = keyMaterial(pub); material == nil {
			return "", &Problem{Kind: Invalid, Detail: "public key: unsupported key type"}
		}
		vopts = append(vopts, verify.WithNoObserverTimestamps())
		popts = append(popts, verify.WithKey())
		signer = "public key sha256:" + keyFingerprint(pub)
		if hint := bundleKey(b, ref); hint != nil && keyFingerprint(hint) != keyFingerprint(pub) {
			return "", &Problem{Kind: SignerNotAllowed, Detail: fmt.Sprintf("signed with public key sha256:%s, not the trusted %s", keyFingerprint(hint), signer)}
		}
	case len(trust.RootPEM) > 0:
		leaf, prob := verifyChain(ref, trust, now)
		if prob != nil {
			return "", prob
		}
		material = keyMaterial(leaf.PublicKey)
		if material == nil {
			return "", &Problem{Kind: Invalid, Detail: "the certificate's key is not usable for signatures"}
		}
		vopts = append(vopts, verify.WithNoObserverTimestamps())
		popts = append(popts, verify.WithKey())
		signer = "certificate " + leaf.Subject.String() + " issued by " + leaf.Issuer.String()
	default:
		tr, err := root.NewTrustedRootFromJSON(trust.TrustedRootJSON)
		if err != nil {
			return "", &Problem{Kind: Invalid, Detail: fmt.Sprintf("trusted root: %v", err)}
		}
		material = tr
		vopts = append(vopts, verify.WithSignedCertificateTimestamps(1), verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1))
		id, err := verify.NewShortCertificateIdentity(trust.OIDCIssuer, "", trust.Identity, "")
		if err != nil {
			return "", &Problem{Kind: Invalid, Detail: fmt.Sprintf("identity: %v", err)}
		}
		popts = append(popts, verify.WithCertificateIdentity(id))
		signer = fmt.Sprintf("%s (issuer %s)", trust.Identity, trust.OIDCIssuer)
	}
	v, err := verify.NewVerifier(material, vopts...)
	if err != nil {
		return "", &Problem{Kind: Invalid, Detail: fmt.Sprintf("verifier: %v", err)}
	}
	result, err := v.Verify(b, verify.NewPolicy(verify.WithArtifactDigest("sha256", man.SubjectDigestOrSingle()), popts...))
	if err != nil {
		kind := Invalid
		if strings.Contains(err.Error(), "expected") && (strings.Contains(err.Error(), "SAN") || strings.Contains(err.Error(), "issuer")) ||
			strings.Contains(err.Error(), "certificate identit") || strings.Contains(err.Error(), "x509: certificate signed by unknown authority") {
			kind = SignerNotAllowed
		}
		return "", &Problem{Kind: kind, Detail: err.Error()}
	}
	if signer == "" && result.Signature != nil && result.Signature.Certificate != nil {
		c := result.Signature.Certificate
		signer = "certificate " + c.SubjectAlternativeName
		if signer == "certificate " {
			signer = "certificate issued by " + c.Issuer
		}
	}
	return signer, nil
}

// SubjectDigestOrSingle is the digest the statement's subject must carry.
func (m *Manifest) SubjectDigestOrSingle() []byte {
	if len(m.SubjectDigest) > 0 {
		return m.SubjectDigest
	}
	return resourcesDigest(m)
}

func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for len(bytes.TrimSpace(data)) > 0 {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			return nil, errors.New("not PEM")
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func keyFingerprint(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "unknown"
	}
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:8])
}

// bundleKey is the public key a key-signed bundle carries, if any.
func bundleKey(b *bundle.Bundle, ref *reference) crypto.PublicKey {
	if len(ref.publicKey) > 0 {
		if pub, err := cryptoutils.UnmarshalPEMToPublicKey(ref.publicKey); err == nil {
			return pub
		}
	}
	if b.VerificationMaterial == nil || b.VerificationMaterial.GetPublicKey() == nil {
		return nil
	}
	if pub, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(b.VerificationMaterial.GetPublicKey().GetHint())); err == nil {
		return pub
	}
	return nil
}

// keyMaterial trusts exactly one public key.
func keyMaterial(pub crypto.PublicKey) root.TrustedMaterial {
	v, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		return nil
	}
	return root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return root.NewExpiringKey(v, time.Time{}, time.Time{}), nil
	})
}

// verifyChain validates a private CA chain carried by the bundle: leaf to
// the trusted root through the bundle's and the caller's intermediates,
// valid now, for code signing.
func verifyChain(ref *reference, trust Trust, now time.Time) (*x509.Certificate, *Problem) {
	if len(ref.chain) == 0 {
		return nil, &Problem{Kind: SignerNotAllowed, Detail: "the signature carries no certificate chain"}
	}
	roots, err := parseCerts(trust.RootPEM)
	if err != nil || len(roots) == 0 {
		return nil, &Problem{Kind: Invalid, Detail: fmt.Sprintf("certificate chain root: %v", err)}
	}
	inters, err := parseCerts(trust.IntermediatesPEM)
	if err != nil {
		return nil, &Problem{Kind: Invalid, Detail: fmt.Sprintf("intermediate certificates: %v", err)}
	}
	rootPool, interPool := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range roots {
		rootPool.AddCert(r)
	}
	for _, c := range append(inters, ref.chain[1:]...) {
		interPool.AddCert(c)
	}
	leaf := ref.chain[0]
	_, err = leaf.Verify(x509.VerifyOptions{Roots: rootPool, Intermediates: interPool, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}})
	if err != nil {
		var unknown x509.UnknownAuthorityError
		if errors.As(err, &unknown) {
			return nil, &Problem{Kind: SignerNotAllowed, Detail: fmt.Sprintf("certificate %s: %v", leaf.Subject, err)}
		}
		return nil, &Problem{Kind: Invalid, Detail: fmt.Sprintf("certificate %s: %v", leaf.Subject, err)}
	}
	return leaf, nil
}

// compareFiles hashes every file and compares it with the manifest.
func compareFiles(ctx context.Context, m Model, man *Manifest, opts Options) ([]Problem, error) {
	ignored := append(append(append([]string{}, DefaultIgnorePaths...), man.IgnorePaths...), opts.IgnorePaths...)
	seen := map[string]bool{}
	var probs []Problem
	files := m.Files
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	for _, f := range files {
		name := f.Name
		if m.SingleFile {
			name = "."
		} else if isIgnored(name, ignored) {
			continue
		}
		want, ok := man.Resources[name]
		if !ok {
			probs = append(probs, Problem{Kind: Extra, Path: f.Name, Detail: "not covered by the signature"})
			continue
		}
		seen[name] = true
		got, err := digest(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("hash %s: %w", f.Name, err)
		}
		if got != want {
			probs = append(probs, Problem{Kind: Changed, Path: f.Name, Detail: fmt.Sprintf("sha256 %s, signed %s", got, want)})
		}
	}
	for _, n := range man.Names() {
		if !seen[n] {
			probs = append(probs, Problem{Kind: Missing, Path: n, Detail: "signed but absent"})
		}
	}
	return probs, nil
}

func isIgnored(name string, ignored []string) bool {
	for _, ig := range ignored {
		ig = strings.Trim(path.Clean("/"+ig), "/")
		if ig == "" {
			continue
		}
		if name == ig || strings.HasPrefix(name, ig+"/") {
			return true
		}
	}
	return false
}

func digest(ctx context.Context, f File) (string, error) {
	rc, err := f.Open(ctx)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
