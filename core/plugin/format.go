package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/rules"
	"github.com/modelgate/modelgate/sdk"
	"github.com/modelgate/modelgate/sdk/pluginpb"
)

// Transfer bounds of one scan call.
const (
	// headBytes is how much content goes with ScanStart: all of a small
	// file, so the common case needs no further round trip.
	headBytes = 64 << 10
	// maxRead is the most bytes one ReadRequest gets.
	maxRead = 1 << 20
)

var _ engine.Format = (*Plugin)(nil)
var _ engine.Versioned = (*Plugin)(nil)

// Name implements engine.Format: the plugin's declared name.
func (p *Plugin) Name() string { return p.desc.name }

// Version implements engine.Versioned.
func (p *Plugin) Version() string { return p.desc.version }

// InformationURI is the plugin's declared home page.
func (p *Plugin) InformationURI() string { return p.desc.uri }

// Path is the plugin executable.
func (p *Plugin) Path() string { return p.spec.Path }

// SHA256 is the digest the executable is held to.
func (p *Plugin) SHA256() string { return p.sum }

// Rules returns the plugin's rules, tagged with its name.
func (p *Plugin) Rules() []rules.Rule {
	out := make([]rules.Rule, len(p.desc.rules))
	copy(out, p.desc.rules)
	return out
}

// Match implements engine.Format from the declared claims, without a call
// to the plugin.
func (p *Plugin) Match(in *engine.Input) bool {
	name := strings.ToLower(in.Name)
	for _, c := range p.desc.claims {
		if c.matches(in.Head, name) {
			return true
		}
	}
	return false
}

func (c claim) matches(head []byte, name string) bool {
	for _, m := range c.magic {
		end := m.offset + len(m.bytes)
		if end > len(head) || string(head[m.offset:end]) != string(m.bytes) {
			return false
		}
	}
	if len(c.patterns) == 0 {
		return true
	}
	for _, pat := range c.patterns {
		if ok, _ := path.Match(pat, name); ok {
			return true
		}
	}
	return false
}

// Scan implements engine.Format: it streams the input to the plugin and
// reports what comes back. Everything that goes wrong on the plugin's side
// becomes a not-scanned item for this input; only cancellation of the scan
// itself is returned.
func (p *Plugin) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	for attempt := 0; ; attempt++ {
		// A retry runs alone, so an input that crashes the plugin cannot
		// take an innocent one down with it a second time.
		lock, unlock := p.solo.RLock, p.solo.RUnlock
		if attempt > 0 {
			lock, unlock = p.solo.Lock, p.solo.Unlock
		}
		lock()
		proc, why := p.acquire(ctx)
		if proc == nil {
			unlock()
			if err := ctx.Err(); err != nil {
				return err
			}
			env.NotScanned(rules.NotScannedError, "", why)
			return nil
		}
		timeout := min(p.spec.CallTimeout, p.spec.TimeBudget-time.Duration(p.used.Load()))
		started := time.Now()
		res, err := p.call(ctx, proc, in, timeout)
		unlock()
		p.used.Add(int64(time.Since(started)))
		if err == nil {
			p.report(res, in, env)
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			if errors.Is(cerr, context.DeadlineExceeded) {
				// The engine's file_timeout ran out mid-call: the plugin may
				// still be busy with the input, so replace it.
				p.discard(proc)
			}
			return cerr
		}
		var perr *protocolError
		switch {
		case errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded:
			// A hung plugin may go on burning CPU: replace it.
			p.discard(proc)
			env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("plugin %s did not finish within %s; it was stopped", p.desc.name, timeout.Round(time.Millisecond)))
			return nil
		case errors.As(err, &perr):
			p.discard(proc)
			env.NotScanned(rules.NotScannedError, "", fmt.Sprintf("plugin %s broke the protocol: %v; it was restarted", p.desc.name, perr.msg))
			return nil
		case status.Code(err) == codes.Internal || status.Code(err) == codes.Unknown:
			// The plugin answered with an error status (its handler failed,
			// or a message did not marshal): it is alive, the input is not
			// scanned.
			env.NotScanned(rules.NotScannedError, "", fmt.Sprintf("plugin %s failed on this input: %s", p.desc.name, clipString(grpcMessage(err), 1000)))
			return nil
		case status.Code(err) == codes.ResourceExhausted:
			env.NotScanned(rules.NotScannedError, "", fmt.Sprintf("plugin %s sent a message larger than the %d-byte limit: %v", p.desc.name, sdk.MaxMessageBytes, status.Convert(err).Message()))
			return nil
		}
		// The process went away. Calls run concurrently, so any of them may
		// have killed it (or replaced it after a hang): try this input once
		// more on a fresh process before blaming it.
		p.discard(proc)
		if attempt == 0 {
			continue
		}
		env.NotScanned(rules.NotScannedError, "", fmt.Sprintf("plugin %s crashed while scanning this input: %v%s", p.desc.name, grpcMessage(err), proc.stderr.suffix()))
		return nil
	}
}

