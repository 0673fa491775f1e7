package policy

import (
	"fmt"
	"strings"
	"time"
)

// PluginSpec is one entry of the policy's plugins list: a detector plugin
// the scan runs, pinned by the SHA-256 of its executable.
type PluginSpec struct {
	// Path is the executable; a relative path is relative to the policy
	// file's directory.
	Path string `yaml:"path"`
	// SHA256 is the hex digest the executable must have (required).
	SHA256 string `yaml:"sha256"`
	// CallTimeout bounds one scan call ("30s"; default 30s).
	CallTimeout time.Duration `yaml:"call_timeout"`
	// TimeBudget bounds all calls of one scan ("10m"; default 10m).
	TimeBudget time.Duration `yaml:"time_budget"`
	// MemoryBytes limits the plugin's data memory (default 2 GiB).
	MemoryBytes int64 `yaml:"memory_bytes"`
}

// isSHA256Pin: ^(sha256:)?[0-9a-fA-F]{64}$, by hand (the regexp's 64-fold
// repetition took every process's start-up 0.1 ms to compile).
func isSHA256Pin(s string) bool {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// validatePlugins checks the plugins list: every entry names a path and
// pins it, and no path is listed twice.
func validatePlugins(specs []PluginSpec) error {
	seen := map[string]bool{}
	for i, s := range specs {
		at := fmt.Sprintf("plugins[%d]", i)
		if strings.TrimSpace(s.Path) == "" {
			return fmt.Errorf("%s: a path is required", at)
		}
		if s.SHA256 == "" {
			return fmt.Errorf("%s (%s): sha256 is required: pin the plugin (sha256sum %s)", at, s.Path, s.Path)
		}
		if !isSHA256Pin(s.SHA256) {
			return fmt.Errorf("%s (%s): sha256 %q is not 64 hex digits", at, s.Path, s.SHA256)
		}
		if s.CallTimeout < 0 || s.TimeBudget < 0 || s.MemoryBytes < 0 {
			return fmt.Errorf("%s (%s): call_timeout, time_budget and memory_bytes must not be negative", at, s.Path)
		}
		if seen[s.Path] {
			return fmt.Errorf("%s: %s is listed twice", at, s.Path)
		}
		seen[s.Path] = true
	}
	return nil
}

// Plugins returns the policy's plugins list.
func (p *Policy) Plugins() []PluginSpec {
	return append([]PluginSpec(nil), p.cfg.Plugins...)
}
