// Package policy judges what the parsers observed: it classifies pickle
// globals (allowlist first), turns traces into findings, applies severity
// overrides and suppressions, and decides the exit code.
package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/limits"
)

// Config is the YAML policy file. Every field is optional.
type Config struct {
	// Strict raises every unknown global to high (the same as mode: strict).
	Strict bool `yaml:"strict"`
	// Mode sets how unknown globals are judged: "default", "strict" (every
	// unknown global is high) or "lenient" (unknown globals are low; the
	// denylist, tampering and dangerous calls keep their severity). See
	// DecisionTable.
	Mode string `yaml:"mode"`
	// AllowCode are sha256 digests (hex) of reviewed pickled functions
	// (cloudpickle/dill code objects): their bytecode is no longer reported.
	AllowCode []string `yaml:"allow_code_sha256"`
	// AllowGlobals are extra globals to accept, as "module:name" (or
	// "module.name"; the last dot separates the name).
	AllowGlobals []string `yaml:"allow_globals"`
	// DenyGlobals are extra globals to treat as dangerous.
	DenyGlobals []string `yaml:"deny_globals"`
	// Severity overrides the severity of a rule, e.g. {MG103: high}.
	Severity map[string]finding.Severity `yaml:"severity"`
	// Suppressions accept reviewed findings.
	Suppressions []Suppression `yaml:"suppressions"`
	// FailOnUnscanned: "model-like" (default), "all" or "never".
	FailOnUnscanned string `yaml:"fail_on_unscanned"`
	// Limits override the built-in scan limits.
	Limits limits.Limits `yaml:"limits"`
	// Signatures require OpenSSF model signatures for chosen model
	// directories (see signatures.go).
	Signatures []SignatureRequirement `yaml:"signatures"`
	// Plugins are detector plugins to run, each pinned by SHA-256 (see
	// plugins.go).
	Plugins []PluginSpec `yaml:"plugins"`
}

// Suppression accepts findings of a rule on matching paths.
type Suppression struct {
	// Path is a glob ('/'-separated, path.Match syntax, "**/" prefix allowed)
	// matched against the file's path relative to the policy file's
	// directory (see Policy.ForRoot), or against the report path for a
	// policy built with New.
	Path string `yaml:"path"`
	// Rule is the rule id; empty means every rule.
	Rule string `yaml:"rule"`
	// Global narrows the suppression to one global ("module.name").
	Global string `yaml:"global"`
	// Reason is mandatory: why the finding is acceptable. The template the
	// block message suggests ("Reviewed YYYY-MM-DD by NAME: ...") is refused.
	Reason string `yaml:"reason"`
	// Expires (YYYY-MM-DD) ends the suppression; afterwards it no longer
	// applies and Audit reports it.
	Expires string `yaml:"expires"`
}

// Policy is immutable once built and safe for concurrent use.
type Policy struct {
	cfg        Config
	signatures []Signatures
	limits     limits.Limits
	// allow are the policy file's allow_globals; the built-in lists are
	// shared by every policy (builtinLists) and read only.
	allow map[string]bool
	deny  map[string]bool
	// allowCode are reviewed pickled-function digests.
	allowCode map[string]bool
	now       time.Time
	expiries  []time.Time
	// file is the policy file ("" when built with New); base is its
	// directory, which suppression paths are relative to, and root the
	// directory report paths are relative to (see ForRoot).
	file, base, root string
	// classes memoizes ClassifyGlobal and RoutineCallee (nil: no cache).
	// Copies made by ForRoot share it: they classify alike.
	classes *classCache
}

// Default returns the built-in policy.
func Default() *Policy {
	p, err := New(Config{}, time.Now())
	if err != nil {
		panic(err) // the empty config is always valid
	}
	return p
}

// Load reads a YAML policy file. Suppression paths in it are relative to
// the file's directory (see ForRoot). Errors name the file and line; an
// unknown key comes with the closest valid one.
func Load(file string, now time.Time) (*Policy, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	return Parse(data, file, now)
}