// protocolError is a plugin answer that breaks the scan protocol.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return e.msg }

func protocolErrorf(format string, a ...any) error {
	return &protocolError{msg: fmt.Sprintf(format, a...)}
}

// call runs one Scan exchange.
func (p *Plugin) call(ctx context.Context, proc *process, in *engine.Input, timeout time.Duration) (*pluginpb.ScanResult, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stream, err := proc.det.Scan(cctx)
	if err != nil {
		return nil, err
	}
	head := make([]byte, min(in.Size, headBytes))
	n, err := in.R.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read input: %w", err)
	}
	start := &pluginpb.ScanStart{Path: in.Path, Member: in.Member, Name: in.Name, Size: in.Size,
		Depth: uint32(in.Depth), Head: head[:n], MaxRead: maxRead}
	if err := stream.Send(&pluginpb.HostMessage{Msg: &pluginpb.HostMessage_Start{Start: start}}); err != nil {
		return nil, recvErr(stream, err)
	}
	buf := make([]byte, 0, 64<<10)
	for {
		msg, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, protocolErrorf("the stream ended without a result")
			}
			return nil, err
		}
		switch m := msg.Msg.(type) {
		case *pluginpb.PluginMessage_Result:
			_ = stream.CloseSend()
			if m.Result == nil {
				return nil, protocolErrorf("empty result")
			}
			return m.Result, nil
		case *pluginpb.PluginMessage_Read:
			off, length := m.Read.GetOffset(), int64(m.Read.GetLength())
			if off < 0 || off > in.Size || length > maxRead {
				return nil, protocolErrorf("asked to read %d bytes at offset %d of a %d-byte input", length, off, in.Size)
			}
			length = min(length, in.Size-off)
			if int64(cap(buf)) < length {
				buf = make([]byte, length)
			}
			data := buf[:length]
			got, rerr := in.R.ReadAt(data, off)
			if rerr != nil && !errors.Is(rerr, io.EOF) {
				return nil, fmt.Errorf("read input at %d: %w", off, rerr)
			}
			reply := &pluginpb.ReadReply{Data: data[:got], Eof: off+int64(got) >= in.Size}
			if err := stream.Send(&pluginpb.HostMessage{Msg: &pluginpb.HostMessage_Read{Read: reply}}); err != nil {
				return nil, recvErr(stream, err)
			}
		default:
			return nil, protocolErrorf("unexpected message %T", msg.Msg)
		}
	}
}

// recvErr turns a failed Send into the stream's real status: gRPC reports
// io.EOF from Send and the cause from Recv.
func recvErr(stream pluginpb.Detector_ScanClient, err error) error {
	if errors.Is(err, io.EOF) {
		if _, rerr := stream.Recv(); rerr != nil && !errors.Is(rerr, io.EOF) {
			return rerr
		}
	}
	return err
}

// report passes a validated result to the engine.
func (p *Plugin) report(res *pluginpb.ScanResult, in *engine.Input, env *engine.Env) {
	c := p.desc.checkResult(res, in.Size)
	for _, f := range c.findings {
		env.Report(f)
	}
	for _, u := range c.notScanned {
		env.NotScanned(u.RuleID, u.Member, u.Reason)
	}
	if len(c.problems) > 0 {
		more := ""
		if len(c.problems) > 1 {
			more = fmt.Sprintf(" (and %d more problems)", len(c.problems)-1)
		}
		env.NotScanned(rules.NotScannedError, "", fmt.Sprintf("plugin %s returned an invalid result: %s%s", p.desc.name, c.problems[0], more))
	}
	if e := res.GetError(); e != "" {
		env.NotScanned(rules.NotScannedError, "", fmt.Sprintf("plugin %s could not scan this input completely: %s", p.desc.name, clipString(e, 1000)))
	}
}

func grpcMessage(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}
