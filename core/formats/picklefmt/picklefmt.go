// Package picklefmt scans pickle streams: plain pickles of any protocol,
// joblib files (pickles with raw array data interleaved) and PyTorch's
// legacy format (stacked pickles followed by raw tensor data).
package picklefmt

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/pickle"
	"github.com/modelgate/modelgate/core/rules"
)

// legacyMagic is torch.save's legacy-format magic number pickled with
// protocol 2: PROTO 2, LONG1 10 bytes 0x1950a86a20f9469cfc6c, STOP.
var legacyMagic = []byte("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.")

// Pickle claims streams that start with a PROTO opcode of a protocol that
// writes one (2 to 5). PROTO 0 and 1 are legal but no pickler emits them,
// while Type 1 fonts (.pfb) start with the bytes 0x80 0x01: such streams go
// to the Sniffed format, which claims them only if they run as a pickle.
type Pickle struct{}

// Name implements engine.Format.
func (Pickle) Name() string { return "pickle" }

// Version implements engine.Versioned.
func (Pickle) Version() string { return FormatVersion }

// Match implements engine.Format.
func (Pickle) Match(in *engine.Input) bool {
	// Tensor storages are raw bytes torch never unpickles, whatever
	// they start with.
	return len(in.Head) >= 2 && in.Head[0] == 0x80 && in.Head[1] >= 2 && in.Head[1] <= 5 && in.Context != engine.ContextTensorData
}

// Scan implements engine.Format.
func (Pickle) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	return scan(ctx, in, env, 0, "")
}

// LegacyTorch claims PyTorch's pre-1.6 format by its magic-number pickle.
type LegacyTorch struct{}

// Name implements engine.Format.
func (LegacyTorch) Name() string { return "pytorch-legacy" }

// Version implements engine.Versioned.
func (LegacyTorch) Version() string { return FormatVersion }

// Match implements engine.Format.
func (LegacyTorch) Match(in *engine.Input) bool {
	return bytes.HasPrefix(in.Head, legacyMagic) && in.Context != engine.ContextTensorData
}

// Scan implements engine.Format. The format is five pickles (magic number,
// protocol version, sys_info, the object, storage keys) followed by raw
// storage bytes, which torch reads without unpickling.
func (LegacyTorch) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	return scan(ctx, in, env, 5, "pytorch-legacy")
}

// Sniffed claims pickles without a PROTO opcode (protocols 0 and 1) after
// running the VM over a prefix: the prefix must either complete as a pickle
// or execute an import or call before its only problem, running out of
// sample. Plain text fails this almost immediately.
type Sniffed struct{}

// Name implements engine.Format.
func (Sniffed) Name() string { return "pickle" }

// Version implements engine.Versioned.
func (Sniffed) Version() string { return FormatVersion }

const sniffBytes = 64 << 10

// Match implements engine.Format.
func (Sniffed) Match(in *engine.Input) bool {
	if len(in.Head) == 0 || in.Context == engine.ContextTensorData || !pickle.IsOpcode(in.Head[0]) {
		return false
	}
	n := in.Size
	if n > sniffBytes {
		n = sniffBytes
	}
	tr, err := pickle.Run(context.Background(), in.R, 0, n, pickle.Options{
		Limits:    pickle.Limits{MaxOpcodes: 100000, MaxStack: 10000, MaxMemo: 10000},
		StopAfter: 1,
	})
	if err != nil {
		return false
	}
	if len(tr.Calls) > 0 {
		for _, c := range tr.Calls {
			if c.Callee.Kind == pickle.KGlobal {
				return true
			}
		}
	}
	malformed, limited := "", false
	for _, ev := range tr.Events {
		switch ev.Kind {
		case pickle.EvMalformed:
			malformed = ev.Detail
		case pickle.EvLimit, pickle.EvBudget:
			limited = true
		}
	}
	if malformed == "" {
		// A stream that is still a valid pickle where the sniff's own
		// limits stopped it is claimed: CPython reads on, and harmless
		// opcodes up to those limits must not hide what follows.
		return limited && tr.Opcodes >= 3 ||
			len(tr.Results) == 1 && tr.Opcodes >= 3 && (tr.End == in.Size || len(tr.Globals) > 0)
	}
	// Likewise a valid pickle cut only by the sample's end, with or
	// without a global so far: padding can fill the whole sample.
	truncatedAtSample := n < in.Size && strings.Contains(malformed, "truncated")
	return truncatedAtSample && (len(tr.Globals) > 0 || tr.Opcodes >= sniffMinOpcodes)
}