// baseDir is the directory a policy's relative file names are read from:
// the policy file's own directory, or the current one for bytes.
func baseDir(file string) string {
	if file == "" {
		return "."
	}
	return filepath.Dir(file)
}

// Parse builds a policy from YAML bytes; file names them in errors.
func Parse(data []byte, file string, now time.Time) (*Policy, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse policy %s: %w", file, err)
	}
	if err := checkKeys(file, &doc, reflect.TypeOf(Config{})); err != nil {
		return nil, fmt.Errorf("policy %w", err)
	}
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse policy %s: %w", file, err)
	}
	p, err := newPolicy(cfg, now, baseDir(file))
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", file, err)
	}
	// Policies from bytes match suppression paths as report paths, like
	// those built with New.
	if abs, err := filepath.Abs(file); err == nil && file != "" {
		p.file, p.base = file, filepath.Dir(abs)
	}
	return p, nil
}

// New validates a config and builds a policy. now decides which
// suppressions have expired.
func New(cfg Config, now time.Time) (*Policy, error) {
	return newPolicy(cfg, now, ".")
}

// newPolicy is New with relative file names (signature trust material)
// read from base.
func newPolicy(cfg Config, now time.Time, base string) (*Policy, error) {
	p := &Policy{cfg: cfg, limits: cfg.Limits.WithDefaults(), now: now, allow: map[string]bool{}, deny: map[string]bool{}}
	for _, g := range cfg.AllowGlobals {
		q, err := parseGlobal(g)
		if err != nil {
			return nil, fmt.Errorf("allow_globals: %w", err)
		}
		p.allow[q] = true
	}
	for _, g := range cfg.DenyGlobals {
		q, err := parseGlobal(g)
		if err != nil {
			return nil, fmt.Errorf("deny_globals: %w", err)
		}
		p.deny[q] = true
	}
	switch cfg.Mode {
	case "", ModeDefault, ModeLenient:
	case ModeStrict:
		p.cfg.Strict = true
	default:
		return nil, fmt.Errorf("mode: want default, strict or lenient, got %q", cfg.Mode)
	}
	if cfg.Strict && cfg.Mode == ModeLenient {
		return nil, fmt.Errorf("strict: true contradicts mode: lenient")
	}
	p.allowCode = map[string]bool{}
	for _, h := range cfg.AllowCode {
		h = strings.ToLower(strings.TrimSpace(h))
		if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
			return nil, fmt.Errorf("allow_code_sha256: %q is not a hex sha256", h)
		}
		p.allowCode[h] = true
	}
	switch cfg.FailOnUnscanned {
	case "", "model-like", "all", "never":
	default:
		return nil, fmt.Errorf("fail_on_unscanned: want model-like, all or never, got %q", cfg.FailOnUnscanned)
	}
	for i, s := range cfg.Suppressions {
		if strings.TrimSpace(s.Reason) == "" {
			return nil, fmt.Errorf("suppression %d (%s): a reason is required", i+1, s.Path)
		}
		if placeholderReason(s.Reason) {
			return nil, fmt.Errorf("suppression %d (%s): the reason %q is still the template; say who reviewed the file, when, and why it is safe", i+1, s.Path, s.Reason)
		}
		if s.Path == "" {
			return nil, fmt.Errorf("suppression %d: a path is required", i+1)
		}
		if _, err := path.Match(strings.TrimPrefix(s.Path, "**/"), "x"); err != nil {
			return nil, fmt.Errorf("suppression %d: bad path glob %q: %w", i+1, s.Path, err)
		}
		var exp time.Time
		if s.Expires != "" {
			t, err := time.Parse("2006-01-02", s.Expires)
			if err != nil {
				return nil, fmt.Errorf("suppression %d: expires must be YYYY-MM-DD: %w", i+1, err)
			}
			exp = t.Add(24 * time.Hour)
		}
		p.expiries = append(p.expiries, exp)
	}
	if err := p.loadSignatureTrust(base); err != nil {
		return nil, err
	}
	if err := validatePlugins(cfg.Plugins); err != nil {
		return nil, err
	}
	p.classes = newClassCache()
	return p, nil
}

