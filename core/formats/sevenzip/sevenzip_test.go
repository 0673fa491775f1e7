package sevenzip_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/engine/enginetest"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/list"
)

func newEngine(t testing.TB) *engine.Engine { return enginetest.New(t, list.Default()) }

// ruleSet lists the rule ids of findings at or above low, and of
// unscanned notes, in a stable order.
func ruleSet(res finding.FileResult) (findings, unscanned []string) {
	seen := map[string]bool{}
	for _, f := range res.Findings {
		if !seen[f.RuleID] {
			seen[f.RuleID] = true
			findings = append(findings, f.RuleID)
		}
	}
	seen = map[string]bool{}
	for _, u := range res.Unscanned {
		if !seen[u.RuleID] {
			seen[u.RuleID] = true
			unscanned = append(unscanned, u.RuleID)
		}
	}
	sort.Strings(findings)
	sort.Strings(unscanned)
	return findings, unscanned
}

func TestArchives(t *testing.T) {
	tests := []struct {
		file      string
		findings  string // comma-separated rule ids, sorted
		unscanned string
		member    string // a member some finding must name
	}{
		{file: "multi_lzma2.7z", findings: "MG101", member: "model/evil.pkl"},
		{file: "nonsolid_lzma.7z"},
		{file: "stored_plainheader.7z", findings: "MG101", member: "model/evil.pkl"},
		{file: "ppmd.7z"},
		{file: "bzip2.7z", findings: "MG101"},
		{file: "deflate.7z", findings: "MG101"},
		{file: "encrypted_members.7z", unscanned: "MG903"},
		{file: "encrypted_header.7z", unscanned: "MG903"},
		{file: "symlinks.7z", findings: "MG202", member: "model/escape"},
		{file: "slip_dotdot.7z", findings: "MG101,MG202", member: "../../evil.pkl"},
		{file: "slip_absolute.7z", findings: "MG101,MG202"},
	}
	eng := newEngine(t)
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			res := eng.ScanFile(context.Background(), filepath.Join("testdata", tc.file), tc.file)
			f, u := ruleSet(res)
			if got := strings.Join(f, ","); got != tc.findings {
				t.Errorf("findings %q, want %q: %+v", got, tc.findings, res.Findings)
			}
			if got := strings.Join(u, ","); got != tc.unscanned {
				t.Errorf("unscanned %q, want %q: %+v", got, tc.unscanned, res.Unscanned)
			}
			if tc.member != "" && !hasMember(res, tc.member) {
				t.Errorf("no finding names member %q: %+v", tc.member, res.Findings)
			}
			if len(res.Formats) == 0 || res.Formats[0] != "7z" {
				t.Errorf("formats %v, want 7z first", res.Formats)
			}
		})
	}
}

func hasMember(res finding.FileResult, m string) bool {
	for _, f := range res.Findings {
		if f.Member == m {
			return true
		}
	}
	return false
}

// withHeader rewrites the header of stored_plainheader.7z with edit and
// fixes both CRCs, so the decoder library sees exactly the hostile header
// under test.
func withHeader(t *testing.T, edit func(h []byte) []byte) []byte {
	t.Helper()
	d, err := os.ReadFile("testdata/stored_plainheader.7z")
	if err != nil {
		t.Fatal(err)
	}
	off := binary.LittleEndian.Uint64(d[12:20])
	size := binary.LittleEndian.Uint64(d[20:28])
	h := edit(append([]byte(nil), d[32+off:32+off+size]...))
	out := append(append([]byte(nil), d[:32+off]...), h...)
	binary.LittleEndian.PutUint64(out[20:28], uint64(len(h)))
	binary.LittleEndian.PutUint32(out[28:32], crc32.ChecksumIEEE(h))
	binary.LittleEndian.PutUint32(out[8:12], crc32.ChecksumIEEE(out[12:32]))
	return out
}

// TestHostileHeaderCounts checks that counts the decoder would allocate
// from are bounded before it sees them: a 4-billion file count costs
// nothing and is reported as a limit.
func TestHostileHeaderCounts(t *testing.T) {
	eng := newEngine(t)
	tests := []struct {
		name string
		edit func(h []byte) []byte
		want string
	}{
		{"huge file count", func(h []byte) []byte {
			i := bytes.IndexByte(h, 0x05) // kFilesInfo, then NumFiles = 1
			return append(append(append([]byte(nil), h[:i+1]...), 0xf0, 0xff, 0xff, 0xff, 0xff), h[i+2:]...)
		}, "MG902"},
		{"truncated header", func(h []byte) []byte { return h[:len(h)/2] }, "MG905"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := withHeader(t, tc.edit)
			res := eng.ScanReaderAt(context.Background(), "x.7z", bytes.NewReader(data), int64(len(data)))
			_, u := ruleSet(res)
			if strings.Join(u, ",") != tc.want {
				t.Errorf("unscanned %v, want %s: %+v", u, tc.want, res.Unscanned)
			}
		})
	}
}
