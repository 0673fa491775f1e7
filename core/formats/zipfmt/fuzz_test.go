package zipfmt

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/modelgate/modelgate/core/limits"
)

// FuzzWalk drives the lenient zip walker (central directory, local headers,
// data descriptors, zip64) over arbitrary bytes: it must never panic, loop
// or read outside the input. The seed corpus in testdata/fuzz/FuzzWalk holds
// real PyTorch, numpy and tampered zips.
func FuzzWalk(f *testing.F) {
	f.Add(buildZip(f, member{name: "archive/data.pkl", data: "\x80\x02}q\x00."}))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := limits.Default()
		lim.MaxMembers = 64
		ctx := context.Background()
		_ = Walk(ctx, bytes.NewReader(data), int64(len(data)), lim, func(e *Entry) error {
			if e.DataLen() < 0 {
				t.Fatalf("negative data length for %q", e.Name)
			}
			rc, err := e.Open()
			if err != nil {
				return nil
			}
			defer rc.Close()
			_, _ = io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
			return nil
		})
	})
}
