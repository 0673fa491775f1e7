package engine_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/engine/enginetest"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/limits"
	"github.com/modelgate/modelgate/core/policy"
)

// probe is a test format driven by the first bytes of its input, so one
// format can exercise every path through the engine.
type probe struct{}

func (probe) Name() string { return "probe" }

func (probe) Match(in *engine.Input) bool {
	if bytes.HasPrefix(in.Head, []byte("MATCHPANIC")) {
		panic("match boom")
	}
	return bytes.HasPrefix(in.Head, []byte("PROBE:"))
}

func (probe) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	cmd := strings.TrimPrefix(string(in.Head), "PROBE:")
	switch {
	case strings.HasPrefix(cmd, "evil"):
		env.Report(finding.Finding{RuleID: "MG101", Offset: 0, Message: "evil"})
	case strings.HasPrefix(cmd, "panic"):
		panic("boom")
	case strings.HasPrefix(cmd, "hang"):
		<-ctx.Done()
		return ctx.Err()
	case strings.HasPrefix(cmd, "nest:"):
		// Wrap the rest as a member, as a container would.
		rest := []byte(strings.TrimPrefix(cmd, "nest:"))
		return env.Recurse(ctx, "inner.bin", bytes.NewReader(rest), int64(len(rest)), "")
	case strings.HasPrefix(cmd, "self"):
		// A container that contains itself: only the depth limit stops it.
		return env.Recurse(ctx, "self", in.R, in.Size, "")
	case strings.HasPrefix(cmd, "stream"):
		// An endless decompressor.
		return env.RecurseStream(ctx, "<stream>", zeros{}, 10, "")
	}
	return nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func newEngine(t *testing.T, lim limits.Limits) *engine.Engine {
	t.Helper()
	pol, err := policy.New(policy.Config{Limits: lim}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Options{Formats: []engine.Format{probe{}}, Policy: pol, Jobs: 1, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func TestScanReaderAt(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		data      string
		lim       limits.Limits
		findings  string
		unscanned string
		status    finding.Status
		reason    string // substring of the first unscanned reason
	}{
		{name: "finding", file: "m.pkl", data: "PROBE:evil", findings: "MG101", status: finding.StatusScanned},
		{name: "clean", file: "m.pkl", data: "PROBE:ok", status: finding.StatusScanned},
		{name: "text is skipped", file: "notes.txt", data: "hello\nworld\n", status: finding.StatusSkipped},
		{name: "unknown binary with a model name", file: "weights.bin", data: "\x00\x01\x02\x03", unscanned: "MG901", status: finding.StatusNotScanned},
		{name: "unknown binary with another name", file: "image.png", data: "\x00\x01\x02\x03", status: finding.StatusSkipped},
		{name: "unknown member is reported whatever its name", file: "a.probe", data: "PROBE:nest:\x00\x01\x02", unscanned: "MG901", status: finding.StatusNotScanned},
		{name: "nested finding", file: "a.probe", data: "PROBE:nest:PROBE:evil", findings: "MG101", status: finding.StatusScanned},
		{name: "match panic is reported, not skipped", file: "notes.txt", data: "MATCHPANIC", unscanned: "MG905", status: finding.StatusNotScanned, reason: "panic"},
		{name: "parser panic is contained", file: "m.pkl", data: "PROBE:panic", unscanned: "MG905", status: finding.StatusNotScanned, reason: "panic"},
		{name: "self-nesting stops at max_depth", file: "m.pkl", data: "PROBE:self", lim: limits.Limits{MaxDepth: 3}, unscanned: "MG906", status: finding.StatusNotScanned},
		{name: "time limit", file: "m.pkl", data: "PROBE:hang", lim: limits.Limits{FileTimeout: 50 * time.Millisecond}, unscanned: "MG902", status: finding.StatusNotScanned, reason: "file_timeout"},
		{name: "file size limit", file: "m.pkl", data: "PROBE:evil-but-too-big", lim: limits.Limits{MaxFileBytes: 8}, unscanned: "MG902", status: finding.StatusNotScanned, reason: "max_file_bytes"},
		// What was spooled before the limit is still sniffed (here: zeros,
		// which no format claims).
		{name: "decompression bomb", file: "m.pkl", data: "PROBE:stream", lim: limits.Limits{MaxDecompressedBytes: 1 << 20}, findings: "MG203", unscanned: "MG901", status: finding.StatusNotScanned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, tt.lim)
			res := enginetest.ScanBytes(eng, tt.file, []byte(tt.data))
			fs, us := enginetest.RuleIDs(res)
			if fs != tt.findings || us != tt.unscanned {
				t.Errorf("findings %q unscanned %q, want %q %q (%+v)", fs, us, tt.findings, tt.unscanned, res.Unscanned)
			}
			if res.Status != tt.status {
				t.Errorf("status %q, want %q", res.Status, tt.status)
			}
			if tt.reason != "" && (len(res.Unscanned) == 0 || !strings.Contains(res.Unscanned[0].Reason, tt.reason)) {
				t.Errorf("reason %+v lacks %q", res.Unscanned, tt.reason)
			}
			if (fs != "" || us != "") && len(res.SHA256) != 64 {
				t.Errorf("sha256 %q not set on a reported file", res.SHA256)
			}
		})
	}
}

func TestScanReaderSpools(t *testing.T) {
	eng := newEngine(t, limits.Limits{})
	res := eng.ScanReader(context.Background(), "<stdin>", io.MultiReader(strings.NewReader("PROBE:evil"), strings.NewReader("")))
	if fs, _ := enginetest.RuleIDs(res); fs != "MG101" {
		t.Errorf("stdin findings %q", fs)
	}
}

// manyUnscanned reports the same not-scanned rule for many members, as an
// archive full of encrypted entries would.
type manyUnscanned struct{}

func (manyUnscanned) Name() string { return "many" }

func (manyUnscanned) Match(in *engine.Input) bool { return bytes.HasPrefix(in.Head, []byte("MANY")) }

func (manyUnscanned) Scan(_ context.Context, _ *engine.Input, env *engine.Env) error {
	for i := 0; i < engine.MaxFindingsPerRule+5; i++ {
		env.NotScanned("MG903", "m", "encrypted")
	}
	return nil
}

func TestNotScannedIsCapped(t *testing.T) {
	eng := enginetest.New(t, []engine.Format{manyUnscanned{}})
	res := enginetest.ScanBytes(eng, "a.zip", []byte("MANY"))
	n := 0
	summary := false
	for _, u := range res.Unscanned {
		switch u.RuleID {
		case "MG903":
			n++
		case "MG902":
			summary = strings.Contains(u.Reason, "5 more MG903")
		}
	}
	if n != engine.MaxFindingsPerRule || !summary {
		t.Errorf("kept %d MG903 items (want %d) and summary %v", n, engine.MaxFindingsPerRule, summary)
	}
}
