package keras_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/keras"
	"github.com/modelgate/modelgate/core/formats/picklefmt"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/rules"
)

func input(b []byte, name string) *engine.Input {
	head := b
	if len(head) > engine.HeadSize {
		head = head[:engine.HeadSize]
	}
	return &engine.Input{Name: name, R: bytes.NewReader(b), Size: int64(len(b)), Head: head}
}

func TestConfigMatch(t *testing.T) {
	read := func(n string) []byte {
		b, err := os.ReadFile("testdata/" + n)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		{"keras 3 config.json", read("config_functional.json"), true},
		{"metadata.json", read("metadata.json"), true},
		{"model.to_json", []byte(`{"class_name": "Sequential", "config": {}, "keras_version": "2.11.0"}`), true},
		{"leading whitespace", []byte("\n  {\"module\": \"keras\", \"class_name\": \"Sequential\"}"), true},
		{"tokenizer config", []byte(`{"add_bos_token": true, "class_name": "x"}`), false},
		{"Keras keys after another first", []byte(`{"compile_config": null, "class_name": "Sequential", "config": {}}`), true},
		{"Keras keys after the head", []byte(`{"build_config": {"pad": "` + strings.Repeat("x", 5000) + `"}, "class_name": "Sequential", "config": {}}`), true},
		{"metadata after the head", []byte(`{"pad": "` + strings.Repeat("x", 5000) + `", "keras_version": "3.3.3"}`), true},
		{"class_name and config only nested", []byte(`{"a": {"class_name": "x", "config": {}}}`), false},
		{"json array", []byte(`[{"class_name": "Dense"}]`), false},
		{"protocol 0 pickle", []byte("cos\nsystem\n(S'id'\ntR."), false},
		{"hdf5", read("h5_lambda_marker.h5"), false},
	}
	for _, tc := range tests {
		if got := (keras.Config{}).Match(input(tc.data, "x")); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestH5Match(t *testing.T) {
	b, err := os.ReadFile("testdata/h5_lambda_marker.h5")
	if err != nil {
		t.Fatal(err)
	}
	if !(keras.H5{}).Match(input(b, "m.h5")) {
		t.Error("Keras HDF5 not matched")
	}
	if (keras.H5{}).Match(input([]byte("\x89HDF\r\n\x1a\n"), "m.h5")) {
		t.Error("bare signature matched as Keras")
	}
	if !(keras.HDF5{}).Match(input([]byte("\x89HDF\r\n\x1a\n"), "m.h5")) {
		t.Error("bare signature not matched as HDF5")
	}
}

func scan(t *testing.T, b []byte) finding.FileResult {
	t.Helper()
	eng, err := engine.New(engine.Options{Formats: []engine.Format{keras.H5{}, keras.HDF5{}, picklefmt.Pickle{}, keras.Config{}}})
	if err != nil {
		t.Fatal(err)
	}
	return eng.ScanReaderAt(context.Background(), "m.h5", bytes.NewReader(b), int64(len(b)))
}

func rulesOf(r finding.FileResult) map[string]finding.Severity {
	m := map[string]finding.Severity{}
	for _, f := range r.Findings {
		if f.Severity > m[f.RuleID] {
			m[f.RuleID] = f.Severity
		}
	}
	for _, u := range r.Unscanned {
		m[u.RuleID] = finding.SeverityNone
	}
	return m
}

// TestUnreadableHDF5 breaks the root object header address so the
// structured read fails: the file must be reported as not scanned, and the
// Lambda marker in its bytes must still raise a finding.
func TestUnreadableHDF5(t *testing.T) {
	b, err := os.ReadFile("testdata/h5_lambda_marker.h5")
	if err != nil {
		t.Fatal(err)
	}
	good := rulesOf(scan(t, b))
	if good[rules.KerasLambda] != finding.SeverityCritical {
		t.Fatalf("intact file: %v", good)
	}
	bad := append([]byte(nil), b...)
	// Superblock v0: the root symbol table entry's object header address
	// is at 64 (8-byte offsets).
	binary.LittleEndian.PutUint64(bad[64:], uint64(len(bad)+100))
	got := rulesOf(scan(t, bad))
	if _, ok := got[rules.NotScannedError]; !ok {
		t.Errorf("broken header not reported as not scanned: %v", got)
	}
	if got[rules.KerasUnreadableConfig] != finding.SeverityHigh {
		t.Errorf("Lambda marker safety net did not fire: %v", got)
	}
}

func TestTorchModulePayloadIsScanned(t *testing.T) {
	// protocol 2 pickle: os.system('id') via REDUCE, base64 in the config.
	cfg := []byte(`{"module": "keras.layers", "class_name": "TorchModuleWrapper", "config": {"module": "gAJjb3MKc3lzdGVtCnEAWAIAAABpZHEBhXECUnEDLg=="}}`)
	got := rulesOf(scan(t, cfg))
	if got[rules.KerasTorchModule] != finding.SeverityHigh {
		t.Errorf("TorchModuleWrapper not reported: %v", got)
	}
	if got[rules.DangerousCall] != finding.SeverityCritical {
		t.Errorf("embedded pickle not scanned: %v", got)
	}
}

// TestLambdaAllowedBySHA256: a reviewed Lambda is silenced by the sha256 of
// its bytecode (allow_code_sha256), the same way as a pickled function.
func TestLambdaAllowedBySHA256(t *testing.T) {
	b, err := os.ReadFile("testdata/h5_lambda_marker.h5")
	if err != nil {
		t.Fatal(err)
	}
	var digest string
	for _, f := range scan(t, b).Findings {
		if f.RuleID == rules.KerasLambda {
			if _, rest, ok := strings.Cut(f.Evidence, "sha256="); ok {
				digest, _, _ = strings.Cut(rest, ";")
			}
		}
	}
	if len(digest) != 64 {
		t.Fatalf("no sha256 in the Lambda evidence")
	}
	pol, err := policy.New(policy.Config{AllowCode: []string{digest}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Options{Formats: []engine.Format{keras.H5{}, keras.HDF5{}, picklefmt.Pickle{}, keras.Config{}}, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	res := eng.ScanReaderAt(context.Background(), "m.h5", bytes.NewReader(b), int64(len(b)))
	if _, ok := rulesOf(res)[rules.KerasLambda]; ok {
		t.Errorf("reviewed Lambda still reported: %+v", res.Findings)
	}
}

// TestImpossibleHDF5Size: an HDF5 header declaring a size no file of this
// size could hold (a 2^60-byte global heap in 6 KiB) is reported high as an
// attack on readers' size arithmetic; a real file cut short is only not
// scanned, as before.
func TestImpossibleHDF5Size(t *testing.T) {
	b, err := os.ReadFile("../hdf5/testdata/v3_latest.h5")
	if err != nil {
		t.Fatal(err)
	}
	crafted := append([]byte(nil), b...)
	i := bytes.Index(crafted, []byte("GCOL"))
	if i < 0 {
		t.Fatal("no global heap collection")
	}
	binary.LittleEndian.PutUint64(crafted[i+8:], 1<<60)
	cases := []struct {
		name string
		data []byte
		want bool
	}{
		{"2^60-byte global heap", crafted, true},
		{"real file cut short", b[:2100], false},
	}
	for _, tc := range cases {
		got := rulesOf(scan(t, tc.data))
		if _, ok := got[rules.NotScannedError]; !ok {
			t.Errorf("%s: not reported as not scanned: %v", tc.name, got)
		}
		sev, ok := got[rules.ImpossibleSize]
		if ok != tc.want || (ok && sev != finding.SeverityHigh) {
			t.Errorf("%s: %v; want %s at high: %v", tc.name, got, rules.ImpossibleSize, tc.want)
		}
	}
}

// paddedConfig is a size-byte config: head, then spaces.
type paddedConfig struct {
	head []byte
	size int64
}

func (p paddedConfig) ReadAt(b []byte, off int64) (int, error) {
	if off >= p.size {
		return 0, io.EOF
	}
	n := 0
	for ; n < len(b) && off+int64(n) < p.size; n++ {
		if i := off + int64(n); i < int64(len(p.head)) {
			b[n] = p.head[i]
		} else {
			b[n] = ' '
		}
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// TestConfigPastBounds: a dangerous reference just past the nesting the
// walk follows, or in a config larger than is read, must be found or the
// config reported as not scanned (MG902), never passed with a medium.
func TestConfigPastBounds(t *testing.T) {
	ref := `{"module": "os", "class_name": "function", "config": "system", "registered_name": "system"}`
	deep := `{"class_name": "Sequential", "config": ` + strings.Repeat(`{"a": `, 300) + ref + strings.Repeat("}", 300) + "}"
	cases := []struct {
		name string
		r    io.ReaderAt
		size int64
	}{
		{"reference nested 300 levels deep", strings.NewReader(deep), int64(len(deep))},
		{"config one byte over the size read", paddedConfig{[]byte(ref), 256<<20 + 1}, 256<<20 + 1},
	}
	eng, err := engine.New(engine.Options{Formats: []engine.Format{keras.H5{}, keras.HDF5{}, picklefmt.Pickle{}, keras.Config{}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := rulesOf(eng.ScanReaderAt(context.Background(), "config.json", tc.r, tc.size))
			sev, found := got[rules.KerasDangerousRef]
			if _, unscanned := got[rules.NotScannedLimit]; !(found && sev >= finding.SeverityHigh) && !unscanned {
				t.Errorf("neither a high %s nor %s: %v", rules.KerasDangerousRef, rules.NotScannedLimit, got)
			}
		})
	}
}
