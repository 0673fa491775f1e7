package cyclonedx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/report/cyclonedx"
	"github.com/modelgate/modelgate/core/report/cyclonedx/cyclonedxtest"
	"github.com/modelgate/modelgate/core/scan"
)

func read(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func inventory(t *testing.T) *report.Report { return inventoryWith(t, nil) }

// inventoryWith scans the sample tree under pol (nil: the built-in policy).
func inventoryWith(t *testing.T, pol *policy.Policy) *report.Report {
	t.Helper()
	fsys := fstest.MapFS{
		"llm/llama3-chat.gguf":         {Data: read(t, "examples/models/llama3-chat.gguf")},
		"vision/linear.safetensors":    {Data: read(t, "examples/models/linear.safetensors")},
		"vision/convnet.onnx":          {Data: read(t, "examples/models/convnet.onnx")},
		"tabular/suspicious.pt":        {Data: read(t, "examples/models/suspicious_checkpoint.pt")},
		"tabular/README.md":            {Data: []byte("# tabular models\n")},
		"tabular/unknown-weights.bin":  {Data: bytes.Repeat([]byte{1, 2, 3, 0xff}, 32)},
		"tabular/sklearn_pipeline.pkl": {Data: read(t, "examples/models/sklearn_pipeline_scaler_svc.pkl")},
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	rep, err := scan.Run(context.Background(), scan.FS(fsys, ""), scan.Options{Policy: pol, HashAll: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

type bom struct {
	SerialNumber string `json:"serialNumber"`
	SpecVersion  string `json:"specVersion"`
	Components   []struct {
		BOMRef string `json:"bom-ref"`
		Type   string `json:"type"`
		Name   string `json:"name"`
		Hashes []struct {
			Alg     string `json:"alg"`
			Content string `json:"content"`
		} `json:"hashes"`
		ModelCard *struct {
			ModelParameters struct {
				ArchitectureFamily string `json:"architectureFamily"`
			} `json:"modelParameters"`
		} `json:"modelCard"`
		Properties []struct{ Name, Value string } `json:"properties"`
	} `json:"components"`
}

func TestBOMValidAndComplete(t *testing.T) {
	rep := inventory(t)
	for _, v := range []string{"1.6", "1.7"} {
		t.Run(v, func(t *testing.T) {
			w, err := cyclonedx.New(cyclonedx.Options{SpecVersion: v, Deterministic: true})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := w.Write(context.Background(), &out, rep); err != nil {
				t.Fatal(err)
			}
			cyclonedxtest.Validate(t, v, out.Bytes())
			var b bom
			if err := json.Unmarshal(out.Bytes(), &b); err != nil {
				t.Fatal(err)
			}
			if b.SpecVersion != v {
				t.Errorf("specVersion %q", b.SpecVersion)
			}
			got := map[string]map[string]string{}
			var refs []string
			for _, c := range b.Components {
				refs = append(refs, c.BOMRef)
				if c.Type != "machine-learning-model" {
					t.Errorf("%s: type %s", c.BOMRef, c.Type)
				}
				if len(c.Hashes) != 1 || c.Hashes[0].Alg != "SHA-256" || len(c.Hashes[0].Content) != 64 {
					t.Errorf("%s: hashes %+v", c.BOMRef, c.Hashes)
				}
				props := map[string]string{}
				for _, p := range c.Properties {
					props[p.Name] = p.Value
				}
				got[c.BOMRef] = props
			}
			want := "model:llm/llama3-chat.gguf,model:tabular/sklearn_pipeline.pkl,model:tabular/suspicious.pt,model:tabular/unknown-weights.bin,model:vision/convnet.onnx,model:vision/linear.safetensors"
			if strings.Join(refs, ",") != want {
				t.Fatalf("components %q,\nwant %q (README left out, sorted)", strings.Join(refs, ","), want)
			}
			checks := []struct{ ref, key, value string }{
				{"model:llm/llama3-chat.gguf", "modelgate:gguf:architecture", "llama"},
				{"model:llm/llama3-chat.gguf", "modelgate:framework", "gguf"},
				{"model:vision/linear.safetensors", "modelgate:safetensors:parameters", "16"},
				{"model:vision/convnet.onnx", "modelgate:onnx:opset", "13"},
				{"model:vision/convnet.onnx", "modelgate:onnx:producer_name", "pytorch"},
				{"model:tabular/suspicious.pt", "modelgate:verdict", "fail"},
				{"model:tabular/suspicious.pt", "modelgate:framework", "pytorch"},
				{"model:tabular/sklearn_pipeline.pkl", "modelgate:verdict", "pass"},
				{"model:tabular/unknown-weights.bin", "modelgate:verdict", "not-scanned"},
			}
			for _, c := range checks {
				if got[c.ref][c.key] != c.value {
					t.Errorf("%s %s = %q, want %q", c.ref, c.key, got[c.ref][c.key], c.value)
				}
			}
			if !strings.Contains(got["model:tabular/suspicious.pt"]["modelgate:rules"], "MG101") {
				t.Errorf("rules of the unsafe checkpoint: %q", got["model:tabular/suspicious.pt"]["modelgate:rules"])
			}
			for _, c := range b.Components {
				if c.BOMRef == "model:llm/llama3-chat.gguf" && (c.ModelCard == nil || c.ModelCard.ModelParameters.ArchitectureFamily != "llama") {
					t.Errorf("GGUF model card %+v", c.ModelCard)
				}
			}
		})
	}
}

// TestVerdictFollowsFailOnUnscanned: a component's not-scanned verdict
// agrees with the gate, so a policy that accepts unscanned content (or
// suppresses the item) gives "pass", as the exit code does.
func TestVerdictFollowsFailOnUnscanned(t *testing.T) {
	const unknown = "model:tabular/unknown-weights.bin"
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, policy, want string
		wantExit           int
	}{
		{"default", "", "not-scanned", 1},
		{"never", "fail_on_unscanned: never\n", "pass", 1},
		{"suppressed", "suppressions:\n  - rule: MG901\n    path: tabular/unknown-weights.bin\n    reason: reviewed random test data\n", "pass", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pol *policy.Policy
			if tt.policy != "" {
				var err error
				if pol, err = policy.Parse([]byte(tt.policy), "test.yaml", now); err != nil {
					t.Fatal(err)
				}
			}
			rep := inventoryWith(t, pol)
			if rep.ExitCode != tt.wantExit {
				t.Errorf("exit %d, want %d", rep.ExitCode, tt.wantExit)
			}
			w, err := cyclonedx.New(cyclonedx.Options{SpecVersion: "1.6", Deterministic: true})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := w.Write(context.Background(), &out, rep); err != nil {
				t.Fatal(err)
			}
			var b bom
			if err := json.Unmarshal(out.Bytes(), &b); err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, c := range b.Components {
				if c.BOMRef != unknown {
					continue
				}
				for _, p := range c.Properties {
					if p.Name == "modelgate:verdict" {
						got = p.Value
					}
				}
			}
			if got != tt.want {
				t.Errorf("%s verdict %q, want %q", unknown, got, tt.want)
			}
		})
	}
}

func TestDeterministicSerial(t *testing.T) {
	serial := func(det bool) string {
		w, _ := cyclonedx.New(cyclonedx.Options{Deterministic: det})
		var out bytes.Buffer
		if err := w.Write(context.Background(), &out, inventory(t)); err != nil {
			t.Fatal(err)
		}
		var b bom
		if err := json.Unmarshal(out.Bytes(), &b); err != nil {
			t.Fatal(err)
		}
		return b.SerialNumber
	}
	a, b := serial(true), serial(true)
	if a != b || !strings.HasPrefix(a, "urn:uuid:") {
		t.Errorf("deterministic serials %q and %q", a, b)
	}
	if r1, r2 := serial(false), serial(false); r1 == r2 {
		t.Errorf("random serials repeat: %q", r1)
	}
}

func TestBadVersion(t *testing.T) {
	if _, err := cyclonedx.New(cyclonedx.Options{SpecVersion: "1.4"}); err == nil {
		t.Error("1.4 accepted")
	}
}

// TestValidatorRejects keeps the schema check honest: a component type the
// schema does not know must fail it.
func TestValidatorRejects(t *testing.T) {
	bad := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"bogus","name":"x"}]}`)
	for _, v := range []string{"1.6", "1.7"} {
		if err := cyclonedxtest.Check(v, bad); err == nil {
			t.Errorf("%s: invalid BOM accepted", v)
		}
	}
}
