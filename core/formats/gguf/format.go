package gguf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/chattemplate"
	"github.com/modelgate/modelgate/core/rules"
)

// Rule ids (documented in core/rules/gguf.go).
const (
	RuleMalformed = "MG607"
	RuleTrailing  = "MG608"
)

// Format is the engine format for GGUF files.
type Format struct{}

// Name implements engine.Format.
func (Format) Name() string { return "gguf" }

// Version implements engine.Versioned.
func (Format) Version() string { return FormatVersion }

// Match implements engine.Format: the magic and a version llama.cpp knows.
func (Format) Match(in *engine.Input) bool {
	_, _, ok := Version(in.Head)
	return ok
}

// Scan implements engine.Format.
func (Format) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	f, err := Parse(ctx, in.R, in.Size, DefaultLimits())
	if f != nil {
		properties(env, f)
	}
	for _, t := range f.Templates {
		if IsChatTemplateKey(t.Key) {
			chattemplate.Check(ctx, env, chattemplate.Where(t.Key), t.Offset, t.Text, t.Truncated)
		} else {
			chattemplate.CheckIncidental(ctx, env, chattemplate.Where(t.Key), t.Offset, t.Text, t.Truncated)
		}
	}
	if f.SkippedTemplates > 0 {
		// Padding with template-like strings must not hide the one a
		// loader renders.
		env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("%d chat templates after the first %d template-like strings were not checked", f.SkippedTemplates, maxTemplates))
	}
	for _, p := range f.Problems {
		env.Report(finding.Finding{RuleID: RuleMalformed, Offset: p.Offset, Message: "GGUF " + p.Msg})
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		var pe *ParseError
		off := int64(-1)
		if errors.As(err, &pe) {
			off = pe.Offset
		}
		if IsImpossible(err) {
			// Orders of magnitude beyond the file: aimed at the loader's
			// size arithmetic, not a cut-off download.
			env.Report(finding.Finding{RuleID: RuleMalformed, Severity: finding.SeverityHigh, Offset: off,
				Message: fmt.Sprintf("GGUF v%d header declares counts or sizes no file of this size could hold, the heap-overflow pattern of CVE-2024-25664/25665 against GGUF readers: %v", f.Version, err)})
			return nil
		}
		env.Report(finding.Finding{RuleID: RuleMalformed, Offset: off,
			Message: fmt.Sprintf("GGUF v%d header or metadata is invalid, llama.cpp refuses to load it: %v", f.Version, err)})
		return nil
	}
	return trailing(ctx, in, env, f)
}

// properties records what the header says, for inventories.
func properties(env *engine.Env, f *File) {
	env.SetProperty("gguf:version", strconv.FormatUint(uint64(f.Version), 10))
	env.SetProperty("gguf:tensors", strconv.FormatUint(f.TensorCount, 10))
	if f.Parameters > 0 {
		env.SetProperty("gguf:parameters", strconv.FormatUint(f.Parameters, 10))
	}
	for k, v := range f.Info {
		env.SetProperty("gguf:"+k, v)
	}
}

// trailing reports and scans bytes after the last tensor's padded data:
// no writer puts anything there, so it is room for a second payload.
func trailing(ctx context.Context, in *engine.Input, env *engine.Env, f *File) error {
	if f.DataEnd < 0 || f.DataEnd >= in.Size {
		return nil
	}
	extra := in.Size - f.DataEnd
	if extra <= int64(f.Alignment) && allZero(in.R, f.DataEnd, extra) {
		return nil // alignment padding
	}
	env.Report(finding.Finding{RuleID: RuleTrailing, Offset: f.DataEnd,
		Message: fmt.Sprintf("%d bytes follow the end of the GGUF tensor data; scanned them as member trailing@%d", extra, f.DataEnd)})
	return env.Recurse(ctx, fmt.Sprintf("trailing@%d", f.DataEnd), io.NewSectionReader(in.R, f.DataEnd, extra), extra, "")
}

// allZero reads in chunks: n is at most the alignment, which the file
// sets (up to 2 GiB).
func allZero(r io.ReaderAt, off, n int64) bool {
	b := make([]byte, min(n, 64<<10))
	for n > 0 {
		k := min(n, int64(len(b)))
		if m, _ := r.ReadAt(b[:k], off); int64(m) < k {
			return false
		}
		for _, c := range b[:k] {
			if c != 0 {
				return false
			}
		}
		off, n = off+k, n-k
	}
	return true
}

// FormatVersion changes whenever this package reports differently for the
// same bytes; reports record it next to the format name.
const FormatVersion = "1.0.0"
