// Command rawdetector is a plugin that speaks the protocol directly, without
// the SDK's safeguards, as a plugin written in another language might, and
// breaks it on request. It claims content starting with "MGRAW:" and acts on
// the word after it: badread (a read far outside the input), hugeread (a
// read longer than allowed), noresult (ends the stream without a result),
// badutf8 (a finding whose message is not UTF-8).
package main

import (
	"context"
	"strings"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/modelgate/modelgate/sdk"
	"github.com/modelgate/modelgate/sdk/pluginpb"
)

type server struct {
	pluginpb.UnimplementedDetectorServer
}

func (server) Describe(context.Context, *pluginpb.DescribeRequest) (*pluginpb.Description, error) {
	return &pluginpb.Description{Name: "rawdetector", Version: "0.0.1",
		Rules:  []*pluginpb.Rule{{Id: "RAW001", Severity: pluginpb.Severity_SEVERITY_LOW, Title: "Raw finding"}},
		Claims: []*pluginpb.Claim{{Magic: []*pluginpb.Magic{{Offset: 0, Bytes: []byte("MGRAW:")}}}}}, nil
}

func (server) Scan(stream pluginpb.Detector_ScanServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	word := strings.TrimSpace(strings.TrimPrefix(string(first.GetStart().GetHead()), "MGRAW:"))
	read := func(off int64, n uint32) error {
		return stream.Send(&pluginpb.PluginMessage{Msg: &pluginpb.PluginMessage_Read{Read: &pluginpb.ReadRequest{Offset: off, Length: n}}})
	}
	switch word {
	case "badread":
		if err := read(1<<40, 16); err != nil {
			return err
		}
		_, err := stream.Recv()
		return err
	case "hugeread":
		if err := read(0, 64<<20); err != nil {
			return err
		}
		_, err := stream.Recv()
		return err
	case "noresult":
		return nil
	case "badutf8":
		return stream.Send(&pluginpb.PluginMessage{Msg: &pluginpb.PluginMessage_Result{Result: &pluginpb.ScanResult{
			Findings: []*pluginpb.Finding{{RuleId: "RAW001", Offset: -1, Message: "\xff\xfe"}}}}})
	}
	return stream.Send(&pluginpb.PluginMessage{Msg: &pluginpb.PluginMessage_Result{Result: &pluginpb.ScanResult{}}})
}

type rawPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (rawPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pluginpb.RegisterDetectorServer(s, server{})
	return nil
}

func (rawPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, nil
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: sdk.Handshake,
		Plugins:         plugin.PluginSet{sdk.PluginName: rawPlugin{}},
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}
