package safetensors_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/list"
	"github.com/modelgate/modelgate/core/formats/safetensors"
)

// TestThroughEngine: crafted files reach the rules they should, and
// content behind or beside the tensors is scanned as nested members.
func TestThroughEngine(t *testing.T) {
	eng, err := engine.New(engine.Options{Formats: list.Default()})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"testdata/linear.safetensors":              nil,
		"testdata/trailing_pickle.safetensors":     {"MG703", "MG101"},
		"testdata/gap_hides_pickle.safetensors":    {"MG702", "MG101"},
		"testdata/pickle_disguised.safetensors":    {"MG101"},
		"testdata/overlapping_offsets.safetensors": {"MG702"},
	}
	for path, want := range cases {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		res := eng.ScanReaderAt(context.Background(), path, bytes.NewReader(data), int64(len(data)))
		got := map[string]bool{}
		for _, f := range res.Findings {
			got[f.RuleID] = true
			if want == nil && f.Severity >= finding.SeverityLow {
				t.Errorf("%s: unexpected %s %s", path, f.RuleID, f.Message)
			}
		}
		for _, r := range want {
			if !got[r] {
				t.Errorf("%s: missing %s (got %v)", path, r, got)
			}
		}
	}
}

// TestSourceAndJSONAreNotSafetensors: a '{' at offset 8 is not a
// safetensors header. Source files, JSON documents and gzipped JSON (as in
// scikit-learn's own OpenML fixtures) once became high MG701 findings
// because their first eight ASCII bytes were read as an impossible length.
func TestSourceAndJSONAreNotSafetensors(t *testing.T) {
	eng, err := engine.New(engine.Options{Formats: list.Default()})
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"data":{"features":[{"index":"0","name":"age","data_type":"numeric"}]}}`))
	zw.Close()
	cases := map[string][]byte{
		"_emoji_codes.py":        []byte("EMOJI = {\n    \"1st_place_medal\": \"🥇\",\n    \"2nd_place_medal\": \"🥈\",\n}\n"),
		"config.js":              []byte("var c = {\n  \"a\": 1,\n  debug: true\n};\n"),
		"fixture.json":           []byte(`{"data":{"id":1}}`),
		"closed.json":            []byte(`{"data":{}}`),
		"spaced.json":            []byte("{\"data\":{ \"id\": 1 }}"),
		"api-v1-dn-iris.json.gz": gz.Bytes(),
		// A plausible length, but the header is no object of tensor entries.
		"weights.txt": append([]byte{14, 0, 0, 0, 0, 0, 0, 0}, []byte(`{"a":[1,2,3]} `)...),
	}
	for name, data := range cases {
		res := eng.ScanReaderAt(context.Background(), name, bytes.NewReader(data), int64(len(data)))
		for _, f := range res.Findings {
			t.Errorf("%s: unexpected %s %s", name, f.RuleID, f.Message)
		}
		for _, fm := range res.Formats {
			if fm == "safetensors" {
				t.Errorf("%s: claimed as safetensors", name)
			}
		}
		if len(res.Unscanned) > 0 {
			t.Errorf("%s: not scanned: %+v", name, res.Unscanned)
		}
	}
	// Real files, whole headers or headers longer than the sniffed head,
	// are still claimed.
	long := `{"__metadata__":{"format":"pt","note":"` + strings.Repeat("x", 5000) + `"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	for len(long)%8 != 0 {
		long += " "
	}
	longFile := append(binary.LittleEndian.AppendUint64(nil, uint64(len(long))), long...)
	longFile = append(longFile, make([]byte, 8)...)
	for name, data := range map[string][]byte{"long-header": longFile, "empty": append(binary.LittleEndian.AppendUint64(nil, 8), "{}      "...)} {
		res := eng.ScanReaderAt(context.Background(), name, bytes.NewReader(data), int64(len(data)))
		if len(res.Formats) != 1 || res.Formats[0] != "safetensors" {
			t.Errorf("%s: formats %v, want safetensors", name, res.Formats)
		}
	}
	files, _ := filepath.Glob("testdata/*.safetensors")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		in := &engine.Input{Name: filepath.Base(p), R: bytes.NewReader(data), Size: int64(len(data)), Head: data[:min(len(data), engine.HeadSize)]}
		if ok := (safetensors.Format{}).Match(in); !ok && !strings.Contains(p, "disguised") {
			t.Errorf("%s: not claimed", p)
		}
	}
}
