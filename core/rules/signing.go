package rules

import "github.com/modelgate/modelgate/core/finding"

// Signature rule ids (MG280-MG285): OpenSSF model-signing checks that a policy's
// signatures section asks for.
const (
	SignatureMissing          = "MG280"
	SignatureInvalid          = "MG281"
	SignatureSignerNotAllowed = "MG282"
	SignatureFileChanged      = "MG283"
	SignatureFileMissing      = "MG284"
	SignatureExtraFile        = "MG285"
)

var signingRules = []Rule{
	{
		ID: SignatureMissing, Name: "ModelUnsigned", Severity: finding.SeverityHigh,
		Title: "Model is not signed where the policy requires a signature",
		What:  "The policy's signatures section requires an OpenSSF model signature (model.sig, a Sigstore bundle) for this model directory, and there is none.",
		Why:   "Without a signature nothing ties the files to the people or pipeline that produced them: a swapped checkpoint looks like the real one.",
		Fix:   "Sign the model with the OpenSSF model-signing tool (`model_signing sign`) in the pipeline that produces it, and commit or publish model.sig with it.",
		Tags:  []string{"security", "supply-chain", "signature"},
	},
	{
		ID: SignatureInvalid, Name: "ModelSignatureInvalid", Severity: finding.SeverityCritical,
		Title: "Model signature does not verify",
		What:  "model.sig is not a valid Sigstore bundle, its DSSE signature does not verify with the trusted key, certificate chain or identity, its statement is not an OpenSSF model signature, or its manifest is inconsistent.",
		Why:   "A signature that does not verify proves nothing, and a tampered one is a sign of interference.",
		Fix:   "Re-sign the model from its trusted source; check that the policy names the right key, chain or identity.",
		Tags:  []string{"security", "supply-chain", "signature"},
	},
	{
		ID: SignatureSignerNotAllowed, Name: "ModelSignerNotAllowed", Severity: finding.SeverityCritical,
		Title: "Model is signed by someone the policy does not trust",
		What:  "The signature is well formed but was made by another key, a certificate from another authority, or another Sigstore identity or OIDC issuer than the policy names.",
		Why:   "Anyone can sign a model; only a signature by the expected signer says where it came from.",
		Fix:   "Obtain the model from its trusted producer, or, if the new signer is legitimate, add it to the policy after review.",
		Tags:  []string{"security", "supply-chain", "signature"},
	},
	{
		ID: SignatureFileChanged, Name: "ModelFileChangedSinceSigning", Severity: finding.SeverityCritical,
		Title: "Model file changed since it was signed",
		What:  "The file's SHA-256 differs from the digest the signature's manifest records.",
		Why:   "The signed model is not the one on disk: the file was modified after signing, by accident or by an attacker.",
		Fix:   "Restore the file from the signed release, or re-sign the model after reviewing the change.",
		Tags:  []string{"security", "supply-chain", "signature", "integrity"},
	},
	{
		ID: SignatureFileMissing, Name: "ModelFileMissingSinceSigning", Severity: finding.SeverityHigh,
		Title: "Signed model file is missing",
		What:  "The signature's manifest lists a file that the model directory does not contain.",
		Why:   "A loader may fall back to another file or a default; the model on disk is not the signed one.",
		Fix:   "Restore the missing file from the signed release.",
		Tags:  []string{"security", "supply-chain", "signature", "integrity"},
	},
	{
		ID: SignatureExtraFile, Name: "ModelFileNotCoveredBySignature", Severity: finding.SeverityHigh,
		Title: "File not covered by the model signature",
		What:  "The model directory holds a file that the signature's manifest does not list and that is not ignored.",
		Why:   "Loaders read files by name (code/ modules, extra shards, configs); an unsigned addition can change what loading does while every signed file still matches.",
		Fix:   "Remove the file, or re-sign the model including it; use the policy's ignore_paths for files that are legitimately unsigned.",
		Tags:  []string{"security", "supply-chain", "signature", "integrity"},
	},
}
