package plugin_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/list"
	"github.com/modelgate/modelgate/core/plugin"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
	"github.com/modelgate/modelgate/core/scan"
)

var testDetector, rawDetector string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plugintest")
	if err != nil {
		panic(err)
	}
	testDetector = filepath.Join(dir, "testdetector")
	rawDetector = filepath.Join(dir, "rawdetector")
	for bin, pkg := range map[string]string{testDetector: "./testdata/testdetector", rawDetector: "./testdata/rawdetector"} {
		out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
		if err != nil {
			panic("building " + pkg + ": " + err.Error() + "\n" + string(out))
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func load(t testing.TB, specs ...plugin.Spec) *plugin.Set {
	t.Helper()
	set, err := plugin.Load(context.Background(), specs, plugin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(set.Close)
	return set
}

// scanFiles scans an in-memory tree with the plugins of set.
func scanFiles(t testing.TB, set *plugin.Set, pol *policy.Policy, files map[string]string) *report.Report {
	t.Helper()
	fsys := fstest.MapFS{}
	var roots []string
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data), Mode: 0o644}
		roots = append(roots, name)
	}
	formats, err := set.Formats(list.Default())
	if err != nil {
		t.Fatal(err)
	}
	cat, err := rules.Default().With(set.Rules()...)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := scan.Run(context.Background(), scan.FS(fsys, "", roots...), scan.Options{
		Formats: formats, Rules: cat, ExtraDetectors: set.Detectors(), Policy: pol, Jobs: 2, NoModelDirs: true})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func fileResult(t testing.TB, rep *report.Report, path string) finding.FileResult {
	t.Helper()
	for _, f := range rep.Files {
		if f.Path == path {
			return f
		}
	}
	t.Fatalf("no result for %s in %+v", path, rep.Files)
	return finding.FileResult{}
}

func TestPluginFindingsReachTheReport(t *testing.T) {
	set := load(t, plugin.Spec{Path: testDetector})
	rep := scanFiles(t, set, nil, map[string]string{"a.bin": "MGTEST:ok\n", "b.txt": "hello"})
	a := fileResult(t, rep, "a.bin")
	if len(a.Findings) != 1 || a.Findings[0].RuleID != "TST001" || a.Findings[0].Severity != finding.SeverityHigh {
		t.Fatalf("a.bin: %+v", a)
	}
	if a.Findings[0].Fix != "None." || a.Findings[0].Global != "test.marker" {
		t.Errorf("rule defaults not applied: %+v", a.Findings[0])
	}
	if len(a.Formats) != 1 || a.Formats[0] != "testdetector" {
		t.Errorf("formats %v", a.Formats)
	}
	if rep.Outcome != report.OutcomeFailFindings {
		t.Errorf("outcome %s", rep.Outcome)
	}
	var det *report.Detector
	for i, d := range rep.Detectors {
		if d.Name == "testdetector" {
			if det != nil {
				t.Errorf("testdetector listed twice: %+v", rep.Detectors)
			}
			det = &rep.Detectors[i]
		}
	}
	if det == nil || !det.Plugin || det.Version != "1.0.0" {
		t.Errorf("detector entry %+v", det)
	}
}

func TestPolicyAppliesToPluginFindings(t *testing.T) {
	set := load(t, plugin.Spec{Path: testDetector})
	pol, err := policy.New(policy.Config{
		Severity:     map[string]finding.Severity{"TST001": finding.SeverityLow},
		Suppressions: []policy.Suppression{{Path: "s.bin", Rule: "TST001", Global: "test.marker", Reason: "reviewed"}},
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rep := scanFiles(t, set, pol, map[string]string{"a.bin": "MGTEST:ok", "s.bin": "MGTEST:ok"})
	if f := fileResult(t, rep, "a.bin").Findings[0]; f.Severity != finding.SeverityLow || f.Suppression != nil {
		t.Errorf("a.bin: %+v", f)
	}
	if f := fileResult(t, rep, "s.bin").Findings[0]; f.Suppression == nil || f.Suppression.Reason != "reviewed" {
		t.Errorf("s.bin: %+v", f)
	}
	if rep.Outcome != report.OutcomePass {
		t.Errorf("outcome %s (%s)", rep.Outcome, rep.Verdict)
	}
}

// TestMisbehavingPlugin: every failure is a not-scanned item for that file
// with a reason naming it, the scan goes on, and later files are scanned by
// a restarted plugin.
func TestMisbehavingPlugin(t *testing.T) {
	cases := []struct {
		word, rule, reason string
		keep               int // findings that survive
	}{
		{"crash", rules.NotScannedError, "crashed while scanning", 0},
		{"panic", rules.NotScannedError, "deliberate crash", 0},
		{"hang", rules.NotScannedLimit, "did not finish within 2s", 0},
		{"garbage-rule", rules.NotScannedError, `uses rule "NOPE1", which the plugin did not declare`, 1},
		{"garbage-offset", rules.NotScannedError, "outside the", 0},
		{"garbage-severity", rules.NotScannedError, "severity 42, out of range", 0},
		{"oversize", rules.NotScannedError, "larger than", 0},
	}
	for _, tc := range cases {
		t.Run(tc.word, func(t *testing.T) {
			set := load(t, plugin.Spec{Path: testDetector, CallTimeout: 2 * time.Second})
			started := time.Now()
			rep := scanFiles(t, set, nil, map[string]string{"bad.bin": "MGTEST:" + tc.word, "good.bin": "MGTEST:ok"})
			if d := time.Since(started); d > 20*time.Second {
				t.Errorf("scan took %s", d)
			}
			bad := fileResult(t, rep, "bad.bin")
			if bad.Status != finding.StatusNotScanned || len(bad.Unscanned) != 1 {
				t.Fatalf("bad.bin: %+v", bad)
			}
			u := bad.Unscanned[0]
			if u.RuleID != tc.rule || !strings.Contains(u.Reason, tc.reason) || !strings.Contains(u.Reason, "testdetector") || !u.ModelLike {
				t.Errorf("unscanned %+v, want %s containing %q", u, tc.rule, tc.reason)
			}
			if len(bad.Findings) != tc.keep {
				t.Errorf("findings %+v, want %d", bad.Findings, tc.keep)
			}
			if good := fileResult(t, rep, "good.bin"); len(good.Findings) != 1 || len(good.Unscanned) != 0 {
				t.Errorf("good.bin after %s: %+v", tc.word, good)
			}
			if rep.Outcome == report.OutcomePass {
				t.Errorf("outcome pass: a misbehaving plugin must not pass silently")
			}
		})
	}
}

// TestProtocolViolations: a plugin that skips the SDK and breaks the
// protocol gets a not-scanned item per input and is restarted.
func TestProtocolViolations(t *testing.T) {
	set := load(t, plugin.Spec{Path: rawDetector, CallTimeout: 5 * time.Second})
	rep := scanFiles(t, set, nil, map[string]string{
		"badread.bin": "MGRAW:badread", "hugeread.bin": "MGRAW:hugeread", "noresult.bin": "MGRAW:noresult",
		"badutf8.bin": "MGRAW:badutf8", "fine.bin": "MGRAW:fine",
	})
	for name, want := range map[string]string{
		"badread.bin":  "asked to read 16 bytes at offset 1099511627776 of a 13-byte input",
		"hugeread.bin": "asked to read 67108864 bytes",
		"noresult.bin": "without a result",
		"badutf8.bin":  "invalid UTF-8",
	} {
		u := fileResult(t, rep, name).Unscanned
		if len(u) != 1 || u[0].RuleID != rules.NotScannedError || !strings.Contains(u[0].Reason, want) {
			t.Errorf("%s: %+v, want %q", name, u, want)
		}
	}
	if f := fileResult(t, rep, "fine.bin"); f.Status != finding.StatusScanned {
		t.Errorf("fine.bin: %+v", f)
	}
}

func TestMemoryBudget(t *testing.T) {
	set := load(t, plugin.Spec{Path: testDetector, MemoryBytes: 512 << 20})
	rep := scanFiles(t, set, nil, map[string]string{"hog.bin": "MGTEST:memhog"})
	hog := fileResult(t, rep, "hog.bin")
	if len(hog.Unscanned) != 1 || hog.Unscanned[0].RuleID != rules.NotScannedError || !strings.Contains(hog.Unscanned[0].Reason, "crashed") {
		t.Fatalf("hog.bin: %+v", hog)
	}
}

func TestTimeBudget(t *testing.T) {
	set := load(t, plugin.Spec{Path: testDetector, CallTimeout: 5 * time.Second, TimeBudget: time.Second})
	rep := scanFiles(t, set, nil, map[string]string{"hang.bin": "MGTEST:hang"})
	rep2 := scanFiles(t, set, nil, map[string]string{"later.bin": "MGTEST:ok"})
	if u := fileResult(t, rep, "hang.bin").Unscanned; len(u) != 1 || !strings.Contains(u[0].Reason, "within 1s") {
		t.Errorf("hang.bin: %+v", u)
	}
	if u := fileResult(t, rep2, "later.bin").Unscanned; len(u) != 1 || !strings.Contains(u[0].Reason, "time budget") {
		t.Errorf("later.bin: %+v", u)
	}
}

func TestRestartsAreBounded(t *testing.T) {
	set := load(t, plugin.Spec{Path: testDetector})
	files := map[string]string{}
	for i := range plugin.MaxRestarts + 2 {
		files["crash"+string(rune('a'+i))+".bin"] = "MGTEST:crash"
	}
	rep := scanFiles(t, set, nil, files)
	notRestarted := 0
	for _, f := range rep.Files {
		if len(f.Unscanned) != 1 {
			t.Fatalf("%s: %+v", f.Path, f)
		}
		if strings.Contains(f.Unscanned[0].Reason, "not restarted again") {
			notRestarted++
		}
	}
	if notRestarted == 0 {
		t.Errorf("plugin restarted for every file: %+v", rep.Files)
	}
}

func TestPluginEnvironmentIsMinimal(t *testing.T) {
	t.Setenv("MODELGATE_CANARY_TOKEN", "s3cret")
	set := load(t, plugin.Spec{Path: testDetector})
	rep := scanFiles(t, set, nil, map[string]string{"env.bin": "MGTEST:env"})
	f := fileResult(t, rep, "env.bin").Findings
	if len(f) != 1 {
		t.Fatalf("%+v", f)
	}
	got := strings.Split(f[0].Evidence, ",")
	allowed := map[string]bool{"PATH": true, "TMPDIR": true, "HOME": true, "LANG": true,
		"MODELGATE_DETECTOR_PLUGIN": true, "PLUGIN_MIN_PORT": true, "PLUGIN_MAX_PORT": true,
		"PLUGIN_PROTOCOL_VERSIONS": true, "PLUGIN_CLIENT_CERT": true}
	for _, k := range got {
		if !allowed[k] {
			t.Errorf("plugin sees %s (environment: %v)", k, got)
		}
	}
}

func TestChecksumMismatchRefused(t *testing.T) {
	_, err := plugin.Load(context.Background(), []plugin.Spec{{Path: testDetector, SHA256: strings.Repeat("ab", 32)}}, plugin.Options{})
	var ce *plugin.ChecksumError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a ChecksumError", err)
	}
	if ce.Want != strings.Repeat("ab", 32) || len(ce.Got) != 64 || !strings.Contains(err.Error(), "refusing to start") {
		t.Errorf("error %q", err)
	}
	sum, _ := fileDigest(testDetector)
	if _, err := plugin.Load(context.Background(), []plugin.Spec{{Path: testDetector, SHA256: "sha256:" + sum}}, plugin.Options{}); err != nil {
		t.Errorf("the right pin: %v", err)
	}
}

func TestCloseLeavesNoProcess(t *testing.T) {
	set, err := plugin.Load(context.Background(), []plugin.Spec{{Path: testDetector}}, plugin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pid := set.Plugins()[0].Pid()
	if pid <= 0 || !alive(pid) {
		t.Fatalf("plugin pid %d not running", pid)
	}
	set.Close()
	if alive(pid) {
		t.Errorf("plugin %d still running after Close", pid)
	}
}

func TestBadPluginsRefused(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "plain")
	os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644)
	script := filepath.Join(dir, "script")
	os.WriteFile(script, []byte("#!/bin/sh\necho hello\n"), 0o755)
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing"), "no such file"},
		{notExec, "not executable"},
		{dir, "not a regular file"},
		{script, "start"},
	} {
		_, err := plugin.Load(context.Background(), []plugin.Spec{{Path: tc.path}}, plugin.Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.path, err, tc.want)
		}
	}
}

func alive(pid int) bool {
	// A zombie still answers signal 0; /proc says whether it was reaped.
	b, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "stat"))
	if err != nil {
		return syscall.Kill(pid, 0) == nil && false
	}
	fields := strings.Fields(string(b))
	return len(fields) > 2 && fields[2] != "Z"
}

// TestPluginScansContainerMembers: a claimed member inside an archive is
// streamed to the plugin and reported under its member path.
func TestPluginScansContainerMembers(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("models/inner.bin")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("MGTEST:ok"))
	zw.Close()
	set := load(t, plugin.Spec{Path: testDetector})
	rep := scanFiles(t, set, nil, map[string]string{"bundle.zip": buf.String()})
	f := fileResult(t, rep, "bundle.zip").Findings
	if len(f) != 1 || f[0].RuleID != "TST001" || f[0].Member != "models/inner.bin" || f[0].Path != "bundle.zip" {
		t.Fatalf("findings %+v", f)
	}
}
