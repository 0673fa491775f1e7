package picklefmt_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/formats/picklefmt"
)

// FuzzScan runs arbitrary bytes through the pickle formats (PROTO
// streams, PyTorch's legacy stacked pickles, the protocol 0/1 sniff,
// joblib's interleaved arrays) and the policy: no panic. Seeds:
// testdata/fuzz/FuzzScan, written from the pickle fixtures by python3
// test/fuzz_seeds.py.
func FuzzScan(f *testing.F) {
	f.Add([]byte("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06system\x93."))
	f.Add([]byte("cposix\nsystem\n(S'touch /tmp/x'\ntR."))
	f.Add([]byte("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.\x80\x02M\xe9\x03.\x80\x02}q\x00."))
	eng, err := engine.New(engine.Options{Formats: []engine.Format{picklefmt.LegacyTorch{}, picklefmt.Pickle{}, picklefmt.Sniffed{}}, Jobs: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res := eng.ScanReaderAt(context.Background(), "x.pkl", bytes.NewReader(data), int64(len(data)))
		for _, u := range res.Unscanned {
			if strings.Contains(u.Reason, "panic") {
				t.Fatalf("%d bytes: %s", len(data), u.Reason)
			}
		}
	})
}