// sniffMinOpcodes is how many opcodes a sample without a global must hold
// to be claimed when cut by the sample's end: text that a single long
// opcode (a STRING or UNICODE line) happens to swallow is not a pickle.
const sniffMinOpcodes = 1024

// Scan implements engine.Format.
func (Sniffed) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	return scan(ctx, in, env, 0, "")
}

func vmLimits(env *engine.Env) pickle.Limits {
	return pickle.Limits{MaxOpcodes: env.Limits.MaxOpcodes, MaxStack: env.Limits.MaxStack, MaxMemo: env.Limits.MaxMemo, MaxPickles: 1000}
}

func scan(ctx context.Context, in *engine.Input, env *engine.Env, stopAfter int, kind string) error {
	_, err := scanAt(ctx, in.R, env, "", 0, in.Size, stopAfter, kind, 0)
	return err
}

// ScanRegion traces the pickles in r[start:end] as a loader calling load()
// stopAfter times (0: until the end) would, reports the findings through env
// under member (relative to env's input, "" for the input itself), and
// returns the trace so that callers can follow layouts that interleave
// pickles with raw data (numpy object arrays, PyTorch's legacy tar format).
func ScanRegion(ctx context.Context, env *engine.Env, r io.ReaderAt, member string, start, end int64, stopAfter int, kind string) (*pickle.Trace, error) {
	return scanAt(ctx, r, env, member, start, end, stopAfter, kind, 0)
}

// scanAt traces r[start:end] and reports through env; depth counts
// pickles nested in joblib object arrays.
func scanAt(ctx context.Context, r io.ReaderAt, env *engine.Env, member string, start, end int64, stopAfter int, kind string, depth int) (*pickle.Trace, error) {
	opts := pickle.Options{Limits: vmLimits(env), StopAfter: stopAfter, Routine: env.Policy.RoutineCallee, Inert: env.Policy.InertResult}
	opts.OnBuild = func(target, state pickle.Value, s *pickle.Stream) error {
		return joblibArray(ctx, r, env, target, state, s, end, depth)
	}
	opts.OnBuildCallee = isJoblibArray
	tr, err := pickle.Run(ctx, r, start, end, opts)
	if err != nil {
		return nil, fmt.Errorf("pickle trace: %w", err)
	}
	verdict := env.Policy.JudgePickle(tr, kind)
	for _, f := range verdict.Findings {
		f.Member = finding.JoinMember(member, f.Member)
		env.Report(f)
	}
	for _, reason := range verdict.Unscanned {
		env.NotScanned(rules.NotScannedLimit, member, reason)
	}
	for _, n := range verdict.Nested {
		nested := finding.JoinMember(member, fmt.Sprintf("%s@%d", n.Loader, n.Offset))
		sev, fix := finding.SeverityNone, "" // the rule's own
		if n.Routine {
			// torch's Storage.__reduce__ writes exactly this whenever a tensor
			// goes through plain pickle; the bytes are a torch.save stream,
			// scanned below, whose findings keep their own severity.
			sev = finding.SeverityLow
			fix = "This is how torch tensors look when saved with plain pickle; its findings, if any, are reported on the nested member. Prefer safetensors for sharing weights."
		}
		size := fmt.Sprintf("%d-byte", n.Data.O.Len)
		if n.Latin1 {
			size = fmt.Sprintf("latin-1 (%d bytes of text)", n.Data.O.Len)
		}
		env.Report(finding.Finding{RuleID: "MG105", Severity: sev, Fix: fix, Member: member, Offset: n.Offset, Global: n.Loader,
			Message:  fmt.Sprintf("%s loads a constant %s payload; scanned it as member %s", n.Loader, size, nested),
			Evidence: n.Data.String()})
		if n.Latin1 {
			// Protocol 2 bytes too long for the VM to keep: decode the
			// text from the stream while scanning it.
			text := io.NewSectionReader(r, n.Data.O.Off, n.Data.O.Len)
			if err := env.RecurseStream(ctx, nested, &latin1Reader{r: bufio.NewReaderSize(text, 64<<10)}, n.Data.O.Len, ""); err != nil {
				var bad *latin1Error
				if !errors.As(err, &bad) {
					return tr, err
				}
				env.NotScanned(rules.NotScannedError, nested, bad.Error())
			}
			continue
		}
		var nr io.ReaderAt = strings.NewReader(n.Data.O.S)
		nsize := int64(len(n.Data.O.S))
		if n.Data.O.Truncated() {
			nr, nsize = io.NewSectionReader(r, n.Data.O.Off, n.Data.O.Len), n.Data.O.Len
		}
		if err := env.Recurse(ctx, nested, nr, nsize, ""); err != nil {
			return tr, err
		}
	}
	return tr, nil
}