func parseGlobal(g string) (string, error) {
	g = strings.TrimSpace(g)
	if i := strings.Index(g, ":"); i > 0 {
		return Canonical(g[:i], g[i+1:]), nil
	}
	i := strings.LastIndex(g, ".")
	if i <= 0 || i == len(g)-1 {
		return "", fmt.Errorf("%q is not module:name or module.name", g)
	}
	return Canonical(g[:i], g[i+1:]), nil
}

// Limits returns the scan limits.
func (p *Policy) Limits() limits.Limits { return p.limits }

// Strict reports whether unknown globals are raised to high.
func (p *Policy) Strict() bool { return p.cfg.Strict }

// Classify judges one global by its canonical dotted name. The order
// matters: exact allowlist entries first (they never contain dangerous
// components), then argument-dependent globals, then the denylist applied to
// every dotted component so attribute walks cannot hide.
func (p *Policy) Classify(q string) Class {
	if p.deny[q] {
		return Dangerous
	}
	safe, call := builtinLists()
	if p.allow[q] || safe[q] || legacySafe[q] {
		return Safe
	}
	if call[q] {
		return NeedsCall
	}
	if isConstantMember(q) {
		return Safe
	}
	if a, ok := aliasOf(q); ok {
		// The same object under another spelling (a re-export): judge the
		// canonical object, and let the denylist win if either spelling is on it.
		ca, cq := p.Classify(a), p.classifyName(q)
		switch {
		case ca == Dangerous || cq == Dangerous:
			return Dangerous
		case ca == NeedsCall:
			return NeedsCall
		case ca == Safe || cq == Safe:
			return Safe
		}
		return Unknown
	}
	return p.classifyName(q)
}

// classifyName is Classify without alias resolution.
func (p *Policy) classifyName(q string) Class {
	if p.deny[q] {
		return Dangerous
	}
	parts := strings.Split(q, ".")
	for i, c := range parts {
		if i > 0 && (strongComponents[c] || isDunder(c)) {
			return Dangerous
		}
		if strings.HasPrefix(c, "<computed") || strings.HasPrefix(c, "<extension") {
			return Dangerous
		}
	}
	if parts[0] == "__torch__" {
		// TorchScript's own unpickler maps these to classes compiled from
		// the archive's code/ directory; Python never imports them.
		return Safe
	}
	for i := 1; i <= len(parts); i++ {
		if dangerousRoots[strings.Join(parts[:i], ".")] {
			return Dangerous
		}
	}
	if dangerousNames[q] {
		return Dangerous
	}
	return Unknown
}

// ClassifyGlobal judges a global as the stream names it. On top of Classify it
// catches methods fetched through a dotted name (Class.method, resolved by
// CPython for protocol 4+ and by the dotted-path walk of STACK_GLOBAL) whose
// last part is a known sink, such as DataFrame.to_pickle or ndarray.tofile.
func (p *Policy) ClassifyGlobal(module, name string) Class {
	if e, ok := p.classes.get(module, name); ok && e.hasClass {
		return e.class
	}
	c := p.classifyGlobal(module, name)
	p.classes.update(module, name, func(e *classEntry) { e.class, e.hasClass = c, true })
	return c
}

func (p *Policy) classifyGlobal(module, name string) Class {
	c := p.Classify(Canonical(module, name))
	if c != Unknown || !strings.Contains(name, ".") {
		return c
	}
	parts := strings.Split(name, ".")
	if sinkAttrs[parts[len(parts)-1]] {
		return Dangerous
	}
	// A dotted name walks attributes, including module aliases that the
	// module imported (sklearn.utils.np.memmap is numpy.memmap): judge
	// every such tail as a global of its own.
	for i := 0; i+1 < len(parts); i++ {
		head := parts[i]
		if a, ok := moduleAliases[head]; ok {
			head = a
		}
		// Real pickles name argument-judged globals (numpy.memmap,
		// getattr) directly; reaching one through an alias walk is a
		// disguise, so it counts as dangerous outright.
		if c := p.Classify(head + "." + strings.Join(parts[i+1:], ".")); c == Dangerous || c == NeedsCall {
			return Dangerous
		}
	}
	return c
}

