package modeldir

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/list"
	"github.com/modelgate/modelgate/core/report"
)

type panicky struct{}

func (panicky) Name() string            { return "panicky" }
func (panicky) Marker(name string) bool { return name == "MARK" }
func (panicky) Analyze(context.Context, *Tree, string, []*File) (*report.Model, error) {
	panic("boom")
}

type lookupOnly struct{}

func (lookupOnly) Name() string            { return "lookup" }
func (lookupOnly) Marker(name string) bool { return name == "INDEX" }
func (lookupOnly) Analyze(ctx context.Context, t *Tree, dir string, markers []*File) (*report.Model, error) {
	f, ok := t.Get(ctx, Join(dir, "extra.bin"))
	if !ok {
		return nil, nil
	}
	t.Result(ctx, f)
	t.Report(f.Path, finding.Finding{RuleID: "MG1004", Message: "test"})
	return &report.Model{Kind: "test", Files: []string{markers[0].Path, f.Path}}, nil
}

func open(s string) func(context.Context) (io.ReadCloser, error) {
	return func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
}

// TestRun: an analyzer that panics leaves a not-scanned item on its marker
// (the directory could not be judged); a file found by Lookup is scanned,
// reported on and appended after the listed files.
func TestRun(t *testing.T) {
	eng, err := engine.New(engine.Options{Formats: list.Default()})
	if err != nil {
		t.Fatal(err)
	}
	files := []File{{Path: "a/MARK", Size: 1, Open: open("x")}, {Path: "b/INDEX", Size: 1, Open: open("y")}}
	results := []finding.FileResult{{Path: "a/MARK", Status: finding.StatusSkipped}, {Path: "b/INDEX", Status: finding.StatusSkipped}}
	lookup := func(_ context.Context, p string) (File, bool) {
		if p == "b/extra.bin" {
			return File{Path: p, Size: 5, Open: open("\x80\x04K\x01.")}, true
		}
		return File{}, false
	}
	tree := NewTree(eng, files, results, lookup)
	models := Run(context.Background(), tree, []Analyzer{panicky{}, lookupOnly{}})
	if len(models) != 1 || models[0].Path != "b" || models[0].Kind != "test" {
		t.Fatalf("models %+v", models)
	}
	out := tree.Results()
	if len(out) != 3 || out[2].Path != "b/extra.bin" {
		t.Fatalf("results %+v", out)
	}
	if len(out[0].Unscanned) != 1 || out[0].Unscanned[0].RuleID != "MG905" || !strings.Contains(out[0].Unscanned[0].Reason, "panic") {
		t.Errorf("panic not reported on the marker: %+v", out[0])
	}
	extra := out[2]
	if len(extra.Formats) == 0 || extra.Formats[0] != "pickle" || len(extra.Findings) != 1 || extra.Findings[0].Severity != finding.SeverityHigh {
		t.Errorf("looked-up file: %+v", extra)
	}
}
