package test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/report/sarif/sariftest"
)

var (
	pluginBuild sync.Once
	pluginBins  map[string]string
	pluginErr   error
)

// pluginBinary builds the example TFLite plugin ("tflite") or the
// misbehaving test detector ("testdetector") once per test run.
func pluginBinary(t *testing.T, name string) string {
	t.Helper()
	pluginBuild.Do(func() {
		dir, err := os.MkdirTemp("", "modelgate-plugins-")
		if err != nil {
			pluginErr = err
			return
		}
		pluginBins = map[string]string{}
		// The example plugin is a module of its own (as a third party's
		// would be), so it is built from its directory.
		for name, pkg := range map[string][2]string{"tflite": {"../examples/plugin", "."}, "testdetector": {".", "../core/plugin/testdata/testdetector"}} {
			bin := filepath.Join(dir, name)
			build := exec.Command(goTool(), "build", "-o", bin, pkg[1])
			build.Dir = pkg[0]
			if out, err := build.CombinedOutput(); err != nil {
				pluginErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
			pluginBins[name] = bin
		}
	})
	if pluginErr != nil {
		t.Fatal(pluginErr)
	}
	return pluginBins[name]
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

const tfliteFixtures = "../examples/plugin/testdata"

// TestExamplePluginEndToEnd runs the TFLite example plugin through
// `modelgate scan --plugin` in every report format.
func TestExamplePluginEndToEnd(t *testing.T) {
	bin := pluginBinary(t, "tflite")
	r := runModelgate(t, nil, "scan", "--plugin", bin, tfliteFixtures)
	if r.code != 1 || !strings.Contains(r.stdout, "TFL002") || !strings.Contains(r.stdout, "FlexReadFile") ||
		!strings.Contains(r.stdout, "AcmeFastNMS") {
		t.Fatalf("text: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	r = runModelgate(t, nil, "scan", "--format", "json", "--plugin", bin, tfliteFixtures)
	var rep struct {
		Detectors []struct {
			Name, Version string
			Plugin        bool
		}
		Files []struct {
			Path     string
			Formats  []string
			Findings []struct {
				RuleID   string `json:"rule_id"`
				Severity string
				Global   string
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	got := map[string]string{}
	for _, f := range rep.Files {
		for _, fd := range f.Findings {
			got[filepath.Base(f.Path)] = fd.RuleID + " " + fd.Severity + " " + fd.Global
		}
		if !strings.HasSuffix(f.Path, ".py") && (len(f.Formats) != 1 || f.Formats[0] != "tflite") {
			t.Errorf("%s: formats %v", f.Path, f.Formats)
		}
	}
	want := map[string]string{
		"custom_op.tflite": "TFL001 medium AcmeFastNMS", "flex_readfile.tflite": "TFL002 high FlexReadFile",
		"flex_addv2.tflite": "TFL003 low FlexAddV2", "truncated.tflite": "TFL004 medium ",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("findings %v", got)
	}
	plugin := false
	for _, d := range rep.Detectors {
		plugin = plugin || d.Name == "tflite" && d.Plugin && d.Version == "1.0.0"
	}
	if !plugin {
		t.Errorf("detectors %+v", rep.Detectors)
	}

	r = runModelgate(t, nil, "scan", "--format", "sarif", "--plugin", bin, tfliteFixtures)
	sariftest.Validate(t, []byte(r.stdout))
	var log struct {
		Runs []struct {
			Tool struct {
				Extensions []struct {
					Name, Version string
					Rules         []struct{ ID string }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &log); err != nil {
		t.Fatal(err)
	}
	// Every detector is an extension; the plugin's carries its rules.
	var withRules []string
	for _, ext := range log.Runs[0].Tool.Extensions {
		if len(ext.Rules) > 0 {
			withRules = append(withRules, ext.Name)
			if ext.Name != "tflite" || ext.Version != "1.0.0" || len(ext.Rules) != 4 {
				t.Errorf("plugin extension %+v", ext)
			}
		}
	}
	if len(withRules) != 1 {
		t.Errorf("extensions with rules: %v, want the tflite plugin alone", withRules)
	}

	// Without the plugin the same models are reported as not scanned.
	r = runModelgate(t, nil, "scan", tfliteFixtures+"/custom_op.tflite")
	if r.code != 2 || !strings.Contains(r.stdout, "MG901") {
		t.Errorf("without plugin: exit %d\n%s", r.code, r.stdout)
	}
}

func TestExamplePluginRulesAndPolicy(t *testing.T) {
	bin := pluginBinary(t, "tflite")
	r := runModelgate(t, nil, "rules", "--plugin", bin)
	if r.code != 0 || !strings.Contains(r.stdout, "TFL001") || !strings.Contains(r.stdout, "(plugin tflite)") || !strings.Contains(r.stdout, "MG101") {
		t.Errorf("rules: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	write := func(body string) {
		if err := os.WriteFile(pol, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The policy loads the plugin, overrides a severity and suppresses a
	// finding by its operator name.
	write(fmt.Sprintf("plugins:\n  - path: %s\n    sha256: %s\nseverity:\n  TFL001: high\nsuppressions:\n  - path: \"**/flex_readfile.tflite\"\n    rule: TFL002\n    global: FlexReadFile\n    reason: reviewed\n",
		bin, sha256File(t, bin)))
	r = runModelgate(t, nil, "scan", "--format", "json", "--policy", pol, tfliteFixtures+"/custom_op.tflite", tfliteFixtures+"/flex_readfile.tflite")
	if !strings.Contains(r.stdout, `"severity": "high"`) || !strings.Contains(r.stdout, `"reason": "reviewed"`) || r.code != 1 {
		t.Errorf("policy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A wrong pin refuses to start the plugin and fails the scan.
	write(fmt.Sprintf("plugins:\n  - path: %s\n    sha256: %s\n", bin, strings.Repeat("0", 64)))
	r = runModelgate(t, nil, "scan", "--policy", pol, tfliteFixtures)
	if r.code != 2 || !strings.Contains(r.stderr, "refusing to start") || !strings.Contains(r.stderr, sha256File(t, bin)) {
		t.Errorf("checksum mismatch: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runModelgate(t, nil, "scan", "--plugin", bin+"@sha256:"+strings.Repeat("1", 64), tfliteFixtures)
	if r.code != 2 || !strings.Contains(r.stderr, "refusing to start") {
		t.Errorf("--plugin pin mismatch: exit %d\n%s", r.code, r.stderr)
	}
}

// TestNoOrphanPluginAfterHostKilled: a plugin busy with a file that hangs
// it is gone once the host is stopped by SIGTERM or SIGINT (clean
// shutdown) or SIGKILL (the kernel's parent-death signal).
func TestNoOrphanPluginAfterHostKilled(t *testing.T) {
	bin := modelgateBinary(t)
	det := pluginBinary(t, "testdetector")
	file := filepath.Join(t.TempDir(), "hang.bin")
	if err := os.WriteFile(file, []byte("MGTEST:hang"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "scan", "--plugin", det, file)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			child := 0
			for deadline := time.Now().Add(10 * time.Second); child == 0 && time.Now().Before(deadline); {
				child = childNamed(cmd.Process.Pid, "testdetector")
				time.Sleep(20 * time.Millisecond)
			}
			if child == 0 {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatal("plugin process never appeared")
			}
			// modelgate replaced itself with modelgate-full (same pid),
			// so the signal below reaches the plugin host itself.
			if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", cmd.Process.Pid)); err == nil && filepath.Base(exe) != "modelgate-full" {
				t.Errorf("the host is %s, want modelgate-full in modelgate's place", exe)
			}
			// Let the scan reach the hanging call.
			time.Sleep(300 * time.Millisecond)
			cmd.Process.Signal(sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("host did not exit within 10s of %s", sig)
			}
			for deadline := time.Now().Add(5 * time.Second); processAlive(child); {
				if time.Now().After(deadline) {
					syscall.Kill(child, syscall.SIGKILL)
					t.Fatalf("plugin %d outlived the host after %s", child, sig)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if sig != syscall.SIGKILL && cmd.ProcessState.ExitCode() != 2 {
				t.Errorf("exit code %d after %s, want 2", cmd.ProcessState.ExitCode(), sig)
			}
		})
	}
}

// childNamed finds a child process of pid by its command name.
func childNamed(pid int, name string) int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			c, _ := strconv.Atoi(s)
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", c))
			if strings.TrimSpace(string(comm)) == name {
				return c
			}
		}
	}
	return 0
}

// processAlive is false for processes that are gone or zombies.
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndex(s, ")")
	return i < 0 || len(s) < i+3 || s[i+2] != 'Z'
}