// moduleAliases are the conventional import aliases of ML modules.
var moduleAliases = map[string]string{
	"np": "numpy", "pd": "pandas", "sp": "scipy", "tf": "tensorflow", "jl": "joblib", "pkl": "pickle",
	"nn": "torch.nn", "sio": "scipy.io",
}

func isDunder(s string) bool {
	return len(s) > 4 && strings.HasPrefix(s, "__") && strings.HasSuffix(s, "__")
}

// Apply sets severity overrides and suppressions on findings in place.
func (p *Policy) Apply(files []finding.FileResult) {
	for fi := range files {
		for i := range files[fi].Findings {
			f := &files[fi].Findings[i]
			if sev, ok := p.cfg.Severity[f.RuleID]; ok {
				f.Severity = sev
			}
			// The file's path, as Audit and ExpiredSuppression match it.
			if s := p.suppression(f.RuleID, f.Global, files[fi].Path); s != nil {
				f.Suppression = s
			}
		}
		// Not-scanned items can be accepted too (MG901 on a reviewed data
		// file); a suppression naming a global never matches them.
		for i := range files[fi].Unscanned {
			u := &files[fi].Unscanned[i]
			if s := p.suppression(u.RuleID, "", files[fi].Path); s != nil {
				u.Suppression = s
			}
			u.FailsGate = u.Suppression == nil && p.FailsOnUnscanned(*u)
		}
	}
}

func (p *Policy) suppression(rule, global, file string) *finding.Suppression {
	rel := p.relative(file)
	for i, s := range p.cfg.Suppressions {
		if p.expired(i) || !s.matches(rule, global, rel) {
			continue
		}
		return &finding.Suppression{Reason: s.Reason, Expires: s.Expires}
	}
	return nil
}

// MatchPath reports whether a report path matches a policy glob
// ('/'-separated, path.Match syntax, a "**/" prefix matches any depth).
func MatchPath(glob, p string) bool { return matchPath(glob, p) }

func (s Suppression) matches(rule, global, rel string) bool {
	return (s.Rule == "" || s.Rule == rule) && (s.Global == "" || s.Global == global) && matchPath(s.Path, rel)
}

func (p *Policy) expired(i int) bool {
	return !p.expiries[i].IsZero() && p.now.After(p.expiries[i])
}

// File is the policy file the policy was loaded from ("" for the built-in
// policy or one built with New).
func (p *Policy) File() string { return p.file }

// ForRoot returns the policy for a scan whose report paths are relative to
// root. Suppression paths of a loaded policy are relative to the policy
// file's directory, so the same file matches the same files from any
// working directory; ForRoot tells the policy how to get there. Without
// it (and for policies built with New) suppression paths are matched
// against report paths as they are.
func (p *Policy) ForRoot(root string) *Policy {
	c := *p
	if abs, err := filepath.Abs(root); err == nil {
		c.root = abs
	}
	return &c
}

// relative turns a report path into a path relative to the policy file's
// directory ('/'-separated; "../" when the file is outside it).
func (p *Policy) relative(file string) string {
	if p.base == "" || p.root == "" {
		return file
	}
	abs := filepath.FromSlash(file)
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(p.root, abs)
	}
	rel, err := filepath.Rel(p.base, abs)
	if err != nil {
		return file
	}
	return filepath.ToSlash(rel)
}

// ExpiredSuppression returns the first expired suppression that would
// otherwise accept a finding (or, with global "", a not-scanned item) of
// rule on file, so messages can say why it is reported again.
func (p *Policy) ExpiredSuppression(rule, global, file string) (Suppression, bool) {
	rel := p.relative(file)
	for i, s := range p.cfg.Suppressions {
		if p.expired(i) && s.matches(rule, global, rel) {
			return s, true
		}
	}
	return Suppression{}, false
}

