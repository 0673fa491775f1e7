package cli

import (
	"github.com/modelgate/modelgate/internal/climain"

	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/modelgate/modelgate/core/signing"
)

type verifySigFlags struct {
	signature, publicKey, chain, intermediates string
	identity, issuer, trustedRoot              string
	ignore                                     []string
}

func newVerifySignatureCmd(b *build) *cobra.Command {
	var fl verifySigFlags
	cmd := &cobra.Command{
		Use:   "verify-signature [flags] MODEL",
		Short: "Verify an OpenSSF model signature (model.sig) over a model directory or file",
		Long: `Verify an OpenSSF Model Signing signature: the Sigstore bundle (default
MODEL/model.sig, or beside a single-file MODEL) must verify with exactly one
kind of trust, and every file must match the signed manifest (no file
changed, missing or added beyond --ignore-paths and the paths the signer
recorded as ignored).

Trust, exactly one of:
  --public-key PEM                         the signer's public key
  --certificate-chain PEM [--intermediates PEM]   a private CA's root
  --identity ID --oidc-issuer URL --trusted-root FILE   Sigstore keyless;
      the trusted root JSON makes it work offline (the public-good one is
      published by Sigstore's TUF repository as trusted_root.json; cosign
      prints it with "cosign trusted-root create" or sigstore-go's examples ship it)

Exit codes: 0 the signature holds; 1 it does not (with the reasons); 2 usage error.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("verify-signature needs exactly one MODEL path")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := b.handOff(cmd.Context(), b.features.Signatures != nil, "signature verification"); err != nil {
				return err
			}
			return runVerifySignature(cmd, b.features.Signatures, fl, args[0], b.stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.signature, "signature", "", "the signature bundle (default: model.sig in the model directory)")
	f.StringVar(&fl.publicKey, "public-key", "", "PEM public key of the signer")
	f.StringVar(&fl.chain, "certificate-chain", "", "PEM root certificate of a private CA")
	f.StringVar(&fl.intermediates, "intermediates", "", "PEM intermediate certificates (with --certificate-chain)")
	f.StringVar(&fl.identity, "identity", "", "Sigstore keyless: the signer's identity (certificate SAN, e.g. an e-mail)")
	f.StringVar(&fl.issuer, "oidc-issuer", "", "Sigstore keyless: the identity's OIDC issuer URL")
	f.StringVar(&fl.trustedRoot, "trusted-root", "", "Sigstore keyless: trusted root JSON file")
	f.StringSliceVar(&fl.ignore, "ignore-paths", nil, "paths (relative to MODEL) left out of the comparison, as given to the signer")
	return cmd
}

func runVerifySignature(cmd *cobra.Command, verifier signing.Verifier, fl verifySigFlags, model string, stdout io.Writer) error {
	read := func(flag, p string) ([]byte, error) {
		if p == "" {
			return nil, nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, usageErr("--%s: %v", flag, err)
		}
		return b, nil
	}
	var trust signing.Trust
	var err error
	if trust.PublicKeyPEM, err = read("public-key", fl.publicKey); err != nil {
		return err
	}
	if trust.RootPEM, err = read("certificate-chain", fl.chain); err != nil {
		return err
	}
	if trust.IntermediatesPEM, err = read("intermediates", fl.intermediates); err != nil {
		return err
	}
	trust.Identity, trust.OIDCIssuer = fl.identity, fl.issuer
	kinds := 0
	for _, set := range []bool{fl.publicKey != "", fl.chain != "", fl.identity != "" || fl.issuer != ""} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return usageErr("give exactly one of --public-key, --certificate-chain, or --identity with --oidc-issuer")
	}
	if fl.identity != "" || fl.issuer != "" {
		if fl.identity == "" || fl.issuer == "" || fl.trustedRoot == "" {
			return usageErr("keyless verification needs --identity, --oidc-issuer and --trusted-root")
		}
		if trust.TrustedRootJSON, err = read("trusted-root", fl.trustedRoot); err != nil {
			return err
		}
	}
	m, err := signing.DiskModel(model, fl.signature)
	if err != nil {
		return usageErr("%v", err)
	}
	res, err := verifier.Verify(cmd.Context(), m, trust, signing.Options{IgnorePaths: fl.ignore})
	if err != nil {
		return usageErr("%v", err)
	}
	if res.OK() {
		fmt.Fprintf(stdout, "modelgate: signature of %s verified: %d file(s) signed by %s\n", model, len(res.Manifest.Resources), res.Signer)
		return nil
	}
	fmt.Fprintf(stdout, "modelgate: signature of %s does NOT hold:\n", model)
	for _, p := range res.Problems {
		where := p.Path
		if where == "" {
			where = "signature"
		}
		fmt.Fprintf(stdout, "  %-19s %s: %s\n", p.Kind, where, p.Detail)
	}
	return climain.Exit(1, nil)
}
