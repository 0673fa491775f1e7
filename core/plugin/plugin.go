// Package plugin runs third-party detectors as out-of-process plugins
// (hashicorp/go-plugin over gRPC; plugins are written against package sdk)
// and makes each one an engine.Format.
//
// A plugin is started once per scan and reused for every file. Its binary is
// pinned by SHA-256 (go-plugin's SecureConfig, checked again on the running
// executable where /proc allows), the connection uses per-launch mutual TLS,
// and the process gets an explicit minimal environment, no stdin data, its
// own temporary directory and memory and CPU limits. Every call has a
// timeout and every plugin a total time budget. A plugin that crashes, hangs
// or answers with something that breaks the protocol yields a not-scanned
// item for the file at hand, never a host crash, hang or silent pass, and is
// restarted for the next file a bounded number of times.
package plugin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/formats/picklefmt"
	"github.com/modelgate/modelgate/core/plugin/pluginspec"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
)

// Host-side bounds that no Spec sets.
const (
	DefaultStartTimeout = 10 * time.Second
	// MaxRestarts bounds how often one plugin is restarted in one scan after
	// it crashed or hung (an input that crashes it is tried twice); after
	// that its remaining inputs are not scanned.
	MaxRestarts = 6
)

// Spec is pluginspec.Spec, named here too so that callers of Load need one
// import.
type Spec = pluginspec.Spec

// Options configure Load.
type Options struct {
	// Log receives the host-side log of plugin processes (their stderr and
	// go-plugin's messages); nil discards it.
	Log io.Writer
	// TempDir is where each plugin's private temporary directory is made
	// ("" for the system default).
	TempDir string
}

// ChecksumError is returned when a plugin's executable does not hash to
// its pin. The plugin was not started.
type ChecksumError struct {
	Path, Want, Got string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("plugin %s: sha256 is %s but %s is pinned; refusing to start it", e.Path, e.Got, e.Want)
}

// Set is the plugins of one scan. Close it when the scan is done.
type Set struct {
	plugins []*Plugin
}

// Load starts every plugin, asks each to describe itself and validates the
// description. Any failure stops the ones already started and is returned:
// a scan that was asked to run a plugin must not run without it.
func Load(ctx context.Context, specs []Spec, opts Options) (*Set, error) {
	set := &Set{}
	names := map[string]string{}
	ruleOwner := map[string]string{}
	for _, spec := range specs {
		p, err := start(ctx, spec, opts)
		if err != nil {
			set.Close()
			return nil, err
		}
		set.plugins = append(set.plugins, p)
		name := p.desc.name
		if prev, dup := names[name]; dup {
			set.Close()
			return nil, fmt.Errorf("plugins %s and %s are both named %q", prev, spec.Path, name)
		}
		names[name] = spec.Path
		for _, r := range p.desc.rules {
			if prev, dup := ruleOwner[r.ID]; dup {
				set.Close()
				return nil, fmt.Errorf("plugins %s and %s both declare rule %s", prev, name, r.ID)
			}
			ruleOwner[r.ID] = name
		}
	}
	return set, nil
}

// Plugins returns the loaded plugins in load order.
func (s *Set) Plugins() []*Plugin {
	if s == nil {
		return nil
	}
	return s.plugins
}

// Rules returns every plugin's rules, for rules.Catalogue.With.
func (s *Set) Rules() []rules.Rule {
	var out []rules.Rule
	for _, p := range s.Plugins() {
		out = append(out, p.Rules()...)
	}
	return out
}

// Detectors returns the report entries of the plugins, for
// scan.Options.ExtraDetectors.
func (s *Set) Detectors() []report.Detector {
	var out []report.Detector
	for _, p := range s.Plugins() {
		out = append(out, report.Detector{Name: p.Name(), Version: p.Version(), Plugin: true})
	}
	return out
}

// Formats returns base with the plugins inserted after every built-in
// format that matches by a signature and before the weak protocol-0 pickle
// sniff, so a plugin never takes content a built-in format recognises. A
// plugin named like a format of base is an error.
func (s *Set) Formats(base []engine.Format) ([]engine.Format, error) {
	taken := map[string]bool{}
	for _, f := range base {
		taken[f.Name()] = true
	}
	var extra []engine.Format
	for _, p := range s.Plugins() {
		if taken[p.Name()] {
			return nil, fmt.Errorf("plugin %s is named %q like a built-in format", p.spec.Path, p.Name())
		}
		extra = append(extra, p)
	}
	at := len(base)
	for i, f := range base {
		if _, weak := f.(picklefmt.Sniffed); weak {
			at = i
			break
		}
	}
	out := make([]engine.Format, 0, len(base)+len(extra))
	out = append(out, base[:at]...)
	out = append(out, extra...)
	return append(out, base[at:]...), nil
}

// Close stops every plugin process and waits for it to exit.
func (s *Set) Close() {
	for _, p := range s.Plugins() {
		p.stop()
	}
}

// fileSHA256 hashes a file.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// resolvePath makes the executable path absolute and refuses what cannot be
// a plugin, with a message that names the problem.
func resolvePath(p string) (string, error) {
	if p == "" {
		return "", errors.New("plugin path is empty")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("plugin %s: %w", p, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("plugin %s: %w", p, err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("plugin %s: not a regular file", p)
	}
	if st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("plugin %s: not executable", p)
	}
	return abs, nil
}
