package torchscript_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/formats/list"
)

// TestArchives scans real torch.jit.save archives through the full format
// list, so the zip walker's code/ hint reaches this format.
func TestArchives(t *testing.T) {
	eng, err := engine.New(engine.Options{Formats: list.Default()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ file, want string }{
		{"benign/torchscript_linear.pt", ""},
		{"benign/torchscript/scripted_control_flow.pt", ""},
		{"benign/torchscript/scripted_setstate_plain.pt", ""},
		{"benign/torchscript/traced_convnet.pt", ""},
		{"benign/torchscript/scripted_function.pt", ""},
		{"benign/torchscript/scripted_quantized_dynamic.pt", ""},
		{"benign/torchscript/lstm_lite.ptl", ""},
		{"malicious/torchscript/setstate_torch_save.pt", "MG801:critical"},
		{"malicious/torchscript/forward_from_file.pt", "MG801:high"},
		{"malicious/torchscript/custom_op_namespace.pt", "MG802:high"},
		{"malicious/torchscript/edited_code_os_system.pt", "MG804:high,MG804:high"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := eng.ScanFile(context.Background(), "../../../test/fixtures/"+tt.file, tt.file)
			if !strings.Contains(strings.Join(r.Formats, ","), "torchscript-code") {
				t.Fatalf("formats %v lack torchscript-code", r.Formats)
			}
			if len(r.Unscanned) > 0 {
				t.Fatalf("unscanned %+v", r.Unscanned)
			}
			var got []string
			for _, f := range r.Findings {
				got = append(got, f.RuleID+":"+f.Severity.String())
			}
			sort.Strings(got)
			if g := strings.Join(got, ","); g != tt.want {
				t.Fatalf("findings %q, want %q: %+v", g, tt.want, r.Findings)
			}
		})
	}
}

// TestArchiveBehindDecoyPrefixes: torch.jit.load takes the archive's
// directory from its first member, wherever data.pkl comes; the zip
// walker's code/ hint must reach the real directory's source however many
// other "<dir>/data.pkl" members come before it.
func TestArchiveBehindDecoyPrefixes(t *testing.T) {
	eng, err := engine.New(engine.Options{Formats: list.Default()})
	if err != nil {
		t.Fatal(err)
	}
	for _, decoys := range []int{1, 64, 200} {
		t.Run(fmt.Sprint(decoys), func(t *testing.T) {
			data := withDecoys(t, "../../../test/fixtures/malicious/torchscript/forward_from_file.pt", decoys)
			r := eng.ScanReaderAt(context.Background(), "m.pt", bytes.NewReader(data), int64(len(data)))
			var got []string
			for _, f := range r.Findings {
				got = append(got, f.RuleID+":"+f.Severity.String())
			}
			if !slices.Contains(got, "MG801:high") && len(r.Unscanned) == 0 {
				t.Fatalf("findings %v, want MG801:high (formats %v)", got, r.Formats)
			}
		})
	}
}

// withDecoys rewrites a torch zip with its version member first, then n
// members "decoyN/data.pkl" holding a harmless pickle, then the rest.
func withDecoys(t *testing.T, file string, n int) []byte {
	t.Helper()
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	members := slices.Clone(zr.File)
	i := slices.IndexFunc(members, func(f *zip.File) bool { return strings.HasSuffix(f.Name, "/version") })
	if i < 0 {
		t.Fatal("no version member")
	}
	version := members[i]
	members = append([]*zip.File{version}, slices.Delete(members, i, i+1)...)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	copyMember := func(f *zip.File) {
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	copyMember(members[0])
	for k := range n {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("decoy%d/data.pkl", k), Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("\x80\x02N.")); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range members[1:] {
		copyMember(f)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
