package torchscript_test

import (
	"context"
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