// Audit reports suppressions that did nothing in a scan: expired ones
// (with how many findings they would have accepted) and those whose path
// matches no scanned file, usually a typo or a path written relative to
// the wrong directory. Call it after Apply.
func (p *Policy) Audit(files []finding.FileResult) []finding.Warning {
	var out []finding.Warning
	where := "the report paths"
	if p.base != "" {
		where = p.base
	}
	for i, s := range p.cfg.Suppressions {
		label := fmt.Sprintf("suppression %d (path %q", i+1, s.Path)
		if s.Rule != "" {
			label += ", rule " + s.Rule
		}
		label += ")"
		pathHit, hits := false, 0
		for _, f := range files {
			rel := p.relative(f.Path)
			if !matchPath(s.Path, rel) {
				continue
			}
			pathHit = true
			for _, fd := range f.Findings {
				if fd.Suppression == nil && s.matches(fd.RuleID, fd.Global, rel) {
					hits++
				}
			}
			for _, u := range f.Unscanned {
				if u.Suppression == nil && s.matches(u.RuleID, "", rel) {
					hits++
				}
			}
		}
		switch {
		case p.expired(i):
			msg := fmt.Sprintf("%s expired on %s and no longer applies", label, s.Expires)
			if hits > 0 {
				msg += fmt.Sprintf(": %d finding(s) it accepted are reported again", hits)
			}
			out = append(out, finding.Warning{Kind: finding.WarnSuppressionExpired, Message: msg})
		case !pathHit:
			out = append(out, finding.Warning{Kind: finding.WarnSuppressionUnmatched,
				Message: fmt.Sprintf("%s matches no scanned file (suppression paths are relative to %s)", label, where)})
		}
	}
	return out
}

func matchPath(glob, p string) bool {
	if ok, _ := path.Match(glob, p); ok {
		return true
	}
	if rest, ok := strings.CutPrefix(glob, "**/"); ok {
		for q := p; ; {
			if m, _ := path.Match(rest, q); m {
				return true
			}
			i := strings.Index(q, "/")
			if i < 0 {
				return false
			}
			q = q[i+1:]
		}
	}
	return false
}

// Exit codes, the contract with every caller.
const (
	ExitClean      = 0
	ExitFindings   = 1
	ExitUnscanned  = 2
	ExitUsageError = 2
)

// FailsOnUnscanned reports whether content that could not be scanned fails
// the gate under fail_on_unscanned.
func (p *Policy) FailsOnUnscanned(u finding.Unscanned) bool {
	switch p.cfg.FailOnUnscanned {
	case "never":
		return false
	case "all":
		return true
	}
	return u.ModelLike
}

// Decide maps results to an exit code and a one-sentence verdict. Findings at
// or above failOn win over unscanned content, because they are certain.
func (p *Policy) Decide(files []finding.FileResult, failOn finding.Severity) (int, string) {
	worst, count := finding.SeverityNone, 0
	unscanned := 0
	for _, f := range files {
		for _, fd := range f.Findings {
			if fd.Suppression != nil {
				continue
			}
			if failOn != finding.SeverityNone && fd.Severity >= failOn {
				count++
				if fd.Severity > worst {
					worst = fd.Severity
				}
			}
		}
		for _, u := range f.Unscanned {
			if u.Suppression == nil && p.FailsOnUnscanned(u) {
				unscanned++
			}
		}
	}
	switch {
	case count > 0:
		return ExitFindings, fmt.Sprintf("%d finding(s) at or above %s (worst: %s)", count, failOn, worst)
	case unscanned > 0:
		return ExitUnscanned, fmt.Sprintf("%d item(s) could not be scanned and the policy fails closed", unscanned)
	}
	return ExitClean, "nothing at or above " + failOn.String()
}
