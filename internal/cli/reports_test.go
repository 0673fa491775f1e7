package cli

import "testing"

func TestExtraReportsParsing(t *testing.T) {
	tests := []struct {
		name    string
		fl      scanFlags
		want    []string // writer names
		wantErr bool
	}{
		{name: "none", fl: scanFlags{}},
		{name: "all gitlab outputs", fl: scanFlags{gitlabSchemaVersion: "15.2.4", reports: []string{
			"gitlab-sast=gl-sast-report.json", "codequality=gl-code-quality-report.json", "sarif=m.sarif", "json=m.json"}},
			want: []string{"gitlab-sast", "codequality", "sarif", "json"}},
		{name: "no equals", fl: scanFlags{reports: []string{"sarif"}}, wantErr: true},
		{name: "empty file", fl: scanFlags{reports: []string{"sarif="}}, wantErr: true},
		{name: "stdout is not a file", fl: scanFlags{reports: []string{"sarif=-"}}, wantErr: true},
		{name: "unknown format", fl: scanFlags{reports: []string{"xml=a.xml"}}, wantErr: true},
		{name: "unsupported schema", fl: scanFlags{gitlabSchemaVersion: "15.2.1", reports: []string{"gitlab-sast=a.json"}}, wantErr: true},
		{name: "same file twice", fl: scanFlags{reports: []string{"sarif=a", "json=a"}}, wantErr: true},
		{name: "clashes with --output", fl: scanFlags{output: "a", reports: []string{"json=a"}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := extraReports(tt.fl)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d reports, want %d", len(got), len(tt.want))
			}
			for i, e := range got {
				if e.w.Name() != tt.want[i] {
					t.Errorf("report %d is %s, want %s", i, e.w.Name(), tt.want[i])
				}
			}
		})
	}
}
