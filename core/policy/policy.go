// Package policy judges what the parsers observed: it classifies pickle
// globals (allowlist first), turns traces into findings, applies severity
// overrides and suppressions, and decides the exit code.
package policy

import "github.com/modelgate/modelgate/core/limits"

// Policy is immutable once built and safe for concurrent use.
type Policy struct {
	limits limits.Limits
}

// Default returns the built-in policy.
func Default() *Policy { return &Policy{limits: limits.Default()} }

// Limits returns the scan limits.
func (p *Policy) Limits() limits.Limits { return p.limits }
