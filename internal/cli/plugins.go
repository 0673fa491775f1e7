package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/modelgate/modelgate/core/formats/list"
	"github.com/modelgate/modelgate/core/plugin/pluginspec"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/rules"
	"github.com/modelgate/modelgate/core/scan"
	"github.com/modelgate/modelgate/internal/features"
)

// pinSep separates a --plugin path from its pin, as in container image
// references: --plugin ./tflite@sha256:HEX.
const pinSep = "@sha256:"

func addPluginFlag(f *pflag.FlagSet, dst *[]string) {
	f.StringArrayVar(dst, "plugin", nil, "run the detector plugin at PATH (repeatable); PATH@sha256:HEX pins it")
}

// pluginSpecs merges the policy's plugins (paths relative to the policy
// file) with --plugin flags. A flag naming a plugin the policy lists uses
// the policy's pin and bounds.
func pluginSpecs(flags []string, pol *policy.Policy, policyFile string) ([]pluginspec.Spec, error) {
	var specs []pluginspec.Spec
	index := map[string]int{}
	add := func(s pluginspec.Spec) error {
		abs, err := filepath.Abs(s.Path)
		if err != nil {
			return err
		}
		s.Path = abs
		if i, ok := index[abs]; ok {
			if s.SHA256 != "" && specs[i].SHA256 != "" && !strings.EqualFold(strings.TrimPrefix(s.SHA256, "sha256:"), strings.TrimPrefix(specs[i].SHA256, "sha256:")) {
				return fmt.Errorf("plugin %s is pinned to two different sha256 values", abs)
			}
			if specs[i].SHA256 == "" {
				specs[i].SHA256 = s.SHA256
			}
			return nil
		}
		index[abs] = len(specs)
		specs = append(specs, s)
		return nil
	}
	if pol != nil {
		for _, ps := range pol.Plugins() {
			p := ps.Path
			if !filepath.IsAbs(p) && policyFile != "" {
				p = filepath.Join(filepath.Dir(policyFile), p)
			}
			if err := add(pluginspec.Spec{Path: p, SHA256: ps.SHA256, CallTimeout: ps.CallTimeout,
				TimeBudget: ps.TimeBudget, MemoryBytes: ps.MemoryBytes}); err != nil {
				return nil, err
			}
		}
	}
	for _, f := range flags {
		s := pluginspec.Spec{Path: f}
		if i := strings.LastIndex(f, pinSep); i >= 0 {
			pin, err := pluginspec.ParsePin(f[i+len(pinSep):])
			if err != nil {
				return nil, fmt.Errorf("--plugin %s: %w", f, err)
			}
			s = pluginspec.Spec{Path: f[:i], SHA256: pin}
		}
		if s.Path == "" {
			return nil, errors.New("--plugin needs a path")
		}
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return specs, nil
}

// loadPlugins starts the plugins a scan or a rules listing asks for, in a
// build that can (the caller has handed off otherwise). The caller closes
// the set; a nil set means none.
func loadPlugins(ctx context.Context, feat features.Set, specs []pluginspec.Spec, log io.Writer) (features.Plugins, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	if feat.LoadPlugins == nil {
		return nil, errors.New("this build of modelgate cannot run detector plugins")
	}
	return feat.LoadPlugins(ctx, specs, log)
}

// usePlugins adds the plugins' formats, rules and detector entries to a
// scan.
func usePlugins(set features.Plugins, opts *scan.Options) error {
	if set == nil {
		return nil
	}
	formats, err := set.Formats(list.Default())
	if err != nil {
		return err
	}
	cat, err := rules.Default().With(set.Rules()...)
	if err != nil {
		return err
	}
	opts.Formats, opts.Rules = formats, cat
	opts.ExtraDetectors = append(opts.ExtraDetectors, set.Detectors()...)
	return nil
}
