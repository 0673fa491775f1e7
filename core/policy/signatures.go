package policy

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// SignatureRequirement asks for an OpenSSF model signature on every model
// directory whose report path matches Path, made by exactly one kind of
// trusted signer. File names are relative to the policy file's directory.
type SignatureRequirement struct {
	// Path is a glob of model directories ("models/prod/*", "**/release").
	Path string `yaml:"path"`
	// Signature is the bundle's name inside the directory (model.sig).
	Signature string `yaml:"signature"`
	// PublicKey is a PEM public key file.
	PublicKey string `yaml:"public_key"`
	// CertificateChain is the PEM root of a private CA; Intermediates
	// optional PEM intermediates.
	CertificateChain string `yaml:"certificate_chain"`
	Intermediates    string `yaml:"intermediates"`
	// Identity and OIDCIssuer name a Sigstore keyless signer; TrustedRoot
	// is the Sigstore trusted root JSON file.
	Identity    string `yaml:"identity"`
	OIDCIssuer  string `yaml:"oidc_issuer"`
	TrustedRoot string `yaml:"trusted_root"`
	// IgnorePaths are left out of the comparison, as the signer's
	// --ignore-paths.
	IgnorePaths []string `yaml:"ignore_paths"`
}

// Signatures is a requirement with its trust material read.
type Signatures struct {
	Path, Signature                         string
	PublicKeyPEM, RootPEM, IntermediatesPEM []byte
	Identity, OIDCIssuer                    string
	TrustedRootJSON                         []byte
	IgnorePaths                             []string
}

// Signatures returns the signature requirements.
func (p *Policy) Signatures() []Signatures { return p.signatures }

func (p *Policy) loadSignatureTrust(base string) error {
	p.signatures = nil
	for i, r := range p.cfg.Signatures {
		where := fmt.Sprintf("signatures %d (%s)", i+1, r.Path)
		if strings.TrimSpace(r.Path) == "" {
			return fmt.Errorf("signatures %d: a path is required", i+1)
		}
		if _, err := path.Match(strings.TrimPrefix(r.Path, "**/"), "x"); err != nil {
			return fmt.Errorf("%s: bad path glob: %w", where, err)
		}
		kinds := 0
		for _, set := range []bool{r.PublicKey != "", r.CertificateChain != "", r.Identity != "" || r.OIDCIssuer != ""} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			return fmt.Errorf("%s: give exactly one of public_key, certificate_chain, or identity with oidc_issuer", where)
		}
		s := Signatures{Path: r.Path, Signature: r.Signature, Identity: r.Identity, OIDCIssuer: r.OIDCIssuer, IgnorePaths: r.IgnorePaths}
		if s.Signature == "" {
			s.Signature = "model.sig"
		}
		read := func(name string) ([]byte, error) {
			if name == "" {
				return nil, nil
			}
			if !filepath.IsAbs(name) {
				name = filepath.Join(base, name)
			}
			b, err := os.ReadFile(name)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			return b, nil
		}
		var err error
		if s.PublicKeyPEM, err = read(r.PublicKey); err != nil {
			return err
		}
		if s.RootPEM, err = read(r.CertificateChain); err != nil {
			return err
		}
		if s.IntermediatesPEM, err = read(r.Intermediates); err != nil {
			return err
		}
		if r.Identity != "" || r.OIDCIssuer != "" {
			if r.Identity == "" || r.OIDCIssuer == "" {
				return fmt.Errorf("%s: identity and oidc_issuer go together", where)
			}
			if r.TrustedRoot == "" {
				return errors.New(where + ": keyless signatures need trusted_root (the Sigstore trusted root JSON, e.g. from `sigstore-go` or `cosign trusted-root`)")
			}
			if s.TrustedRootJSON, err = read(r.TrustedRoot); err != nil {
				return err
			}
		}
		p.signatures = append(p.signatures, s)
	}
	return nil
}