// joblibArray consumes the raw array bytes that joblib's NumpyUnpickler
// reads from the stream right after BUILD of a NumpyArrayWrapper.
// isJoblibArray names the class whose BUILD precedes an array's raw bytes
// in a joblib pickle.
func isJoblibArray(module, name string) bool {
	return module == "joblib.numpy_pickle" && name == "NumpyArrayWrapper"
}

func joblibArray(ctx context.Context, r io.ReaderAt, env *engine.Env, target, state pickle.Value, s *pickle.Stream, end int64, depth int) error {
	if target.Kind != pickle.KCall {
		return nil
	}
	callee := target.O.Call.Callee
	if callee.Kind != pickle.KGlobal || !isJoblibArray(callee.O.Module, callee.O.Name) {
		return nil
	}
	st := dictOf(state)
	dtype, shape := st["dtype"], st["shape"]
	code := strings.TrimLeft(dtypeCode(dtype), "<>=|")
	if code == "" || code[0] == 'O' {
		// Object arrays are written as a nested pickle.
		if depth > 4 {
			return fmt.Errorf("joblib object arrays nested too deep")
		}
		off := s.Offset()
		tr, err := pickle.Run(ctx, r, off, end, pickle.Options{Limits: vmLimits(env), StopAfter: 1, Routine: env.Policy.RoutineCallee, Inert: env.Policy.InertResult,
			OnBuild: func(t, st pickle.Value, s2 *pickle.Stream) error {
				return joblibArray(ctx, r, env, t, st, s2, end, depth+1)
			}, OnBuildCallee: isJoblibArray})
		if err != nil {
			return err
		}
		if !s.Replayed() {
			v := env.Policy.JudgePickle(tr, "joblib")
			for _, f := range v.Findings {
				env.Report(f)
			}
			for _, reason := range v.Unscanned {
				env.NotScanned(rules.NotScannedLimit, "", reason)
			}
		}
		return s.Skip(tr.End - off)
	}
	if _, ok := st["numpy_array_alignment_bytes"]; ok {
		b, err := s.Read(1)
		if err != nil {
			return fmt.Errorf("joblib array padding: %w", err)
		}
		if err := s.Skip(int64(b[0])); err != nil {
			return fmt.Errorf("joblib array padding: %w", err)
		}
	}
	size, ok := itemSize(code)
	if !ok {
		return fmt.Errorf("joblib array with unsupported dtype %q", code)
	}
	n := int64(1)
	if shape.Kind == pickle.KTuple {
		for _, d := range shape.O.Items {
			if d.Kind != pickle.KInt || d.N < 0 {
				return fmt.Errorf("joblib array with non-integer shape %s", shape)
			}
			n *= d.N
			if n > 1<<50 {
				return fmt.Errorf("joblib array shape too large")
			}
		}
	}
	return s.Skip(n * size)
}

func dictOf(v pickle.Value) map[string]pickle.Value {
	out := map[string]pickle.Value{}
	if v.Kind != pickle.KDict {
		return out
	}
	for i := 0; i+1 < len(v.O.Items); i += 2 {
		if v.O.Items[i].IsStr() {
			out[v.O.Items[i].Str()] = v.O.Items[i+1]
		}
	}
	return out
}

// dtypeCode extracts "f8" from numpy.dtype("f8", False, True).
func dtypeCode(v pickle.Value) string {
	if v.Kind != pickle.KCall || len(v.O.Call.Args) == 0 || !v.O.Call.Args[0].IsStr() {
		return ""
	}
	return v.O.Call.Args[0].Str()
}

// itemSize understands numpy's simple type codes.
func itemSize(code string) (int64, bool) {
	code = strings.TrimLeft(code, "<>=|")
	if code == "" {
		return 0, false
	}
	kind, num := code[0], code[1:]
	if num == "" {
		switch kind {
		case '?', 'b', 'B':
			return 1, true
		case 'h', 'H', 'e':
			return 2, true
		case 'i', 'I', 'f', 'l', 'L':
			return 4, true
		case 'q', 'Q', 'd', 'g':
			return 8, true
		case 'F':
			return 8, true
		case 'D':
			return 16, true
		}
		return 0, false
	}
	if i := strings.IndexByte(num, '['); i >= 0 {
		num = num[:i] // datetime units: M8[ns]
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	switch kind {
	case 'U':
		return 4 * n, true
	case 'b', 'i', 'u', 'f', 'c', 'S', 'V', 'a', 'm', 'M':
		return n, true
	}
	return 0, false
}

// FormatVersion changes whenever this package reports differently for the
// same bytes; reports record it next to the format name.
const FormatVersion = "1.0.0"
