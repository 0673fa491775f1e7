package plugin

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/rules"
	"github.com/modelgate/modelgate/sdk/pluginpb"
)

// Bounds on what a plugin may declare and return.
const (
	maxRules       = 1000
	maxClaims      = 100
	maxDocLen      = 4096
	maxTextLen     = 4096
	maxFindings    = 10000
	maxNotScanned  = 1000
	maxNamePattern = 256
)

// validName: a plugin name is ^[a-z0-9][a-z0-9._-]{0,63}$. Checked by hand
// rather than by regexp: compiling the bounded repetitions cost every
// modelgate process 0.5–1 ms at start-up, plugins or not.
func validName(s string) bool {
	return len(s) >= 1 && len(s) <= 64 && lowerAlnum(s[0]) && allOf(s[1:], func(c byte) bool { return lowerAlnum(c) || c == '.' || c == '_' || c == '-' })
}

// validRuleID: ^[A-Za-z][A-Za-z0-9._-]{1,63}$.
func validRuleID(s string) bool {
	letter := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	return len(s) >= 2 && len(s) <= 64 && letter(s[0]) &&
		allOf(s[1:], func(c byte) bool { return letter(c) || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' })
}

func lowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func allOf(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// description is a validated pluginpb.Description.
type description struct {
	name, version, uri string
	rules              []rules.Rule
	ruleIDs            map[string]bool
	claims             []claim
}

type claim struct {
	magic    []magic
	patterns []string // lower-cased
}

type magic struct {
	offset int
	bytes  []byte
}

func (d description) equal(o description) bool {
	if d.name != o.name || d.version != o.version || len(d.rules) != len(o.rules) || len(d.claims) != len(o.claims) {
		return false
	}
	for i := range d.rules {
		a, b := d.rules[i], o.rules[i]
		if a.ID != b.ID || a.Severity != b.Severity || a.Title != b.Title {
			return false
		}
	}
	return true
}

func validateDescription(d *pluginpb.Description) (description, error) {
	out := description{name: d.GetName(), version: d.GetVersion(), uri: d.GetInformationUri(), ruleIDs: map[string]bool{}}
	if !validName(out.name) {
		return out, fmt.Errorf("plugin name %q: want 1-64 lower-case letters, digits, '.', '_' or '-'", clipString(out.name, 80))
	}
	if out.version == "" || len(out.version) > 64 || !printable(out.version) {
		return out, fmt.Errorf("plugin %s: version %q: want 1-64 printable characters", out.name, clipString(out.version, 80))
	}
	if len(out.uri) > 1024 || !printable(out.uri) {
		return out, fmt.Errorf("plugin %s: information uri is not printable or too long", out.name)
	}
	if len(d.Rules) == 0 || len(d.Rules) > maxRules {
		return out, fmt.Errorf("plugin %s: declares %d rules, want 1..%d", out.name, len(d.Rules), maxRules)
	}
	for _, r := range d.Rules {
		id := r.GetId()
		switch {
		case !validRuleID(id):
			return out, fmt.Errorf("plugin %s: rule id %q: want a letter then 1-63 letters, digits, '.', '_' or '-'", out.name, clipString(id, 80))
		case strings.HasPrefix(strings.ToUpper(id), "MG"):
			return out, fmt.Errorf("plugin %s: rule id %s: ids starting with MG are modelgate's own", out.name, id)
		case out.ruleIDs[id]:
			return out, fmt.Errorf("plugin %s: rule id %s declared twice", out.name, id)
		}
		sev, ok := severityOf(r.GetSeverity())
		if !ok || sev == finding.SeverityNone {
			return out, fmt.Errorf("plugin %s: rule %s: severity %v: want low, medium, high or critical", out.name, id, r.GetSeverity())
		}
		if r.GetTitle() == "" {
			return out, fmt.Errorf("plugin %s: rule %s has no title", out.name, id)
		}
		for _, s := range append([]string{r.GetName(), r.GetTitle(), r.GetWhat(), r.GetWhy(), r.GetFix()}, r.GetTags()...) {
			if len(s) > maxDocLen || !utf8.ValidString(s) {
				return out, fmt.Errorf("plugin %s: rule %s: documentation longer than %d bytes or not UTF-8", out.name, id, maxDocLen)
			}
		}
		if len(r.GetTags()) > 20 {
			return out, fmt.Errorf("plugin %s: rule %s has more than 20 tags", out.name, id)
		}
		out.ruleIDs[id] = true
		out.rules = append(out.rules, rules.Rule{ID: id, Name: r.GetName(), Severity: sev, Title: r.GetTitle(),
			What: r.GetWhat(), Why: r.GetWhy(), Fix: r.GetFix(), Tags: slices.Clone(r.GetTags()), Plugin: out.name})
	}
	if len(d.Claims) == 0 || len(d.Claims) > maxClaims {
		return out, fmt.Errorf("plugin %s: declares %d claims, want 1..%d", out.name, len(d.Claims), maxClaims)
	}
	for i, c := range d.Claims {
		var cl claim
		if len(c.GetMagic()) == 0 && len(c.GetNamePatterns()) == 0 {
			return out, fmt.Errorf("plugin %s: claim %d has neither magic bytes nor name patterns", out.name, i+1)
		}
		for _, m := range c.GetMagic() {
			if len(m.GetBytes()) == 0 || int64(m.GetOffset())+int64(len(m.GetBytes())) > engine.HeadSize {
				return out, fmt.Errorf("plugin %s: claim %d: magic must be non-empty and end within the first %d bytes", out.name, i+1, engine.HeadSize)
			}
			cl.magic = append(cl.magic, magic{offset: int(m.GetOffset()), bytes: slices.Clone(m.GetBytes())})
		}
		for _, pat := range c.GetNamePatterns() {
			if _, err := path.Match(pat, "x"); err != nil || pat == "" || len(pat) > maxNamePattern {
				return out, fmt.Errorf("plugin %s: claim %d: bad name pattern %q", out.name, i+1, clipString(pat, 80))
			}
			cl.patterns = append(cl.patterns, strings.ToLower(pat))
		}
		out.claims = append(out.claims, cl)
	}
	return out, nil
}

func severityOf(s pluginpb.Severity) (finding.Severity, bool) {
	switch s {
	case pluginpb.Severity_SEVERITY_UNSPECIFIED:
		return finding.SeverityNone, true
	case pluginpb.Severity_SEVERITY_LOW:
		return finding.SeverityLow, true
	case pluginpb.Severity_SEVERITY_MEDIUM:
		return finding.SeverityMedium, true
	case pluginpb.Severity_SEVERITY_HIGH:
		return finding.SeverityHigh, true
	case pluginpb.Severity_SEVERITY_CRITICAL:
		return finding.SeverityCritical, true
	}
	return finding.SeverityNone, false
}

func notScannedRule(k pluginpb.NotScannedKind) (string, bool) {
	switch k {
	case pluginpb.NotScannedKind_NOT_SCANNED_ERROR:
		return rules.NotScannedError, true
	case pluginpb.NotScannedKind_NOT_SCANNED_UNKNOWN_FORMAT:
		return rules.NotScannedUnknown, true
	case pluginpb.NotScannedKind_NOT_SCANNED_LIMIT:
		return rules.NotScannedLimit, true
	case pluginpb.NotScannedKind_NOT_SCANNED_ENCRYPTED:
		return rules.NotScannedEncrypted, true
	case pluginpb.NotScannedKind_NOT_SCANNED_DEPTH:
		return rules.NotScannedDepth, true
	}
	return "", false
}

// checked is a plugin's scan result after validation: what can be kept,
// and what was wrong with the rest.
type checked struct {
	findings   []finding.Finding
	notScanned []finding.Unscanned
	problems   []string
}

// checkResult validates a ScanResult against the plugin's declaration and
// the input it was given. Well-formed findings are kept even when others
// are not, so a misbehaving plugin never hides what it did report.
func (d description) checkResult(r *pluginpb.ScanResult, size int64) checked {
	var c checked
	bad := func(format string, a ...any) { c.problems = append(c.problems, fmt.Sprintf(format, a...)) }
	if n := len(r.GetFindings()); n > maxFindings {
		bad("%d findings, more than %d", n, maxFindings)
	}
	for i, f := range r.GetFindings() {
		if i >= maxFindings {
			break
		}
		id := f.GetRuleId()
		sev, okSev := severityOf(f.GetSeverity())
		switch {
		case !d.ruleIDs[id]:
			bad("finding %d uses rule %q, which the plugin did not declare", i+1, clipString(id, 80))
			continue
		case !okSev:
			bad("finding %d (%s) has severity %d, out of range", i+1, id, f.GetSeverity())
			continue
		case f.GetOffset() < -1 || f.GetOffset() >= max(size, 1) && f.GetOffset() != -1:
			bad("finding %d (%s) is at offset %d, outside the %d-byte input", i+1, id, f.GetOffset(), size)
			continue
		}
		if !text(f.GetMember()) || !text(f.GetGlobal()) || !text(f.GetMessage()) || !text(f.GetEvidence()) {
			bad("finding %d (%s) has a text field that is not UTF-8 or longer than %d bytes", i+1, id, maxTextLen)
			continue
		}
		c.findings = append(c.findings, finding.Finding{RuleID: id, Severity: sev, Member: f.GetMember(),
			Offset: f.GetOffset(), Global: f.GetGlobal(), Message: f.GetMessage(), Evidence: f.GetEvidence()})
	}
	if n := len(r.GetNotScanned()); n > maxNotScanned {
		bad("%d not-scanned items, more than %d", n, maxNotScanned)
	}
	for i, n := range r.GetNotScanned() {
		if i >= maxNotScanned {
			break
		}
		rule, ok := notScannedRule(n.GetKind())
		if !ok {
			bad("not-scanned item %d has kind %d, out of range", i+1, n.GetKind())
			continue
		}
		if !text(n.GetMember()) || !text(n.GetReason()) {
			bad("not-scanned item %d has a text field that is not UTF-8 or longer than %d bytes", i+1, maxTextLen)
			continue
		}
		c.notScanned = append(c.notScanned, finding.Unscanned{RuleID: rule, Member: n.GetMember(),
			Reason: d.name + ": " + firstNonEmpty(n.GetReason(), "no reason given"), ModelLike: true})
	}
	if !text(r.GetError()) {
		bad("error text is not UTF-8 or longer than %d bytes", maxTextLen)
	}
	return c
}

func text(s string) bool { return len(s) <= maxTextLen && utf8.ValidString(s) }

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}

func clipString(s string, n int) string {
	if len(s) <= n {
		return strings.ToValidUTF8(s, "?")
	}
	return strings.ToValidUTF8(s[:n], "?") + "..."
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
