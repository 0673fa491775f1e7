package gitlab_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/report/reporttest"
	"github.com/modelgate/modelgate/core/scan"
	"github.com/modelgate/modelgate/gitlab"
)

var tool = report.Tool{Name: "modelgate", Version: "v0.1.0", URI: "https://github.com/modelgate/modelgate"}

// scanPaths runs the real core over files (relative to root).
func scanPaths(t *testing.T, root string, paths ...string) *report.Report {
	t.Helper()
	root, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	abs := make([]string, len(paths))
	for i, p := range paths {
		abs[i] = filepath.Join(root, p)
	}
	rep, err := scan.Run(context.Background(), scan.Paths(abs, root), scan.Options{Root: root, Tool: tool, Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// failingSource lists one file whose content cannot be read.
type failingSource struct{}

func (failingSource) Walk(ctx context.Context, visit func(scan.Entry) error) error {
	return visit(scan.Entry{Path: "models/broken.pt", Size: 4096, Open: func(context.Context) (io.ReadCloser, error) {
		return nil, errors.New("read models/broken.pt: input/output error")
	}})
}

// reports are the cases every writer must render validly: findings (from
// the shared sample and from real scans), nothing at all, a clean model,
// content that could not be scanned, and a file that could not be read.
func reports(t *testing.T) map[string]*report.Report {
	t.Helper()
	fixtures, err := filepath.Abs("../test/fixtures")
	if err != nil {
		t.Fatal(err)
	}
	readErr, err := scan.Run(context.Background(), failingSource{}, scan.Options{Root: "/builds/g/p", Tool: tool, Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return map[string]*report.Report{
		"sample":      reporttest.Sample(t, "v1.2.3", "/home/ci/my repo"),
		"malicious":   scanPaths(t, "testdata", "resaved/model_v1.pkl"),
		"no findings": report.Build(nil, report.Options{Tool: tool, Root: "/builds/g/p", StartedAt: start, FinishedAt: start}),
		"clean model": scanPaths(t, fixtures, "benign/sklearn_logreg.pkl"),
		"not scanned": scanPaths(t, fixtures, "malicious/zip_encrypted_pickle.zip"),
		"scan error":  readErr,
	}
}

func render(t *testing.T, w report.Writer, r *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := w.Write(context.Background(), &buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type sastDoc struct {
	Version string `json:"version"`
	Scan    struct {
		Status    string `json:"status"`
		StartTime string `json:"start_time"`
		EndTime   string `json:"end_time"`
		Analyzer  struct {
			ID, Name, Version string
		} `json:"analyzer"`
		Scanner struct {
			ID, Name, Version string
		} `json:"scanner"`
		Messages           []struct{ Level, Value string }      `json:"messages"`
		PrimaryIdentifiers []struct{ Type, Name, Value string } `json:"primary_identifiers"`
	} `json:"scan"`
	Vulnerabilities []struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Description string `json:"description"`
		Severity    string `json:"severity"`
		Identifiers []struct {
			Type, Name, Value string
		} `json:"identifiers"`
		Location map[string]any `json:"location"`
		Details  map[string]struct {
			Value any `json:"value"`
		} `json:"details"`
		Tracking struct {
			Items []struct {
				Signatures []struct{ Algorithm, Value string } `json:"signatures"`
			} `json:"items"`
		} `json:"tracking"`
	} `json:"vulnerabilities"`
}

func parseSAST(t *testing.T, b []byte) sastDoc {
	t.Helper()
	var d sastDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestSASTValidatesForEverySchemaVersion renders every case with every
// supported schema version and validates it against that version's
// official schema.
func TestSASTValidatesForEverySchemaVersion(t *testing.T) {
	if got := gitlab.SchemaVersions(); len(got) < 2 || got[0] != "15.0.7" || got[1] != "15.2.4" {
		t.Fatalf("SchemaVersions = %v", got)
	}
	for name, r := range reports(t) {
		for _, v := range gitlab.SchemaVersions() {
			t.Run(name+"/"+v, func(t *testing.T) {
				w, err := gitlab.NewSAST(gitlab.SASTOptions{SchemaVersion: v})
				if err != nil {
					t.Fatal(err)
				}
				out := render(t, w, r)
				validateSAST(t, out, v)
				d := parseSAST(t, out)
				wantStatus := "success"
				if r.Summary.NotScanned > 0 {
					wantStatus = "failure"
				}
				if d.Scan.Status != wantStatus {
					t.Errorf("status %q, want %q (not scanned: %d)", d.Scan.Status, wantStatus, r.Summary.NotScanned)
				}
			})
		}
	}
}

func TestSASTDefaultsToLowestVersionAndRejectsOthers(t *testing.T) {
	w, err := gitlab.NewSAST(gitlab.SASTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w.SchemaVersion() != "15.0.7" || gitlab.DefaultSchemaVersion != "15.0.7" {
		t.Errorf("default schema version %q, want 15.0.7", w.SchemaVersion())
	}
	for _, bad := range []string{"15.2.1", "14.0.4", "latest", "15.0.7 "} {
		if _, err := gitlab.NewSAST(gitlab.SASTOptions{SchemaVersion: bad}); err == nil {
			t.Errorf("schema version %q accepted", bad)
		}
	}
}

// TestSASTTrackingFields pins what GitLab's vulnerability tracking reads:
// the primary identifier is the modelgate rule, the location is the file
// at a synthetic line 1 with no member or offset, and the member is in
// the description and details instead.
func TestSASTTrackingFields(t *testing.T) {
	r := reporttest.Sample(t, "v1.2.3", "/home/ci/my repo")
	w, _ := gitlab.NewSAST(gitlab.SASTOptions{})
	d := parseSAST(t, render(t, w, r))
	if d.Scan.Analyzer.ID != "modelgate" || d.Scan.Scanner.ID != "modelgate" || d.Scan.Analyzer.Version != "v1.2.3" {
		t.Errorf("analyzer/scanner = %+v / %+v", d.Scan.Analyzer, d.Scan.Scanner)
	}
	if d.Scan.StartTime != "2026-03-01T12:00:00" || d.Scan.EndTime != "2026-03-01T12:00:01" {
		t.Errorf("times %q .. %q", d.Scan.StartTime, d.Scan.EndTime)
	}
	var active, suppressed int
	for _, f := range r.Files {
		for _, fd := range f.Findings {
			if fd.Suppression != nil {
				suppressed++
			} else {
				active++
			}
		}
	}
	if suppressed == 0 {
		t.Fatal("sample has no suppressed finding; the test needs one")
	}
	primaries := map[string]bool{}
	for _, p := range d.Scan.PrimaryIdentifiers {
		if p.Type != "modelgate_rule" {
			t.Errorf("primary identifier type %s", p.Type)
		}
		primaries[p.Value] = true
	}
	if !primaries["MG101"] || !primaries["MG903"] || len(primaries) != len(d.Scan.PrimaryIdentifiers) {
		t.Errorf("scan.primary_identifiers %+v", d.Scan.PrimaryIdentifiers)
	}
	var findings, unscanned int
	ids := map[string]bool{}
	sawMember := false
	for _, v := range d.Vulnerabilities {
		if ids[v.ID] {
			t.Errorf("duplicate vulnerability id %s", v.ID)
		}
		ids[v.ID] = true
		if p := v.Identifiers[0]; p.Type != "modelgate_rule" || !strings.HasPrefix(p.Value, "MG") || p.Name != "modelgate "+p.Value || !primaries[p.Value] {
			t.Errorf("primary identifier %+v (or missing from scan.primary_identifiers)", p)
		}
		if len(v.Location) != 3 || v.Location["start_line"] != 1.0 || v.Location["end_line"] != 1.0 || v.Location["file"] == "" {
			t.Errorf("location %v, want only file, start_line 1, end_line 1", v.Location)
		}
		if v.Severity == "Unknown" {
			unscanned++
		} else {
			findings++
		}
		if m, ok := v.Details["member"]; ok {
			sawMember = true
			if !strings.Contains(v.Description, m.Value.(string)) {
				t.Errorf("member %v in details but not in description:\n%s", m.Value, v.Description)
			}
		}
		if s := v.Tracking.Items[0].Signatures[0]; s.Algorithm != "hash" || s.Value != v.Details["fingerprint"].Value {
			t.Errorf("tracking signature %+v, fingerprint %v", s, v.Details["fingerprint"].Value)
		}
	}
	if findings != active {
		t.Errorf("%d finding vulnerabilities, want the %d active findings (suppressed ones left out)", findings, active)
	}
	if unscanned == 0 || !sawMember {
		t.Errorf("unscanned vulnerabilities %d, member seen %v", unscanned, sawMember)
	}
	sawSuppressedNote := false
	for _, m := range d.Scan.Messages {
		sawSuppressedNote = sawSuppressedNote || strings.Contains(m.Value, "accepted by policy suppressions")
	}
	if !sawSuppressedNote {
		t.Errorf("no scan message tells of the suppressed findings: %+v", d.Scan.Messages)
	}
}

// TestCodeQualityValidates checks every case against GitLab's item schema
// and the documented fields, and that its fingerprints are the SAST
// report's.
func TestCodeQualityValidates(t *testing.T) {
	for name, r := range reports(t) {
		t.Run(name, func(t *testing.T) {
			out := render(t, gitlab.NewCodeQuality(), r)
			validateCodeQuality(t, out)
			var issues []gitlab.Issue
			if err := json.Unmarshal(out, &issues); err != nil {
				t.Fatal(err)
			}
			w, _ := gitlab.NewSAST(gitlab.SASTOptions{})
			d := parseSAST(t, render(t, w, r))
			if len(issues) != len(d.Vulnerabilities) {
				t.Fatalf("%d issues, %d vulnerabilities", len(issues), len(d.Vulnerabilities))
			}
			for i, is := range issues {
				if fp := d.Vulnerabilities[i].Details["fingerprint"].Value; is.Fingerprint != fp {
					t.Errorf("issue %d fingerprint %s, SAST %v", i, is.Fingerprint, fp)
				}
			}
			if name == "malicious" && (len(issues) != 1 || issues[0].Severity != "blocker" || issues[0].CheckName != "MG101") {
				t.Errorf("malicious model: %+v", issues)
			}
		})
	}
}

// TestFingerprintsStableAcrossResave scans one path holding a malicious
// model, then the same model re-saved by pickle with the payload at
// another offset (test/gen_gitlab_fixtures.py): every fingerprint, id and
// location must be the same, or GitLab would close and reopen findings.
func TestFingerprintsStableAcrossResave(t *testing.T) {
	type view struct {
		offset int64
		sast   sastDoc
		cq     []gitlab.Issue
	}
	var views []view
	for _, fixture := range []string{"model_v1.pkl", "model_v2.pkl"} {
		root := t.TempDir()
		b, err := os.ReadFile(filepath.Join("testdata", "resaved", fixture))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(root, "models"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "models", "classifier.pkl"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		r := scanPaths(t, root, "models")
		fs := r.Findings()
		if len(fs) != 1 || fs[0].RuleID != "MG101" || fs[0].Offset < 0 {
			t.Fatalf("%s: findings %+v", fixture, fs)
		}
		w, _ := gitlab.NewSAST(gitlab.SASTOptions{})
		sastOut := render(t, w, r)
		validateSAST(t, sastOut, "15.0.7")
		var cq []gitlab.Issue
		if err := json.Unmarshal(render(t, gitlab.NewCodeQuality(), r), &cq); err != nil {
			t.Fatal(err)
		}
		views = append(views, view{offset: fs[0].Offset, sast: parseSAST(t, sastOut), cq: cq})
	}
	a, b := views[0], views[1]
	if a.offset == b.offset {
		t.Fatalf("fixtures put the payload at the same offset %d; the test would prove nothing", a.offset)
	}
	va, vb := a.sast.Vulnerabilities[0], b.sast.Vulnerabilities[0]
	if va.ID != vb.ID {
		t.Errorf("vulnerability id changed on re-save: %s -> %s", va.ID, vb.ID)
	}
	if va.Identifiers[0] != vb.Identifiers[0] {
		t.Errorf("primary identifier changed: %+v -> %+v", va.Identifiers[0], vb.Identifiers[0])
	}
	if ja, jb := mustJSON(t, va.Location), mustJSON(t, vb.Location); ja != jb {
		t.Errorf("location changed: %s -> %s", ja, jb)
	}
	if ja, jb := mustJSON(t, va.Tracking), mustJSON(t, vb.Tracking); ja != jb {
		t.Errorf("tracking changed: %s -> %s", ja, jb)
	}
	if a.cq[0].Fingerprint != b.cq[0].Fingerprint {
		t.Errorf("code quality fingerprint changed: %s -> %s", a.cq[0].Fingerprint, b.cq[0].Fingerprint)
	}
	// The offset is still reported, where it does not take part in tracking.
	if va.Details["offset"].Value == vb.Details["offset"].Value {
		t.Errorf("details offset did not change (%v); the report should still say where", va.Details["offset"].Value)
	}
}

func TestFingerprintDistinguishesFindings(t *testing.T) {
	base := finding.Finding{RuleID: "MG101", Path: "m.pkl", Member: "archive/data.pkl", Global: "os.system", Offset: 10}
	same := base
	same.Offset, same.Evidence, same.Message = 9999, "other evidence", "other message"
	if gitlab.Fingerprint(&base) != gitlab.Fingerprint(&same) {
		t.Error("offset, evidence or message changed the fingerprint")
	}
	for _, mut := range []func(*finding.Finding){
		func(f *finding.Finding) { f.RuleID = "MG102" },
		func(f *finding.Finding) { f.Path = "n.pkl" },
		func(f *finding.Finding) { f.Member = "archive/other.pkl" },
		func(f *finding.Finding) { f.Global = "builtins.exec" },
	} {
		other := base
		mut(&other)
		if gitlab.Fingerprint(&base) == gitlab.Fingerprint(&other) {
			t.Errorf("fingerprint did not change for %+v", other)
		}
	}
	// Two calls of one global in one member are two entries.
	r := report.Build([]finding.FileResult{{Path: "m.pkl", Status: finding.StatusScanned, Findings: []finding.Finding{base, same}}},
		report.Options{Tool: tool, FailOn: finding.SeverityHigh, ExitCode: 1})
	var issues []gitlab.Issue
	if err := json.Unmarshal(render(t, gitlab.NewCodeQuality(), r), &issues); err != nil {
		t.Fatal(err)
	}
	if len(issues) != 2 || issues[0].Fingerprint == issues[1].Fingerprint {
		t.Errorf("duplicate findings got fingerprints %+v", issues)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSASTAcceptedUnscannedStillIncomplete: a suppression that accepts
// unscannable content keeps it out of the vulnerabilities and the Code
// Quality issues, but the scan was still incomplete.
func TestSASTAcceptedUnscannedStillIncomplete(t *testing.T) {
	r := report.Build([]finding.FileResult{{Path: "data/blob.bin", Status: finding.StatusNotScanned, Unscanned: []finding.Unscanned{{
		RuleID: "MG901", Reason: "unknown format", ModelLike: true, Suppression: &finding.Suppression{Reason: "reviewed: our own binary format"},
	}}}}, report.Options{Tool: tool})
	for _, v := range gitlab.SchemaVersions() {
		w, _ := gitlab.NewSAST(gitlab.SASTOptions{SchemaVersion: v})
		out := render(t, w, r)
		validateSAST(t, out, v)
		d := parseSAST(t, out)
		if d.Scan.Status != "failure" || len(d.Vulnerabilities) != 0 {
			t.Errorf("%s: status %s, %d vulnerabilities; want failure and none", v, d.Scan.Status, len(d.Vulnerabilities))
		}
		found := false
		for _, m := range d.Scan.Messages {
			found = found || (m.Level == "warn" && strings.Contains(m.Value, "accepted by policy suppressions"))
		}
		if !found {
			t.Errorf("%s: no warning about the accepted item: %+v", v, d.Scan.Messages)
		}
	}
	cq := render(t, gitlab.NewCodeQuality(), r)
	validateCodeQuality(t, cq)
	if strings.TrimSpace(string(cq)) != "[]" {
		t.Errorf("code quality %s, want []", cq)
	}
}
