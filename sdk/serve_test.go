package sdk

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"google.golang.org/grpc"

	"github.com/modelgate/modelgate/sdk/pluginpb"
)

// fakeHost answers a remoteReader's requests from content, like the host.
type fakeHost struct {
	grpc.ServerStream
	content []byte
	pending *pluginpb.ReadRequest
	reads   int
}

func (h *fakeHost) Send(m *pluginpb.PluginMessage) error {
	h.pending = m.GetRead()
	h.reads++
	return nil
}

func (h *fakeHost) Recv() (*pluginpb.HostMessage, error) {
	req := h.pending
	if req == nil {
		return nil, errors.New("no request")
	}
	end := min(int64(len(h.content)), req.Offset+int64(req.Length))
	data := h.content[req.Offset:end]
	return &pluginpb.HostMessage{Msg: &pluginpb.HostMessage_Read{Read: &pluginpb.ReadReply{Data: data, Eof: end == int64(len(h.content))}}}, nil
}

func TestRemoteReader(t *testing.T) {
	content := make([]byte, 10_000)
	for i := range content {
		content[i] = byte(i * 7)
	}
	host := &fakeHost{content: content}
	r := &remoteReader{stream: host, head: content[:100], size: int64(len(content)), maxRead: 1000}

	// Reads in small pieces cost one round trip per window.
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.size))
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("read all: %v, equal %v", err, bytes.Equal(got, content))
	}
	if host.reads > 11 {
		t.Errorf("%d round trips for 10 windows", host.reads)
	}
	for _, tc := range []struct {
		off, n int64
		err    error
	}{
		{0, 50, nil}, {90, 20, nil}, {9990, 10, nil}, {9995, 10, io.EOF}, {10_000, 1, io.EOF}, {2500, 3000, nil},
	} {
		buf := make([]byte, tc.n)
		n, err := r.ReadAt(buf, tc.off)
		want := content[tc.off:min(tc.off+tc.n, int64(len(content)))]
		if !errors.Is(err, tc.err) && err != tc.err || !bytes.Equal(buf[:n], want) {
			t.Errorf("ReadAt(%d, %d) = %d, %v", tc.off, tc.n, n, err)
		}
	}
	if _, err := r.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("negative offset accepted")
	}
}
