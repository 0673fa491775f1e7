package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/policy"
)

func TestPluginSpecs(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	other := strings.Repeat("cd", 32)
	pol, err := policy.New(policy.Config{Plugins: []policy.PluginSpec{{Path: "bin/tflite", SHA256: sum, CallTimeout: time.Second}}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	policyFile := filepath.Join("/etc/modelgate", "policy.yaml")
	specs, err := pluginSpecs([]string{"/etc/modelgate/bin/tflite", "./x@sha256:" + strings.ToUpper(other)}, pol, policyFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 {
		t.Fatalf("specs %+v", specs)
	}
	if specs[0].Path != "/etc/modelgate/bin/tflite" || specs[0].SHA256 != sum || specs[0].CallTimeout != time.Second {
		t.Errorf("policy entry %+v", specs[0])
	}
	if !filepath.IsAbs(specs[1].Path) || filepath.Base(specs[1].Path) != "x" || specs[1].SHA256 != other {
		t.Errorf("flag entry %+v", specs[1])
	}
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"/etc/modelgate/bin/tflite@sha256:" + other}, "two different sha256"},
		{[]string{"x@sha256:12"}, "64 hex digits"},
		{[]string{"@sha256:" + sum}, "needs a path"},
	} {
		if _, err := pluginSpecs(tc.flags, pol, policyFile); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.flags, err, tc.want)
		}
	}
}
