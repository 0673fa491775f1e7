package action

import (
	"reflect"
	"strings"
	"testing"
)

func TestReadInputs(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Inputs
		wantErr string
	}{
		{name: "defaults", env: nil, want: Inputs{Paths: []string{"."}, FailOn: "high", SARIFFile: "modelgate.sarif",
			UploadSARIF: "auto", Category: "modelgate", Comment: "off"}},
		{name: "all set, hyphenated names kept as go-githubactions reads them", env: map[string]string{
			"INPUT_PATH": "models/\n  # a comment\n\n weights/*.pt \n", "INPUT_FAIL-ON": "Critical", "INPUT_POLICY": ".modelgate.yaml",
			"INPUT_CHANGED-ONLY": "true", "INPUT_SARIF-FILE": "out/mg.sarif", "INPUT_JSON-FILE": "out/mg.json",
			"INPUT_UPLOAD-SARIF": "TRUE", "INPUT_CATEGORY": "models", "INPUT_COMMENT": "on-failure", "INPUT_TOKEN": "tok"},
			want: Inputs{Paths: []string{"models/", "weights/*.pt"}, FailOn: "critical", Policy: ".modelgate.yaml", ChangedOnly: true,
				SARIFFile: "out/mg.sarif", JSONFile: "out/mg.json", UploadSARIF: "true", Category: "models", Comment: "on-failure", Token: "tok"}},
		{name: "underscore is not the input's name", env: map[string]string{"INPUT_FAIL_ON": "low"},
			want: Inputs{Paths: []string{"."}, FailOn: "high", SARIFFile: "modelgate.sarif", UploadSARIF: "auto", Category: "modelgate", Comment: "off"}},
		{name: "bad fail-on", env: map[string]string{"INPUT_FAIL-ON": "severe"}, wantErr: "fail-on"},
		{name: "bad upload-sarif", env: map[string]string{"INPUT_UPLOAD-SARIF": "maybe"}, wantErr: "upload-sarif"},
		{name: "bad comment", env: map[string]string{"INPUT_COMMENT": "sometimes"}, wantErr: "comment"},
		{name: "bad changed-only", env: map[string]string{"INPUT_CHANGED-ONLY": "yes please"}, wantErr: "changed-only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRunner(t)
			for k, v := range tt.env {
				f.env[k] = v
			}
			got, err := ReadInputs(f.action())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
