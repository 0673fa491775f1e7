package tarfmt_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/engine/enginetest"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/list"
	"github.com/modelgate/modelgate/core/formats/tarfmt"
)

func newEngine(t testing.TB) *engine.Engine { return enginetest.New(t, list.Default()) }

func ruleIDs(res finding.FileResult) (string, string) { return enginetest.RuleIDs(res) }

// TestScan covers the header flavours, archive slip, duplicates and
// PyTorch's legacy tar layout, whose raw storage bytes (chosen to look
// like a pickle GLOBAL) must be skipped exactly as torch.load skips them.
func TestScan(t *testing.T) {
	tests := []struct {
		file      string
		format    string
		findings  string // exact set; "~X" means "contains X"
		unscanned string
		member    string // a member some finding must name
	}{
		{file: "ustar.tar", format: "tar"},
		{file: "v7.tar", format: "tar"},
		{file: "gnu_longname.tar", format: "tar", findings: "MG101", member: "d/" + strings.Repeat("x", 150) + ".pkl"},
		{file: "pax.tar", format: "tar", findings: "MG101", member: "model/model.pkl"},
		{file: "sparse_gnu.tar", format: "tar", findings: "~MG101"},
		{file: "abs_name.tar", format: "tar", findings: "MG202", member: "/etc/cron.d/evil"},
		{file: "symlink_escape.tar", format: "tar", findings: "MG202", member: "model/link"},
		{file: "symlink_inside.tar", format: "tar"},
		{file: "hardlink_escape.tar", format: "tar", findings: "MG202"},
		{file: "unknown_type.tar", format: "tar", findings: "MG101", member: "model.pkl"},
		{file: "dup_members.tar", format: "tar", findings: "MG101", member: "model.pkl#2"},
		{file: "torch_benign.tar", format: "pytorch-tar"},
		{file: "torch_storage_args_evil.tar", format: "pytorch-tar", findings: "MG101", unscanned: "MG905", member: "storages"},
		{file: "torch_views_evil.tar", format: "pytorch-tar", findings: "MG101", member: "storages"},
		{file: "torch_tensor_args_evil.tar", format: "pytorch-tar", findings: "MG101", member: "tensors"},
		{file: "torch_dup_pickle.tar", format: "pytorch-tar", findings: "MG101,MG208", member: "pickle#2"},
		{file: "torch_unknown_storage.tar", format: "pytorch-tar", findings: "MG103", unscanned: "MG905"},
		{file: "torch_truncated_storage.tar", format: "pytorch-tar", findings: "MG208"},
	}
	eng := newEngine(t)
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			res := eng.ScanFile(context.Background(), filepath.Join("testdata", tc.file), tc.file)
			f, u := ruleIDs(res)
			if want, ok := strings.CutPrefix(tc.findings, "~"); ok {
				if !strings.Contains(","+f+",", ","+want+",") {
					t.Errorf("findings %q lack %s: %+v", f, want, res.Findings)
				}
			} else if f != tc.findings {
				t.Errorf("findings %q, want %q: %+v", f, tc.findings, res.Findings)
			}
			if u != tc.unscanned {
				t.Errorf("unscanned %q, want %q: %+v", u, tc.unscanned, res.Unscanned)
			}
			if tc.member != "" && !named(res, tc.member) {
				t.Errorf("no finding names member %q: %+v", tc.member, res.Findings)
			}
			if len(res.Formats) == 0 || res.Formats[0] != tc.format && !contains(res.Formats, tc.format) {
				t.Errorf("formats %v, want %s", res.Formats, tc.format)
			}
		})
	}
}

func named(res finding.FileResult, m string) bool {
	for _, f := range res.Findings {
		if f.Member == m {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestValidHeader(t *testing.T) {
	block := func(edit func(b []byte)) []byte {
		b := make([]byte, 512)
		copy(b, "model.pkl")
		copy(b[100:], "0000644\x00")
		copy(b[124:], "00000000012\x00")
		b[156] = '0'
		edit(b)
		copy(b[148:156], "        ")
		sum := 0
		for _, c := range b {
			sum += int(c)
		}
		copy(b[148:], fmt.Sprintf("%06o\x00 ", sum))
		return b
	}
	tests := []struct {
		name string
		b    []byte
		want bool
	}{
		{"v7", block(func([]byte) {}), true},
		{"ustar", block(func(b []byte) { copy(b[257:], "ustar\x0000") }), true},
		{"gnu", block(func(b []byte) { copy(b[257:], "ustar  \x00") }), true},
		{"bad type", block(func(b []byte) { b[156] = 'Z' }), false},
		{"empty name v7", block(func(b []byte) { b[0] = 0 }), false},
		{"short", make([]byte, 100), false},
		{"zeros", make([]byte, 512), false},
	}
	for _, tc := range tests {
		if got := tarfmt.ValidHeader(tc.b); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	bad := block(func([]byte) {})
	bad[0] ^= 1
	if tarfmt.ValidHeader(bad) {
		t.Error("header with a wrong checksum accepted")
	}
}

// TestTorchLastCopyPastBound: torch.load reads the last copy of each of its
// members in the legacy layout; however many harmless copies come first,
// that copy must be the one parsed as torch reads it.
func TestTorchLastCopyPastBound(t *testing.T) {
	eng := newEngine(t)
	for _, decoys := range []int{1, 64, 100} {
		t.Run(fmt.Sprint(decoys), func(t *testing.T) {
			data := withDecoyCopies(t, "testdata/torch_views_evil.tar", "testdata/torch_benign.tar", "storages", decoys)
			res := eng.ScanReaderAt(context.Background(), "m.tar", bytes.NewReader(data), int64(len(data)))
			if f, _ := ruleIDs(res); !strings.Contains(f, "MG101") {
				t.Errorf("findings %q lack MG101", f)
			}
		})
	}
}

// withDecoyCopies rewrites the tar evil with n copies of member name taken
// from benign written just before evil's own copy.
func withDecoyCopies(t *testing.T, evil, benign, name string, n int) []byte {
	t.Helper()
	read := func(file string) (hdrs []*tar.Header, bodies [][]byte) {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		tr := tar.NewReader(f)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return hdrs, bodies
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			hdrs, bodies = append(hdrs, h), append(bodies, b)
		}
	}
	eh, eb := read(evil)
	bh, bb := read(benign)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	write := func(h *tar.Header, b []byte) {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	for i, h := range eh {
		if h.Name == name {
			for j, d := range bh {
				if d.Name == name {
					for range n {
						write(d, bb[j])
					}
				}
			}
		}
		write(h, eb[i])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
