package engine

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/limits"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/rules"
)

// Env is what a Format sees of the engine while scanning one input: where
// to send findings, the policy that judges pickle traces, the limits, and a
// way to scan nested content.
type Env struct {
	Policy *policy.Policy
	Limits limits.Limits

	in   *Input
	file *fileState
	eng  *Engine
}

// fileState accumulates results for one top-level file across all nested
// members; formats may report from several goroutines.
type fileState struct {
	mu        sync.Mutex
	path      string
	sha256    string
	findings  []finding.Finding
	unscanned []finding.Unscanned
	formats   map[string]bool
	props     map[string]string
	// perRule counts findings by rule; past MaxFindingsPerRule they are
	// counted in dropped instead of kept.
	perRule, dropped map[string]int
}

func newFileState(path string) *fileState {
	return &fileState{path: path, formats: map[string]bool{}}
}

// MaxFindingsPerRule bounds the findings one rule keeps for one file. A
// format may report per member, operator or function, each a few bytes of
// hostile input but hundreds of bytes of finding; the first ones carry the
// verdict, and the rest are summarised as not scanned (MG902).
const MaxFindingsPerRule = 10000

// droppedFindings summarises the findings Report did not keep.
func (s *fileState) droppedFindings() []finding.Unscanned {
	var out []finding.Unscanned
	for rule, n := range s.dropped {
		out = append(out, finding.Unscanned{RuleID: rules.NotScannedLimit, ModelLike: true,
			Reason: fmt.Sprintf("%d more %s findings were not recorded (limit %d per rule per file)", n, rule, MaxFindingsPerRule)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Reason < out[j].Reason })
	return out
}

// Input returns the input this Env belongs to.
func (e *Env) Input() *Input { return e.in }

// Report records a finding. Member is relative to the current input and is
// joined to its member path; Path and SHA256 are filled in.
func (e *Env) Report(f finding.Finding) {
	f.Path = e.file.path
	f.SHA256 = e.file.sha256
	f.Member = finding.JoinMember(e.in.Member, f.Member)
	if f.Fix == "" {
		if r, ok := e.eng.rules.Get(f.RuleID); ok {
			f.Fix = r.Fix
		}
	}
	if f.Severity == finding.SeverityNone {
		if r, ok := e.eng.rules.Get(f.RuleID); ok {
			f.Severity = r.Severity
		}
	}
	e.file.mu.Lock()
	defer e.file.mu.Unlock()
	if e.file.perRule == nil {
		e.file.perRule, e.file.dropped = map[string]int{}, map[string]int{}
	}
	if e.file.perRule[f.RuleID] >= MaxFindingsPerRule {
		e.file.dropped[f.RuleID]++
		return
	}
	e.file.perRule[f.RuleID]++
	e.file.findings = append(e.file.findings, f)
}

// MaxProperties bounds the header properties one file keeps.
const MaxProperties = 64

// SetProperty records what a header says about the top-level file (keys
// "<format>:<name>", e.g. "gguf:architecture"), for inventories. Values are
// clipped to 256 bytes and the count is bounded; only the outermost value
// of a key is kept when members repeat it, unless the input is the file.
func (e *Env) SetProperty(key, value string) {
	if len(value) > 256 {
		value = value[:256]
	}
	if e.in.Member != "" {
		key = key + "@" + e.in.Member
		if len(key) > 256 {
			return
		}
	}
	e.file.mu.Lock()
	defer e.file.mu.Unlock()
	if e.file.props == nil {
		e.file.props = map[string]string{}
	}
	if _, ok := e.file.props[key]; !ok && len(e.file.props) >= MaxProperties {
		return
	}
	e.file.props[key] = value
}

// NotScanned records content that could not be scanned completely. member
// is relative to the current input ("" for the input itself).
func (e *Env) NotScanned(ruleID, member, reason string) {
	u := finding.Unscanned{
		RuleID:    ruleID,
		Member:    finding.JoinMember(e.in.Member, member),
		Reason:    reason,
		ModelLike: true,
	}
	e.file.addUnscanned(u)
}

// addUnscanned keeps at most MaxFindingsPerRule items per rule, like
// Report: an archive of a million encrypted members needs one verdict,
// not a million entries.
func (s *fileState) addUnscanned(u finding.Unscanned) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perRule == nil {
		s.perRule, s.dropped = map[string]int{}, map[string]int{}
	}
	key := "unscanned:" + u.RuleID
	if s.perRule[key] >= MaxFindingsPerRule {
		s.dropped[u.RuleID+" not-scanned"]++
		return
	}
	s.perRule[key]++
	s.unscanned = append(s.unscanned, u)
}

