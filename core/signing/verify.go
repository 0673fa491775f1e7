package signing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
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

// Check reports whether exactly one kind of trust is given.
func (t Trust) Check() error {
	if t.kinds() != 1 {
		return errors.New("give exactly one of a public key, a certificate chain, or an identity with its OIDC issuer")
	}
	return nil
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

// Verifier checks a model's signature bundle against trust, then every file
// against the signed manifest. The error is for unusable input (no trust, an
// unreadable file); a signature that does not hold is a Result with
// Problems. Package sigstoreverify is the implementation; it is apart
// because sigstore-go is the largest library modelgate links, and the
// scanner binary leaves it out.
type Verifier interface {
	Verify(ctx context.Context, m Model, trust Trust, opts Options) (*Result, error)
}

// DefaultIgnorePaths are what the reference signer leaves out by default.
var DefaultIgnorePaths = []string{".git", ".gitattributes", ".github", ".gitignore"}

// SubjectDigestOrSingle is the digest the statement's subject must carry.
func (m *Manifest) SubjectDigestOrSingle() []byte {
	if len(m.SubjectDigest) > 0 {
		return m.SubjectDigest
	}
	return resourcesDigest(m)
}

// CompareFiles hashes every file and compares it with the manifest.
func CompareFiles(ctx context.Context, m Model, man *Manifest, opts Options) ([]Problem, error) {
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
