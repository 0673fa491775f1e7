// Package signing is the OpenSSF Model Signing (OMS) layer: a Sigstore
// bundle whose DSSE envelope carries an in-toto statement listing every file
// of a model with its digest. It reads the manifest (statement,
// predicate.resources, serialization, ignore paths) and compares it with the
// files, bounded like every parser; bundle, certificate and transparency-log
// verification are sigstore-go's, in package sigstoreverify, behind the
// Verifier interface.
package signing

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
)

// Limits on what a signature may claim; real manifests are far smaller.
const (
	MaxBundleBytes = 16 << 20
	MaxResources   = 1 << 20
	maxNameBytes   = 4096
)

// Predicate types of OMS statements.
const (
	PredicateV1  = "https://model_signing/signature/v1.0"
	PredicateV01 = "https://model_signing/Digests/v0.1"
	statementV1  = "https://in-toto.io/Statement/v1"
)

// Manifest is what a signature says about the model.
type Manifest struct {
	// Subject is the statement's subject name (the model's name).
	Subject string
	// SubjectDigest is the subject's sha256, over the resources' digests.
	SubjectDigest []byte
	// Resources map a '/'-separated path relative to the model root ("."
	// for a single-file model) to its hex sha256.
	Resources map[string]string
	// IgnorePaths are the paths the signer left out, as recorded.
	IgnorePaths []string
	// Method is the serialization method ("files").
	Method string
}

type statement struct {
	Type    string `json:"_type"`
	Subject []struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

type predicateV1 struct {
	Serialization struct {
		Method        string   `json:"method"`
		HashType      string   `json:"hash_type"`
		AllowSymlinks bool     `json:"allow_symlinks"`
		IgnorePaths   []string `json:"ignore_paths"`
	} `json:"serialization"`
	Resources []struct {
		Name      string `json:"name"`
		Algorithm string `json:"algorithm"`
		Digest    string `json:"digest"`
	} `json:"resources"`
}

// ParseStatement reads an OMS in-toto statement (the DSSE payload).
func ParseStatement(payload []byte) (*Manifest, error) {
	if len(payload) > MaxBundleBytes {
		return nil, fmt.Errorf("statement of %d bytes exceeds %d", len(payload), MaxBundleBytes)
	}
	var st statement
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("statement is not JSON: %w", err)
	}
	if st.Type != statementV1 {
		return nil, fmt.Errorf("statement type %q is not in-toto Statement v1", st.Type)
	}
	m := &Manifest{Resources: map[string]string{}}
	switch st.PredicateType {
	case PredicateV1:
		if len(st.Subject) != 1 {
			return nil, fmt.Errorf("statement has %d subjects, OMS v1.0 has one", len(st.Subject))
		}
		sd, err := hex.DecodeString(st.Subject[0].Digest["sha256"])
		if err != nil || len(sd) != sha256.Size {
			return nil, errors.New("statement subject has no sha256 digest")
		}
		m.Subject, m.SubjectDigest = st.Subject[0].Name, sd
		var p predicateV1
		if err := json.Unmarshal(st.Predicate, &p); err != nil {
			return nil, fmt.Errorf("predicate: %w", err)
		}
		m.Method = p.Serialization.Method
		if m.Method != "files" {
			return nil, fmt.Errorf("serialization method %q is not supported (only \"files\")", m.Method)
		}
		if p.Serialization.HashType != "sha256" {
			return nil, fmt.Errorf("hash type %q is not supported (only sha256)", p.Serialization.HashType)
		}
		m.IgnorePaths = p.Serialization.IgnorePaths
		if len(p.Resources) > MaxResources {
			return nil, fmt.Errorf("%d resources exceed %d", len(p.Resources), MaxResources)
		}
		for _, r := range p.Resources {
			if r.Algorithm != "sha256" {
				return nil, fmt.Errorf("resource %q: algorithm %q is not sha256", r.Name, r.Algorithm)
			}
			if err := addResource(m, r.Name, r.Digest); err != nil {
				return nil, err
			}
		}
		if want := resourcesDigest(m); !bytes.Equal(want, m.SubjectDigest) {
			return nil, errors.New("statement subject digest does not match its resources")
		}
	case PredicateV01:
		// One subject per file, no serialization record.
		if len(st.Subject) > MaxResources {
			return nil, fmt.Errorf("%d subjects exceed %d", len(st.Subject), MaxResources)
		}
		m.Method = "files"
		for _, s := range st.Subject {
			if err := addResource(m, s.Name, s.Digest["sha256"]); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("predicate type %q is not an OpenSSF model signature", st.PredicateType)
	}
	return m, nil
}

func addResource(m *Manifest, name, digest string) error {
	if err := validName(name); err != nil {
		return err
	}
	if d, err := hex.DecodeString(digest); err != nil || len(d) != sha256.Size {
		return fmt.Errorf("resource %q: digest is not a sha256", name)
	}
	if _, dup := m.Resources[name]; dup {
		return fmt.Errorf("resource %q is listed twice", name)
	}
	m.Resources[name] = strings.ToLower(digest)
	return nil
}

// validName refuses names that would leave the model directory.
func validName(name string) error {
	switch {
	case name == ".":
		return nil
	case name == "" || len(name) > maxNameBytes:
		return fmt.Errorf("resource name of %d bytes", len(name))
	case strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || strings.ContainsRune(name, 0):
		return fmt.Errorf("resource name %q is not a relative '/'-separated path", name)
	case path.Clean(name) != name || name == ".." || strings.HasPrefix(name, "../"):
		return fmt.Errorf("resource name %q is not a clean path inside the model", name)
	}
	return nil
}

// Names returns the resource names, sorted.
func (m *Manifest) Names() []string {
	out := make([]string, 0, len(m.Resources))
	for n := range m.Resources {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// resourcesDigest is OMS v1.0's subject digest: sha256 over the raw
// resource digests in name order.
func resourcesDigest(m *Manifest) []byte {
	h := sha256.New()
	for _, n := range m.Names() {
		d, _ := hex.DecodeString(m.Resources[n])
		h.Write(d)
	}
	return h.Sum(nil)
}