// NotScannedByName records unscanned content about which only a name is
// known (a Git LFS pointer whose object is absent, say). It counts as
// model-like, and so fails the default policy, only if the name suggests a
// model; member is relative to the current input.
func (e *Env) NotScannedByName(ruleID, member, reason string) {
	name := e.in.Name
	if member != "" {
		name = baseName(member)
	}
	u := finding.Unscanned{
		RuleID:    ruleID,
		Member:    finding.JoinMember(e.in.Member, member),
		Reason:    reason,
		ModelLike: IsModelLikeName(name),
	}
	e.file.addUnscanned(u)
}

// Resolve scans content that stands for the current input itself, such as
// the object a Git LFS pointer refers to. Findings keep the input's path and
// member, and content no format claims is judged by the input's name, as the
// input itself would have been. It counts as one level of nesting so that a
// chain of references stays bounded.
func (e *Env) Resolve(ctx context.Context, r io.ReaderAt, size int64) error {
	if e.in.Depth+1 > e.Limits.MaxDepth {
		e.NotScanned("MG906", "", fmt.Sprintf("reference chain deeper than max_depth %d", e.Limits.MaxDepth))
		return nil
	}
	child := &Input{
		Path:     e.in.Path,
		Member:   e.in.Member,
		Name:     e.in.Name,
		R:        r,
		Size:     size,
		Depth:    e.in.Depth + 1,
		Context:  ContextResolved,
		resolves: e.in,
	}
	return e.eng.scanInput(ctx, child, e.file)
}

// Recurse scans nested content by sniffing it like any other input. member
// is the member's name inside the current input; context is an optional
// hint (see Input.Context).
func (e *Env) Recurse(ctx context.Context, member string, r io.ReaderAt, size int64, context string) error {
	if e.in.Depth+1 > e.Limits.MaxDepth {
		e.NotScanned("MG906", member, fmt.Sprintf("nested deeper than max_depth %d", e.Limits.MaxDepth))
		return nil
	}
	child := &Input{
		Path:    e.in.Path,
		Member:  finding.JoinMember(e.in.Member, member),
		Name:    baseName(member),
		R:       r,
		Size:    size,
		Depth:   e.in.Depth + 1,
		Context: context,
	}
	return e.eng.scanInput(ctx, child, e.file)
}

// RecurseStream spools a stream (typically a decompressor's output) within
// the decompression limits and scans it as nested content. compressed is the
// size of the compressed input, used for the ratio limit (0 if unknown).
func (e *Env) RecurseStream(ctx context.Context, member string, r io.Reader, compressed int64, context string) error {
	sp, err := e.eng.spool(ctx, r, compressed)
	if sp != nil {
		defer sp.Close()
	}
	if err != nil {
		if bomb, ok := err.(*BombError); ok {
			e.Report(finding.Finding{RuleID: "MG203", Member: member, Offset: -1,
				Message: bomb.Error(), Evidence: fmt.Sprintf("compressed %d bytes", compressed)})
			// Scan what was spooled before the limit: the payload usually
			// sits at the start.
			if sp != nil && sp.Size() > 0 {
				return e.Recurse(ctx, member, sp, sp.Size(), context)
			}
			return nil
		}
		return fmt.Errorf("decompress %s: %w", member, err)
	}
	return e.Recurse(ctx, member, sp, sp.Size(), context)
}

func baseName(member string) string {
	for i := len(member) - 1; i >= 0; i-- {
		if member[i] == '/' || member[i] == '!' {
			return member[i+1:]
		}
	}
	return member
}
