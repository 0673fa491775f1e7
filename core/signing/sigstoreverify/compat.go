package sigstoreverify

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// reference is what the reference signer writes that sigstore-go's strict
// bundle reader refuses, set aside before parsing.
type reference struct {
	// publicKey is the PEM the signer stores as publicKey.rawBytes (a
	// field the bundle specification lacks; it has only a hint).
	publicKey []byte
	// chain is a certificate chain stored in a v0.3 bundle, which the
	// specification allows only up to v0.2. It is a private CA's chain
	// (sigstore-go's certificate path expects Fulcio's SAN extensions),
	// so the chain is validated here and the signature checked with the
	// leaf's key.
	chain []*x509.Certificate
}

// normalize rewrites the two shapes above into what the bundle
// specification says, and returns what it moved. The signature and the
// payload are untouched, so verification means the same.
func normalize(data []byte) ([]byte, *reference, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("not JSON: %w", err)
	}
	var vm map[string]json.RawMessage
	if raw, ok := doc["verificationMaterial"]; !ok || json.Unmarshal(raw, &vm) != nil {
		return data, &reference{}, nil
	}
	ref := &reference{}
	changed := false
	if raw, ok := vm["publicKey"]; ok {
		var pk map[string]json.RawMessage
		if json.Unmarshal(raw, &pk) == nil {
			if rb, ok := pk["rawBytes"]; ok {
				var s string
				if err := json.Unmarshal(rb, &s); err == nil {
					ref.publicKey, _ = base64.StdEncoding.DecodeString(s)
				}
				delete(pk, "rawBytes")
				delete(pk, "keyDetails")
				vm["publicKey"], _ = json.Marshal(pk)
				changed = true
			}
		}
	}
	if raw, ok := vm["x509CertificateChain"]; ok {
		var ch struct {
			Certificates []struct {
				RawBytes string `json:"rawBytes"`
			} `json:"certificates"`
		}
		if err := json.Unmarshal(raw, &ch); err == nil && len(ch.Certificates) > 0 {
			for _, c := range ch.Certificates {
				der, err := base64.StdEncoding.DecodeString(c.RawBytes)
				if err != nil {
					return nil, nil, fmt.Errorf("certificate chain: %w", err)
				}
				cert, err := x509.ParseCertificate(der)
				if err != nil {
					return nil, nil, fmt.Errorf("certificate chain: %w", err)
				}
				ref.chain = append(ref.chain, cert)
			}
			delete(vm, "x509CertificateChain")
			vm["publicKey"], _ = json.Marshal(map[string]string{"hint": ""})
			changed = true
		}
	}
	if !changed {
		return data, ref, nil
	}
	doc["verificationMaterial"], _ = json.Marshal(vm)
	out, err := json.Marshal(doc)
	return out, ref, err
}
