package keras

import (
	"encoding/base64"
	"os"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/rules"
)

func b64File(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

type want struct {
	rule string
	sev  finding.Severity
}

func TestCheck(t *testing.T) {
	benignLambda := b64File(t, "../pymarshal/testdata/lambda_arith.marshal")
	osLambda := b64File(t, "../pymarshal/testdata/nested_os_system.marshal")
	readTestdata := func(name string) string {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	pickleB64 := base64.StdEncoding.EncodeToString([]byte("\x80\x02cos\nsystem\nq\x00."))
	tests := []struct {
		name   string
		config string
		want   []want
		// payloads is the number of embedded payloads to scan.
		payloads int
	}{
		{"keras 2 sequential", `{"class_name": "Sequential", "config": {"name": "s", "layers": [
			{"class_name": "Dense", "config": {"units": 2, "activation": "relu",
			 "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}}},
			{"class_name": "Dropout", "config": {"rate": 0.5}}]}}`, nil, 0},
		{"keras 3 functional with keras_hub registered layer", readTestdata("config_functional.json"), nil, 0},
		{"metadata", readTestdata("metadata.json"), nil, 0},
		{"benign TFOpLambda math op", `{"class_name": "TFOpLambda", "config": {"function": "math.multiply"}}`, nil, 0},
		{"builtins-module activation", `{"module": "builtins", "class_name": "function", "config": "relu", "registered_name": "function"}`, nil, 0},
		{"training config with NaN", `{"loss": "mse", "optimizer_config": {"class_name": "Adam", "config": {"clipnorm": NaN, "x": -Infinity}}}`, nil, 0},
		{"registered custom module", `{"module": "my_project.layers", "class_name": "MyDense", "config": {}, "registered_name": "my_project>MyDense"}`,
			[]want{{rules.KerasExternalModule, finding.SeverityLow}}, 0},
		{"unregistered custom module", `{"module": "my_project.layers", "class_name": "MyDense", "config": {}, "registered_name": "MyDense"}`,
			[]want{{rules.KerasExternalModule, 0}}, 0},
		{"os.system function", `{"module": "os", "class_name": "function", "config": "system", "registered_name": "system"}`,
			[]want{{rules.KerasDangerousRef, 0}}, 0},
		{"builtins exec", `{"module": "builtins", "class_name": "function", "config": "exec", "registered_name": null}`,
			[]want{{rules.KerasDangerousRef, 0}}, 0},
		{"subprocess class", `{"module": "subprocess", "class_name": "Popen", "config": {"args": ["id"]}}`,
			[]want{{rules.KerasDangerousRef, 0}}, 0},
		{"registered_name fallback", `{"module": "os", "class_name": "Nothing", "config": {}, "registered_name": "system"}`,
			[]want{{rules.KerasDangerousRef, 0}, {rules.KerasDangerousRef, 0}}, 0},
		{"get_file gadget", `{"module": "keras.utils", "class_name": "get_file", "config": {}}`,
			[]want{{rules.KerasDownloadGadget, 0}}, 0},
		{"internal get_file", `{"module": "keras.src.utils.file_utils", "class_name": "function", "config": "get_file"}`,
			[]want{{rules.KerasDownloadGadget, 0}}, 0},
		{"tensorflow write_file as a layer", `{"module": "tensorflow.io", "class_name": "write_file", "config": {}}`,
			[]want{{rules.KerasDownloadGadget, 0}}, 0},
		{"tensorflow internal py_func", `{"module": "tensorflow.python.ops.script_ops", "class_name": "function", "config": "eager_py_func"}`,
			[]want{{rules.KerasDownloadGadget, 0}}, 0},
		{"tensorflow typespec", `{"class_name": "__typespec__", "spec_name": "TensorSpec", "module": "tensorflow.python.framework.tensor_spec", "config": [[null, 4], "float32", null], "registered_name": null}`,
			nil, 0},
		{"func_load gadget", `{"module": "keras.src.utils.python_utils", "class_name": "function", "config": "func_load"}`,
			[]want{{rules.KerasDownloadGadget, 0}}, 0},
		{"safe mode toggle", `{"module": "keras.config", "class_name": "function", "config": "enable_unsafe_deserialization"}`,
			[]want{{rules.KerasSafeModeToggle, 0}}, 0},
		{"TFOpLambda write_file", `{"class_name": "TFOpLambda", "config": {"function": "io.write_file"}}`,
			[]want{{rules.KerasTFOpLambda, 0}}, 0},
		{"keras 2 Lambda, arithmetic", `{"class_name": "Lambda", "config": {"function": ["` + benignLambda + `", null, null], "function_type": "lambda", "module": "__main__"}}`,
			[]want{{rules.KerasLambda, finding.SeverityHigh}}, 0},
		{"keras 2 Lambda, os.system", `{"class_name": "Lambda", "config": {"function": ["` + osLambda + `", null, null], "function_type": "lambda"}}`,
			[]want{{rules.KerasLambda, finding.SeverityCritical}}, 0},
		{"keras 2 Lambda, named os function", `{"class_name": "Lambda", "config": {"function": "system", "function_type": "function", "module": "os"}}`,
			[]want{{rules.KerasDangerousRef, 0}}, 0},
		{"keras 2 Lambda, output_shape bytecode", `{"class_name": "Lambda", "config": {"function": ["` + benignLambda + `", null, null], "function_type": "lambda", "output_shape": ["` + osLambda + `", null, null], "output_shape_type": "lambda"}}`,
			[]want{{rules.KerasLambda, finding.SeverityHigh}, {rules.KerasLambda, finding.SeverityCritical}}, 0},
		{"keras 2 Lambda, undecodable", `{"class_name": "Lambda", "config": {"function": ["!!notbase64", null, null], "function_type": "lambda"}}`,
			[]want{{rules.KerasLambda, finding.SeverityHigh}}, 0},
		{"keras 3 __lambda__", readTestdata("config_lambda.json"),
			[]want{{rules.KerasLambda, finding.SeverityCritical}}, 0},
		{"TorchModuleWrapper base64", `{"module": "keras.layers", "class_name": "TorchModuleWrapper", "config": {"module": "` + pickleB64 + `"}}`,
			[]want{{rules.KerasTorchModule, 0}}, 1},
		{"TorchModuleWrapper __bytes__", `{"class_name": "TorchModuleWrapper", "config": {"module": {"class_name": "__bytes__", "config": {"value": "PK..."}}}}`,
			[]want{{rules.KerasTorchModule, 0}}, 1},
		{"deep nesting is not scanned", strings.Repeat(`{"a": `, 300) + "1" + strings.Repeat("}", 300),
			[]want{{rules.NotScannedLimit, 0}}, 0},
	}
	pol := policy.Default()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := ParseJSON([]byte(tc.config))
			if err != nil {
				t.Fatal(err)
			}
			issues, payloads := Check(doc, pol.Classify)
			if len(issues) != len(tc.want) {
				t.Fatalf("got %d issues %+v, want %v", len(issues), issues, tc.want)
			}
			for i, w := range tc.want {
				if issues[i].RuleID != w.rule {
					t.Errorf("issue %d: rule %s, want %s (%s)", i, issues[i].RuleID, w.rule, issues[i].Message)
				}
				if w.sev != 0 && issues[i].Severity != w.sev {
					t.Errorf("issue %d: severity %s, want %s", i, issues[i].Severity, w.sev)
				}
			}
			if len(payloads) != tc.payloads {
				t.Errorf("%d payloads, want %d", len(payloads), tc.payloads)
			}
		})
	}
}

func TestParseJSON(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{`{"a": NaN, "b": "NaN inside a string", "c": [Infinity, -Infinity]}`, true},
		{`{"a": 1} {"b": 2}`, false},
		{`{"a": `, false},
		{`{"s": "\"NaN\""}`, true},
	}
	for _, tc := range tests {
		v, err := ParseJSON([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", tc.in, err, tc.ok)
		}
		if err == nil {
			if m := v.(map[string]any); m["b"] != nil && m["b"] != "NaN inside a string" {
				t.Errorf("string content rewritten: %v", m["b"])
			}
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, n := range []string{"config_functional.json", "config_lambda.json", "metadata.json"} {
		b, err := os.ReadFile("testdata/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"class_name": "Lambda", "config": {"function": ["YQ==", null, null]}}`))
	f.Add([]byte(`{"class_name": "TorchModuleWrapper", "config": {"module": "gAJjb3MKc3lzdGVtCnEALg=="}}`))
	pol := policy.Default()
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := ParseJSON(b)
		if err != nil {
			return
		}
		issues, _ := Check(doc, pol.Classify)
		for _, is := range issues {
			if is.RuleID == "" || is.Message == "" {
				t.Fatalf("incomplete issue %+v", is)
			}
		}
	})
}
