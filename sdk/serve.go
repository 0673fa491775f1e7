package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/modelgate/modelgate/sdk/pluginpb"
)

// Handshake is the go-plugin handshake modelgate and its plugins share.
// The cookie only keeps a plugin from being run by hand by mistake; it is
// not a security measure (the host pins plugins by SHA-256 instead).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "MODELGATE_DETECTOR_PLUGIN",
	MagicCookieValue: "c2a5b0e4-modelgate-detector",
}

// PluginName is the name the detector is dispensed under.
const PluginName = "detector"

// MaxMessageBytes bounds every gRPC message in either direction.
const MaxMessageBytes = 4 << 20

// WindowBytes is the HTTP/2 flow-control window of both sides, large
// enough that a 1 MiB read reply never waits for a window update.
const WindowBytes = 4 << 20

// GRPCPlugin adapts a Detector to go-plugin. Plugin authors never use it;
// the host uses it with a nil Impl to get a client.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Detector
}

// GRPCServer implements plugin.GRPCPlugin.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pluginpb.RegisterDetectorServer(s, &server{impl: p.Impl})
	return nil
}

// GRPCClient implements plugin.GRPCPlugin; the client is a
// pluginpb.DetectorClient.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return pluginpb.NewDetectorClient(c), nil
}

// Serve runs d as a modelgate plugin until the host stops it. It does not
// return when started by modelgate; run by hand it prints a short notice
// and exits.
func Serve(d Detector) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         plugin.PluginSet{PluginName: &GRPCPlugin{Impl: d}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes),
				grpc.InitialWindowSize(WindowBytes), grpc.InitialConnWindowSize(WindowBytes))
			return grpc.NewServer(opts...)
		},
	})
}

type server struct {
	pluginpb.UnimplementedDetectorServer
	impl Detector
}

func (s *server) Describe(context.Context, *pluginpb.DescribeRequest) (*pluginpb.Description, error) {
	d := s.impl.Describe()
	out := &pluginpb.Description{Name: d.Name, Version: d.Version, InformationUri: d.InformationURI}
	for _, r := range d.Rules {
		out.Rules = append(out.Rules, &pluginpb.Rule{Id: r.ID, Name: r.Name, Severity: pluginpb.Severity(r.Severity),
			Title: r.Title, What: r.What, Why: r.Why, Fix: r.Fix, Tags: r.Tags})
	}
	for _, c := range d.Claims {
		pc := &pluginpb.Claim{NamePatterns: c.NamePatterns}
		for _, m := range c.Magic {
			if m.Offset < 0 {
				return nil, fmt.Errorf("claim magic at negative offset %d", m.Offset)
			}
			pc.Magic = append(pc.Magic, &pluginpb.Magic{Offset: uint32(m.Offset), Bytes: m.Bytes})
		}
		out.Claims = append(out.Claims, pc)
	}
	return out, nil
}

func (s *server) Scan(stream pluginpb.Detector_ScanServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		return errors.New("scan stream must open with ScanStart")
	}
	maxRead := int(start.MaxRead)
	if maxRead <= 0 {
		maxRead = 1 << 20
	}
	in := &Input{Path: start.Path, Member: start.Member, Name: start.Name, Size: start.Size,
		Depth: int(start.Depth), Head: start.Head}
	in.R = &remoteReader{stream: stream, head: start.Head, size: start.Size, maxRead: maxRead}
	res, scanErr := s.safeScan(stream.Context(), in)
	out := &pluginpb.ScanResult{}
	if scanErr != nil {
		out.Error = scanErr.Error()
	}
	if res != nil {
		for _, f := range res.Findings {
			out.Findings = append(out.Findings, &pluginpb.Finding{RuleId: f.RuleID, Severity: pluginpb.Severity(f.Severity),
				Member: f.Member, Offset: f.Offset, Global: f.Global, Message: f.Message, Evidence: f.Evidence})
		}
		for _, n := range res.NotScanned {
			out.NotScanned = append(out.NotScanned, &pluginpb.NotScanned{Kind: pluginpb.NotScannedKind(n.Kind),
				Member: n.Member, Reason: n.Reason})
		}
	}
	return stream.Send(&pluginpb.PluginMessage{Msg: &pluginpb.PluginMessage_Result{Result: out}})
}

// safeScan turns a panic in the detector into an error for this input, so
// one hostile file does not take the plugin down for the rest of the scan.
func (s *server) safeScan(ctx context.Context, in *Input) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("panic in detector: %v", r)
		}
	}()
	return s.impl.Scan(ctx, in)
}

// remoteReader reads content from the host over the scan stream. One
// request is in flight at a time; each fetches a whole window (up to the
// host's max_read) so that a parser reading a few bytes at a time costs a
// round trip per window, not per read.
type remoteReader struct {
	mu      sync.Mutex
	stream  pluginpb.Detector_ScanServer
	head    []byte
	size    int64
	maxRead int
	win     []byte
	winOff  int64
}

func (r *remoteReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= r.size {
		return 0, io.EOF
	}
	n := 0
	if off < int64(len(r.head)) {
		n = copy(p, r.head[off:])
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for n < len(p) {
		at := off + int64(n)
		if at >= r.size {
			return n, io.EOF
		}
		if at < r.winOff || at >= r.winOff+int64(len(r.win)) {
			if err := r.fetch(at); err != nil {
				return n, err
			}
		}
		n += copy(p[n:], r.win[at-r.winOff:])
	}
	return n, nil
}

// fetch replaces the window with the bytes at off.
func (r *remoteReader) fetch(off int64) error {
	want := int(min(int64(r.maxRead), r.size-off))
	if err := r.stream.Send(&pluginpb.PluginMessage{Msg: &pluginpb.PluginMessage_Read{
		Read: &pluginpb.ReadRequest{Offset: off, Length: uint32(want)}}}); err != nil {
		return fmt.Errorf("read from host: %w", err)
	}
	msg, err := r.stream.Recv()
	if err != nil {
		return fmt.Errorf("read from host: %w", err)
	}
	rep := msg.GetRead()
	switch {
	case rep == nil:
		return errors.New("read from host: unexpected message")
	case len(rep.Data) > want:
		return errors.New("read from host: reply longer than asked")
	case len(rep.Data) == 0:
		return io.ErrUnexpectedEOF
	}
	r.win, r.winOff = rep.Data, off
	return nil
}
