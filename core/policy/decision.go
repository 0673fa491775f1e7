package policy

import (
	"strings"

	"github.com/modelgate/modelgate/core/finding"
)

// Policy modes (Config.Mode).
const (
	ModeDefault = "default"
	ModeStrict  = "strict"
	ModeLenient = "lenient"
)

// Use is how a pickle uses a global that is on neither list.
type Use int

// Uses of an unknown global, from least to most exposed.
const (
	// Referenced: imported and stored or passed on, never called at load.
	Referenced Use = iota
	// Reconstructed: a class instantiated through a standard reconstructor
	// (NEWOBJ, NEWOBJ_EX, copyreg._reconstructor/__newobj__/__newobj_ex__),
	// which runs cls.__new__ and not __init__, with plain-data arguments.
	Reconstructed
	// Invoked: called at load (REDUCE, INST, OBJ, a reconstructor with
	// non-data arguments, a callable handed to a dispatcher or called
	// through an allowlisted helper).
	Invoked
)

func (u Use) String() string {
	return [...]string{"referenced", "reconstructed", "invoked"}[u]
}

// Mode returns the policy mode ("default", "strict" or "lenient").
func (p *Policy) Mode() string {
	switch {
	case p.cfg.Strict:
		return ModeStrict
	case p.cfg.Mode == ModeLenient:
		return ModeLenient
	}
	return ModeDefault
}

// UnknownSeverity is the decision table for globals that are on neither the
// allowlist nor the denylist.
func (p *Policy) UnknownSeverity(u Use) finding.Severity {
	switch p.Mode() {
	case ModeStrict:
		return finding.SeverityHigh
	case ModeLenient:
		return finding.SeverityLow
	}
	if u == Invoked {
		return finding.SeverityHigh
	}
	return finding.SeverityMedium
}

// DecisionRow is one line of the documented decision table.
type DecisionRow struct {
	What                     string
	Rule                     string
	Default, Strict, Lenient string
}

// DecisionTable documents how the pickle policy decides, as `modelgate
// rules` and the README show it. Rows are judged top to bottom.
func DecisionTable() []DecisionRow {
	return []DecisionRow{
		{"allowlisted global (harvested from real packages, or allow_globals), called with arguments it accepts", "-", "none", "none", "none"},
		{"denylisted callable invoked at load (directly, through getattr/partial/dispatchers/allowlisted helpers)", "MG101", "critical", "critical", "critical"},
		{"denylisted global imported but not invoked", "MG102", "high", "high", "high"},
		{"in-place write into tensors or arrays at load (Sleepy Pickle: torch.nn.init.*, fill_/copy_/narrow, numpy.copyto)", "MG112", "high", "high", "high"},
		{"pickled function (cloudpickle/dill code object); critical when its names reach code execution, the OS, files or the network; allow reviewed ones with allow_code_sha256", "MG113", "high", "high", "high"},
		{"unknown global invoked at load (REDUCE/INST/OBJ, a reconstructor with non-data arguments, handed to a dispatcher)", "MG103", "high", "high", "low"},
		{"unknown class instantiated through a standard reconstructor (NEWOBJ, copyreg) with plain-data arguments", "MG103", "medium", "high", "low"},
		{"unknown global only referenced (stored or passed, never called at load)", "MG103", "medium", "high", "low"},
	}
}

// AllowsCode reports whether the policy accepts reviewed bytecode (a
// pickled function or a Keras Lambda) with this hex sha256.
func (p *Policy) AllowsCode(sha256hex string) bool { return p.allowCode[strings.ToLower(sha256hex)] }
