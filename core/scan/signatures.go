package scan

import (
	"context"
	"fmt"
	"io"
	"path"
	"sort"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
	"github.com/modelgate/modelgate/core/signing"
)

// checkSignatures verifies the OpenSSF model signatures the policy
// requires. A requirement applies to every directory of the scanned tree
// that matches its path and holds files; its findings go on the signature
// file (unsigned, invalid, signer) or on the file concerned (changed,
// missing, extra), so every report format can point at them.
func checkSignatures(ctx context.Context, verifier signing.Verifier, reqs []policy.Signatures, src Source, entries []Entry, results []finding.FileResult, models []report.Model, cat *rules.Catalogue) ([]finding.FileResult, []report.Model) {
	if len(reqs) == 0 {
		return results, models
	}
	byPath := map[string]int{}
	for i, e := range entries {
		byPath[e.Path] = i
	}
	resIdx := map[string]int{}
	for i, r := range results {
		resIdx[r.Path] = i
	}
	add := func(p, rule, msg, evidence string) {
		f := finding.Finding{RuleID: rule, Path: p, Offset: -1, Message: msg, Evidence: evidence}
		if r, ok := cat.Get(rule); ok {
			f.Severity, f.Fix = r.Severity, r.Fix
		}
		i, ok := resIdx[p]
		if !ok {
			results = append(results, finding.FileResult{Path: p, Status: finding.StatusScanned, Size: -1})
			i = len(results) - 1
			resIdx[p] = i
		}
		results[i].Findings = append(results[i].Findings, f)
	}
	for _, req := range reqs {
		for _, dir := range matchingDirs(entries, req.Path) {
			sigPath := path.Join(dir, req.Signature)
			sigEntry, ok := entries[0], false
			if i, found := byPath[sigPath]; found {
				sigEntry, ok = entries[i], true
			} else if l, isL := src.(Lookuper); isL {
				sigEntry, ok = l.Lookup(ctx, sigPath)
			}
			if !ok {
				add(sigPath, rules.SignatureMissing, fmt.Sprintf("model directory %s has no signature %s; the policy requires one (signatures: %s)", dir, req.Signature, req.Path), "")
				models = noteSignature(models, dir, "missing", "")
				continue
			}
			bundle, err := readEntry(ctx, sigEntry, signing.MaxBundleBytes)
			if err != nil {
				add(sigPath, rules.SignatureInvalid, fmt.Sprintf("signature %s cannot be read: %v", sigPath, err), "")
				continue
			}
			m := signing.Model{Bundle: bundle}
			for _, e := range entries {
				rel, ok := under(e.Path, dir)
				if !ok || e.Path == sigPath || e.Open == nil {
					continue
				}
				m.Files = append(m.Files, signing.File{Name: rel, Open: e.Open})
			}
			trust := signing.Trust{PublicKeyPEM: req.PublicKeyPEM, RootPEM: req.RootPEM, IntermediatesPEM: req.IntermediatesPEM,
				Identity: req.Identity, OIDCIssuer: req.OIDCIssuer, TrustedRootJSON: req.TrustedRootJSON}
			res, err := verifier.Verify(ctx, m, trust, signing.Options{IgnorePaths: req.IgnorePaths})
			if err != nil {
				add(sigPath, rules.SignatureInvalid, fmt.Sprintf("signature of %s could not be checked: %v", dir, err), "")
				continue
			}
			verdict := "verified"
			if !res.OK() {
				verdict = "failed"
			}
			models = noteSignature(models, dir, verdict, res.Signer)
			for _, p := range res.Problems {
				switch p.Kind {
				case signing.Invalid:
					add(sigPath, rules.SignatureInvalid, "model signature does not verify: "+p.Detail, "")
				case signing.SignerNotAllowed:
					add(sigPath, rules.SignatureSignerNotAllowed, "model signed by a signer the policy does not trust: "+p.Detail, "")
				case signing.Changed:
					add(path.Join(dir, p.Path), rules.SignatureFileChanged, fmt.Sprintf("%s changed since %s signed the model", p.Path, res.Signer), p.Detail)
				case signing.Missing:
					add(path.Join(dir, p.Path), rules.SignatureFileMissing, fmt.Sprintf("%s is signed but missing from %s", p.Path, dir), "")
				case signing.Extra:
					add(path.Join(dir, p.Path), rules.SignatureExtraFile, fmt.Sprintf("%s is not covered by the signature of %s", p.Path, dir), "")
				}
			}
		}
	}
	return results, models
}

// matchingDirs lists the directories (report paths) that hold at least one
// entry and match glob, sorted.
func matchingDirs(entries []Entry, glob string) []string {
	seen := map[string]bool{}
	for _, e := range entries {
		for d := path.Dir(e.Path); !seen[d]; d = path.Dir(d) {
			if policy.MatchPath(glob, d) {
				seen[d] = true
			}
			if d == "." || d == "/" {
				break
			}
		}
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

func under(p, dir string) (string, bool) {
	if dir == "." {
		return p, true
	}
	return cutDir(p, dir)
}

func readEntry(ctx context.Context, e Entry, max int64) ([]byte, error) {
	if e.Err != nil {
		return nil, e.Err
	}
	rc, err := e.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("larger than %d bytes", max)
	}
	return b, nil
}

// noteSignature records the signature's outcome on the model directory, for
// reports and the inventory.
func noteSignature(models []report.Model, dir, verdict, signer string) []report.Model {
	i := -1
	for k := range models {
		if models[k].Path == dir {
			i = k
		}
	}
	if i < 0 {
		models = append(models, report.Model{Path: dir, Kind: "signed-directory"})
		i = len(models) - 1
	}
	if models[i].Properties == nil {
		models[i].Properties = map[string]string{}
	}
	models[i].Properties["signature:verification"] = verdict
	if signer != "" {
		models[i].Properties["signature:signer"] = signer
	}
	return models
}
