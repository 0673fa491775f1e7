// Package gitlab renders modelgate reports for GitLab CI: a security report
// (artifacts:reports:sast) that validates against GitLab's
// security-report schema, a Code Quality report
// (artifacts:reports:codequality), and a job log with collapsible
// sections. It is an adapter: it never scans, it only renders a
// report.Report that core/scan produced.
//
// Both machine-readable reports carry the same fingerprints, computed from
// what identifies a finding across scans of a re-saved model (rule, path,
// container member, the global or call involved) and never from byte
// offsets, which move whenever a model is written again.
package gitlab

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
)

// item is one entry of a GitLab report: an active finding, or content
// that could not be scanned. Suppressed findings and suppressed unscanned
// items are left out of the entries (the policy accepted them after
// review) and only counted.
type item struct {
	finding   *finding.Finding   // set for findings
	unscanned *finding.Unscanned // set for content that could not be scanned
	file      *finding.FileResult
	rule      rules.Rule
	known     bool // rule is in the catalogue
	fp        string
}

func (it *item) ruleID() string {
	if it.finding != nil {
		return it.finding.RuleID
	}
	return it.unscanned.RuleID
}

func (it *item) member() string {
	if it.finding != nil {
		return it.finding.Member
	}
	return it.unscanned.Member
}

// title is the rule's one-line title, without instance data.
func (it *item) title() string {
	if it.known && it.rule.Title != "" {
		return strings.TrimSuffix(it.rule.Title, ".")
	}
	if it.finding != nil {
		return "Finding reported under rule " + it.finding.RuleID
	}
	return "Content could not be scanned"
}

// collected is what a report contributes to GitLab's reports.
type collected struct {
	items               []item
	suppressedFindings  int
	suppressedUnscanned int
	unscannedModelLike  int
	unscannedOther      int
	policyWarnings      []string
}

// collect walks r in report order and fingerprints every entry.
func collect(r *report.Report) *collected {
	cat := r.Catalogue()
	c := &collected{}
	for _, w := range r.Warnings {
		c.policyWarnings = append(c.policyWarnings, w.Message)
	}
	fps := newFingerprinter()
	for i := range r.Files {
		f := &r.Files[i]
		for j := range f.Findings {
			fd := &f.Findings[j]
			if fd.Suppression != nil {
				c.suppressedFindings++
				continue
			}
			rule, ok := cat.Get(fd.RuleID)
			c.items = append(c.items, item{finding: fd, file: f, rule: rule, known: ok, fp: fps.finding(fd)})
		}
		unscanned := f.Unscanned
		if report.UnreportedError(f) {
			unscanned = append(append([]finding.Unscanned(nil), unscanned...), finding.Unscanned{
				RuleID: rules.NotScannedError, Reason: f.Error, ModelLike: true,
			})
		}
		for j := range unscanned {
			u := &unscanned[j]
			if u.Suppression != nil {
				c.suppressedUnscanned++
				continue
			}
			if u.ModelLike {
				c.unscannedModelLike++
			} else {
				c.unscannedOther++
			}
			rule, ok := cat.Get(u.RuleID)
			c.items = append(c.items, item{unscanned: u, file: f, rule: rule, known: ok, fp: fps.unscanned(f.Path, u)})
		}
	}
	return c
}

// incomplete reports whether anything could not be scanned, suppressed or
// not: a report with such content is not a complete scan.
func (c *collected) incomplete() bool {
	return c.unscannedModelLike+c.unscannedOther+c.suppressedUnscanned > 0
}

// fingerprinter hashes entries and numbers entries whose identities
// coincide within one report (two calls of the same global in one member),
// in report order.
type fingerprinter struct {
	seen map[string]int
}

func newFingerprinter() *fingerprinter { return &fingerprinter{seen: map[string]int{}} }

// Fingerprint returns the identity hash of a finding: rule id, path,
// container member and the global (else the rendered call). Offsets,
// evidence and messages are left out on purpose: they change when the
// same model is saved again.
func Fingerprint(fd *finding.Finding) string {
	return hash("finding", fd.RuleID, fd.Path, fd.Member, firstNonEmpty(fd.Global, fd.Call))
}

func (p *fingerprinter) finding(fd *finding.Finding) string {
	return p.number(Fingerprint(fd))
}

func (p *fingerprinter) unscanned(path string, u *finding.Unscanned) string {
	return p.number(hash("unscanned", u.RuleID, path, u.Member))
}

func (p *fingerprinter) number(fp string) string {
	n := p.seen[fp]
	p.seen[fp] = n + 1
	if n == 0 {
		return fp
	}
	return hash(fp, "#"+strconv.Itoa(n))
}

func hash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}

// uuid formats a hash of s as a version-5-style UUID, so that a
// vulnerability keeps its id from one scan to the next.
func uuid(s string) string {
	sum := sha256.Sum256([]byte("modelgate-gitlab\x00" + s))
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// cweIDs extracts CWE numbers from rule tags of the form
// "external/cwe/cwe-502".
func cweIDs(tags []string) []string {
	var out []string
	for _, t := range tags {
		if n, ok := strings.CutPrefix(strings.ToLower(t), "external/cwe/cwe-"); ok && n != "" {
			if _, err := strconv.Atoi(n); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}
