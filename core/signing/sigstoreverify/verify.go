// Package sigstoreverify verifies OpenSSF Model Signing bundles with
// sigstore-go: the DSSE envelope, the key, certificate chain or keyless
// identity, and then (through package signing) every file against the
// manifest. It implements signing.Verifier.
package sigstoreverify

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
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/modelgate/modelgate/core/signing"
)

// Verifier is the sigstore-go signing.Verifier. Its zero value is ready.
type Verifier struct{}

// Verify checks the bundle against trust, then every file against the
// manifest. The error is for unusable input (no trust, an unreadable file);
// a signature that does not hold is a signing.Result with Problems.
func (Verifier) Verify(ctx context.Context, m signing.Model, trust signing.Trust, opts signing.Options) (*signing.Result, error) {
	if err := trust.Check(); err != nil {
		return nil, err
	}
	if len(m.Bundle) > signing.MaxBundleBytes {
		return &signing.Result{Problems: []signing.Problem{{Kind: signing.Invalid, Detail: fmt.Sprintf("signature of %d bytes exceeds %d", len(m.Bundle), signing.MaxBundleBytes)}}}, nil
	}
	data, ref, err := normalize(m.Bundle)
	if err != nil {
		return &signing.Result{Problems: []signing.Problem{{Kind: signing.Invalid, Detail: fmt.Sprintf("not a Sigstore bundle: %v", err)}}}, nil
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return &signing.Result{Problems: []signing.Problem{{Kind: signing.Invalid, Detail: fmt.Sprintf("not a Sigstore bundle: %v", err)}}}, nil
	}
	env, err := b.Envelope()
	if err != nil || env == nil {
		return &signing.Result{Problems: []signing.Problem{{Kind: signing.Invalid, Detail: "the bundle carries no DSSE envelope"}}}, nil
	}
	payload, err := env.RawEnvelope().DecodeB64Payload()
	if err != nil {
		return &signing.Result{Problems: []signing.Problem{{Kind: signing.Invalid, Detail: fmt.Sprintf("envelope payload: %v", err)}}}, nil
	}
	man, err := signing.ParseStatement(payload)
	if err != nil {
		return &signing.Result{Problems: []signing.Problem{{Kind: signing.Invalid, Detail: err.Error()}}}, nil
	}
	res := &signing.Result{Manifest: man}
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
	probs, err := signing.CompareFiles(ctx, m, man, opts)
	if err != nil {
		return nil, err
	}
	res.Problems = probs
	return res, nil
}

func verifyBundle(b *bundle.Bundle, ref *reference, man *signing.Manifest, trust signing.Trust, now time.Time) (string, *signing.Problem) {
	var material root.TrustedMaterial
	var vopts []verify.VerifierOption
	var popts []verify.PolicyOption
	var signer string
	switch {
	case len(trust.PublicKeyPEM) > 0:
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(trust.PublicKeyPEM)
		if err != nil {
			return "", &signing.Problem{Kind: signing.Invalid, Detail: fmt.Sprintf("public key: %v", err)}
		}
		if material = keyMaterial(pub); material == nil {
			return "", &signing.Problem{Kind: signing.Invalid, Detail: "public key: unsupported key type"}
		}
		vopts = append(vopts, verify.WithNoObserverTimestamps())
		popts = append(popts, verify.WithKey())
		signer = "public key sha256:" + keyFingerprint(pub)
		if hint := bundleKey(b, ref); hint != nil && keyFingerprint(hint) != keyFingerprint(pub) {
			return "", &signing.Problem{Kind: signing.SignerNotAllowed, Detail: fmt.Sprintf("signed with public key sha256:%s, not the trusted %s", keyFingerprint(hint), signer)}
		}
	case len(trust.RootPEM) > 0:
		leaf, prob := verifyChain(ref, trust, now)
		if prob != nil {
			return "", prob
		}
		material = keyMaterial(leaf.PublicKey)
		if material == nil {
			return "", &signing.Problem{Kind: signing.Invalid, Detail: "the certificate's key is not usable for signatures"}
		}
		vopts = append(vopts, verify.WithNoObserverTimestamps())
		popts = append(popts, verify.WithKey())
		signer = "certificate " + leaf.Subject.String() + " issued by " + leaf.Issuer.String()
	default:
		tr, err := root.NewTrustedRootFromJSON(trust.TrustedRootJSON)
		if err != nil {
			return "", &signing.Problem{Kind: signing.Invalid, Detail: fmt.Sprintf("trusted root: %v", err)}
		}
		material = tr
		vopts = append(vopts, verify.WithSignedCertificateTimestamps(1), verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1))
		id, err := verify.NewShortCertificateIdentity(trust.OIDCIssuer, "", trust.Identity, "")
		if err != nil {
			return "", &signing.Problem{Kind: signing.Invalid, Detail: fmt.Sprintf("identity: %v", err)}
		}
		popts = append(popts, verify.WithCertificateIdentity(id))
		signer = fmt.Sprintf("%s (issuer %s)", trust.Identity, trust.OIDCIssuer)
	}
	v, err := verify.NewVerifier(material, vopts...)
	if err != nil {
		return "", &signing.Problem{Kind: signing.Invalid, Detail: fmt.Sprintf("verifier: %v", err)}
	}
	result, err := v.Verify(b, verify.NewPolicy(verify.WithArtifactDigest("sha256", man.SubjectDigestOrSingle()), popts...))
	if err != nil {
		kind := signing.Invalid
		if strings.Contains(err.Error(), "expected") && (strings.Contains(err.Error(), "SAN") || strings.Contains(err.Error(), "issuer")) ||
			strings.Contains(err.Error(), "certificate identit") || strings.Contains(err.Error(), "x509: certificate signed by unknown authority") {
			kind = signing.SignerNotAllowed
		}
		return "", &signing.Problem{Kind: kind, Detail: err.Error()}
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
func verifyChain(ref *reference, trust signing.Trust, now time.Time) (*x509.Certificate, *signing.Problem) {
	if len(ref.chain) == 0 {
		return nil, &signing.Problem{Kind: signing.SignerNotAllowed, Detail: "the signature carries no certificate chain"}
	}
	roots, err := parseCerts(trust.RootPEM)
	if err != nil || len(roots) == 0 {
		return nil, &signing.Problem{Kind: signing.Invalid, Detail: fmt.Sprintf("certificate chain root: %v", err)}
	}
	inters, err := parseCerts(trust.IntermediatesPEM)
	if err != nil {
		return nil, &signing.Problem{Kind: signing.Invalid, Detail: fmt.Sprintf("intermediate certificates: %v", err)}
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
			return nil, &signing.Problem{Kind: signing.SignerNotAllowed, Detail: fmt.Sprintf("certificate %s: %v", leaf.Subject, err)}
		}
		return nil, &signing.Problem{Kind: signing.Invalid, Detail: fmt.Sprintf("certificate %s: %v", leaf.Subject, err)}
	}
	return leaf, nil
}
