// Package pluginspec says which detector plugin to run and within which
// bounds. It is apart from package plugin, the host, so that code which only
// reads policies and flags (the scanner's command line, which hands runs
// with plugins to the modelgate-full binary) does not link gRPC and
// go-plugin.
package pluginspec

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Defaults for Spec fields left zero.
const (
	DefaultCallTimeout = 30 * time.Second
	DefaultTimeBudget  = 10 * time.Minute
	DefaultMemoryBytes = 2 << 30
)

// Spec says which plugin to run and within which bounds.
type Spec struct {
	// Path is the plugin executable.
	Path string
	// SHA256 pins the executable (hex). Empty means "whatever the file holds
	// now": it is hashed once and the running process is held to that hash.
	SHA256 string
	// CallTimeout bounds one Scan call (0: DefaultCallTimeout).
	CallTimeout time.Duration
	// TimeBudget bounds the wall time of all calls to the plugin in one scan
	// (0: DefaultTimeBudget).
	TimeBudget time.Duration
	// MemoryBytes limits the plugin process's data memory (RLIMIT_DATA;
	// 0: DefaultMemoryBytes; Linux only).
	MemoryBytes int64
}

// WithDefaults fills the bounds left zero.
func (s Spec) WithDefaults() Spec {
	if s.CallTimeout <= 0 {
		s.CallTimeout = DefaultCallTimeout
	}
	if s.TimeBudget <= 0 {
		s.TimeBudget = DefaultTimeBudget
	}
	if s.MemoryBytes <= 0 {
		s.MemoryBytes = DefaultMemoryBytes
	}
	return s
}

// ParsePin normalises a pinned SHA-256 (hex, optionally "sha256:"-prefixed).
func ParsePin(s string) (string, error) {
	s = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "sha256:"))
	if len(s) != 64 {
		return "", fmt.Errorf("sha256 %q: want 64 hex digits", s)
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", fmt.Errorf("sha256 %q: %w", s, err)
	}
	return s, nil
}
