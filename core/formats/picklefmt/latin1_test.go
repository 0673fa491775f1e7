package picklefmt_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/engine/enginetest"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/list"
)

// protocol2Bytes is how pickle protocol 2 writes loader(payload) for a
// bytes payload: loader(_codecs.encode(payload.decode("latin1"), "latin1")).
func protocol2Bytes(module, name string, payload []byte) []byte {
	var text []rune
	for _, b := range payload {
		text = append(text, rune(b))
	}
	return protocol2Text(module, name, string(text))
}

func protocol2Text(module, name, text string) []byte {
	utf := []byte(text)
	out := []byte("\x80\x02c" + module + "\n" + name + "\nc_codecs\nencode\n")
	out = append(out, 'X')
	out = binary.LittleEndian.AppendUint32(out, uint32(len(utf)))
	out = append(out, utf...)
	out = append(out, "X\x06\x00\x00\x00latin1\x86R\x85R."...)
	return out
}

// TestProtocol2LargeBytes: a torch storage over 1 MiB pickled with protocol
// 2 is text longer than the VM keeps. It was judged "loads a computed
// payload" (critical); the text is a constant, so the payload is decoded
// from the stream and scanned like any other, and an attack inside it
// still fires.
func TestProtocol2LargeBytes(t *testing.T) {
	eng := enginetest.New(t, list.Default())
	// Bytes 0x80-0xff become two UTF-8 bytes each, so the text's kept
	// prefix ends inside a character in one of the two paddings.
	pad := bytes.Repeat([]byte{0x00, 0xa8, 0xff}, 700_000)
	attack := append([]byte("\x80\x02cposix\nsystem\nX\x0c\x00\x00\x00touch /tmp/x\x85R."), pad...)
	cases := []struct {
		name      string
		data      []byte
		want      finding.Severity
		rule      string
		unscanned bool
	}{
		{"attack in a large latin-1 payload", protocol2Bytes("torch.storage", "_load_from_bytes", attack), finding.SeverityCritical, "MG101", false},
		{"attack in a large latin-1 payload, odd split", protocol2Bytes("torch.storage", "_load_from_bytes", append(attack, 0xe9)), finding.SeverityCritical, "MG101", false},
		{"pickle.loads of a large latin-1 payload", protocol2Bytes("pickle", "loads", attack), finding.SeverityCritical, "MG101", false},
	}
	// Text that latin-1 cannot encode: loading fails, the payload cannot
	// be reproduced, and that is reported rather than passed.
	bad := protocol2Text("torch.storage", "_load_from_bytes", strings.Repeat("\x00\u00e9", 600_000)+"\u20ac")
	cases = append(cases, struct {
		name      string
		data      []byte
		want      finding.Severity
		rule      string
		unscanned bool
	}{"text latin-1 cannot encode", bad, finding.SeverityHigh, "MG105", true})
	for _, tc := range cases {
		res := enginetest.ScanBytes(eng, "x.pkl", tc.data)
		var worst finding.Severity
		rule := ""
		for _, f := range res.Findings {
			if f.Severity > worst {
				worst, rule = f.Severity, f.RuleID
			}
		}
		if worst != tc.want || rule != tc.rule || (len(res.Unscanned) > 0) != tc.unscanned {
			t.Errorf("%s: worst %s %s, unscanned %v; want %s %s, unscanned %v", tc.name, worst, rule, res.Unscanned, tc.want, tc.rule, tc.unscanned)
		}
	}
}

// TestProtocol2LargeTorchStorage scans what Debian's torch really writes
// for pickle.dumps(torch.randn(300000), protocol=2): 1.8 MB, so it is made
// here rather than committed.
func TestProtocol2LargeTorchStorage(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("SKIPPED LOUDLY: /usr/bin/python3 not found")
	}
	out := filepath.Join(t.TempDir(), "storage.pkl")
	script := "import pickle, sys, torch\ntorch.manual_seed(0)\nopen(sys.argv[1], 'wb').write(pickle.dumps(torch.randn(300000), protocol=2))\n"
	if b, err := exec.Command("/usr/bin/python3", "-c", script, out).CombinedOutput(); err != nil {
		if strings.Contains(string(b), "No module named 'torch'") {
			t.Skip("SKIPPED LOUDLY: python3-torch not installed")
		}
		t.Fatalf("generate: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	res := enginetest.ScanBytes(enginetest.New(t, list.Default()), "storage.pkl", data)
	if len(res.Unscanned) > 0 {
		t.Errorf("not fully scanned: %+v", res.Unscanned)
	}
	nested := false
	for _, f := range res.Findings {
		if f.Severity > finding.SeverityLow {
			t.Errorf("benign torch storage reported: %+v", f)
		}
		nested = nested || f.RuleID == "MG105"
	}
	if !nested {
		t.Errorf("the storage's torch.save payload was not scanned as a nested member: %+v", res.Findings)
	}
}
