package scan_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/scan"
)

func fixture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "test", "fixtures", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func write(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func paths(rep *report.Report) []string {
	var out []string
	for _, f := range rep.Files {
		out = append(out, f.Path)
	}
	return out
}

func fileResult(t *testing.T, rep *report.Report, path string) finding.FileResult {
	t.Helper()
	for _, f := range rep.Files {
		if f.Path == path {
			return f
		}
	}
	t.Fatalf("no result for %s in %q", path, paths(rep))
	return finding.FileResult{}
}

// TestHuggingFaceCacheSymlinks scans a Hugging Face cache snapshot, which is
// all symlinks into blobs/: every link is scanned under its own path, the
// shared blob once, and a dangling link is not a silent pass.
func TestHuggingFaceCacheSymlinks(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "models--org--name")
	evil := fixture(t, "malicious/builtins_exec.pkl")
	benign := fixture(t, "benign/torch_state_dict.bin")
	write(t, filepath.Join(repo, "blobs", "aaa"), evil)
	write(t, filepath.Join(repo, "blobs", "bbb"), benign)
	write(t, filepath.Join(repo, "blobs", "ccc"), []byte(`{"architectures": ["BertModel"], "model_type": "bert"}`))
	snap := filepath.Join(repo, "snapshots", "0123abc")
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{
		"pytorch_model.bin":   "../../blobs/aaa",
		"training_args.bin":   "../../blobs/aaa",
		"model.bin":           "../../blobs/bbb",
		"config.json":         "../../blobs/ccc",
		"missing.safetensors": "../../blobs/zzz",
	} {
		if err := os.Symlink(target, filepath.Join(snap, name)); err != nil {
			t.Fatal(err)
		}
	}
	// A directory cycle must not loop.
	if err := os.Symlink("..", filepath.Join(snap, "loop")); err != nil {
		t.Fatal(err)
	}
	for _, jobs := range []int{1, 3} {
		rep, err := scan.Run(context.Background(), scan.Paths([]string{snap}, snap), scan.Options{Jobs: jobs})
		if err != nil {
			t.Fatal(err)
		}
		got := paths(rep)
		want := []string{"config.json", "missing.safetensors", "model.bin", "pytorch_model.bin", "training_args.bin"}
		if !slices.Equal(got, want) {
			t.Fatalf("jobs %d: paths %q, want %q", jobs, got, want)
		}
		for _, p := range []string{"pytorch_model.bin", "training_args.bin"} {
			if f := fileResult(t, rep, p); len(f.Findings) == 0 || f.Findings[0].Path != p {
				t.Errorf("jobs %d: %s: findings %+v", jobs, p, f.Findings)
			}
		}
		if f := fileResult(t, rep, "model.bin"); len(f.Findings) != 0 || f.Status != finding.StatusScanned {
			t.Errorf("jobs %d: benign blob: %+v", jobs, f)
		}
		if f := fileResult(t, rep, "missing.safetensors"); f.Status != finding.StatusNotScanned || !f.Unscanned[0].ModelLike {
			t.Errorf("jobs %d: dangling link: %+v", jobs, f)
		}
		if rep.Outcome != report.OutcomeFailFindings {
			t.Errorf("jobs %d: outcome %s", jobs, rep.Outcome)
		}
	}
}

func TestPathThatNamesNothing(t *testing.T) {
	_, err := scan.Run(context.Background(), scan.Paths([]string{filepath.Join(t.TempDir(), "nosuch")}, ""), scan.Options{})
	if !scan.IsPathError(err) {
		t.Fatalf("err = %v, want a PathError", err)
	}
	_, err = scan.Run(context.Background(), scan.FS(fstest.MapFS{}, "", "nosuch"), scan.Options{})
	if !scan.IsPathError(err) {
		t.Fatalf("fs: err = %v, want a PathError", err)
	}
}

func TestEmptyDirectoryPasses(t *testing.T) {
	rep, err := scan.Run(context.Background(), scan.Paths([]string{t.TempDir()}, ""), scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != report.OutcomePass || rep.Summary.Files != 0 {
		t.Fatalf("outcome %s, %d files", rep.Outcome, rep.Summary.Files)
	}
}

// TestInMemoryFS is what a library user writes: a tree that never touches
// the disk, one call, a typed verdict.
func TestInMemoryFS(t *testing.T) {
	fsys := fstest.MapFS{
		"models/ok/model.bin":  {Data: fixture(t, "benign/torch_state_dict.bin")},
		"models/bad/model.pkl": {Data: fixture(t, "malicious/builtins_exec.pkl")},
		"README.md":            {Data: []byte("# models\n")},
	}
	cases := []struct {
		name    string
		roots   []string
		failOn  string
		outcome report.Outcome
	}{
		{"everything", nil, "", report.OutcomeFailFindings},
		{"clean subtree", []string{"models/ok"}, "", report.OutcomePass},
		{"never fails", nil, "never", report.OutcomePass},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := scan.Run(context.Background(), scan.FS(fsys, "artifacts", tc.roots...), scan.Options{FailOn: tc.failOn, Jobs: 2})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Outcome != tc.outcome {
				t.Errorf("outcome %s, want %s (%s)", rep.Outcome, tc.outcome, rep.Verdict)
			}
			if rep.ExitCode != tc.outcome.ExitCode() {
				t.Errorf("exit code %d for outcome %s", rep.ExitCode, rep.Outcome)
			}
			for _, p := range paths(rep) {
				if !strings.HasPrefix(p, "artifacts/") {
					t.Errorf("path %s lacks the prefix", p)
				}
			}
		})
	}
}

// TestStreamNameDecides: stdin named model.bin is judged like a file of that
// name, so the same bytes fail closed on both.
func TestStreamNameDecides(t *testing.T) {
	junk := strings.Repeat("\x01\x02\x03\xff", 64)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "model.bin"), []byte(junk))
	fromFile, err := scan.Run(context.Background(), scan.Paths([]string{filepath.Join(dir, "model.bin")}, dir), scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fromStream, err := scan.Run(context.Background(), scan.Stream("model.bin", strings.NewReader(junk)), scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fromFile.Outcome != report.OutcomeFailUnscanned || fromStream.Outcome != fromFile.Outcome {
		t.Fatalf("file %s, stream %s; want both %s", fromFile.Outcome, fromStream.Outcome, report.OutcomeFailUnscanned)
	}
	anon, err := scan.Run(context.Background(), scan.Stream("<stdin>", strings.NewReader(junk)), scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if anon.Outcome != report.OutcomePass {
		t.Fatalf("unnamed stream of unknown bytes: %s", anon.Outcome)
	}
}

func TestOptionsErrors(t *testing.T) {
	src := scan.FS(fstest.MapFS{"a": {Data: []byte("x")}}, "")
	if _, err := scan.Run(context.Background(), src, scan.Options{FailOn: "severe"}); err == nil {
		t.Error("bad fail-on accepted")
	}
	if _, err := scan.Run(context.Background(), src, scan.Options{Jobs: -3}); err == nil {
		t.Error("negative jobs accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := scan.Run(ctx, src, scan.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled scan: %v", err)
	}
}

func TestReportRecordsDetectorsAndPolicy(t *testing.T) {
	rep, err := scan.Run(context.Background(), scan.FS(fstest.MapFS{"a.pkl": {Data: fixture(t, "malicious/builtins_exec.pkl")}}, ""), scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Policy.Source != "built-in" {
		t.Errorf("policy source %q", rep.Policy.Source)
	}
	var pickle bool
	for _, d := range rep.Detectors {
		if d.Version == "" || d.Version == "unversioned" {
			t.Errorf("detector %s has no version", d.Name)
		}
		pickle = pickle || d.Name == "pickle"
	}
	if !pickle {
		t.Errorf("detectors %+v lack pickle", rep.Detectors)
	}
}

func TestPathsSkipsGitAndReportsProgress(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "models", "evil.pkl"), fixture(t, "malicious/builtins_exec.pkl"))
	write(t, filepath.Join(root, "README.md"), []byte("# text\n"))
	write(t, filepath.Join(root, ".git", "objects", "evil.pkl"), fixture(t, "malicious/builtins_exec.pkl"))
	var calls int
	rep, err := scan.Run(context.Background(), scan.Paths([]string{root}, root), scan.Options{Jobs: 1,
		Progress: func(done, total int, _ int64) {
			calls++
			if done > total {
				t.Errorf("progress %d/%d", done, total)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paths(rep), []string{"README.md", "models/evil.pkl"}; !slices.Equal(got, want) {
		t.Errorf("paths %q, want %q (.git skipped, '/'-separated, relative to root)", got, want)
	}
	if calls != 2 {
		t.Errorf("progress called %d times for 2 files", calls)
	}
}

// TestMemoryLimitIsPerScan: an embedding server gets the soft ceiling for
// the scan's duration and its own setting back afterwards.
func TestMemoryLimitIsPerScan(t *testing.T) {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		t.Skip("SKIPPED: GOMEMLIMIT set in the environment wins by design")
	}
	before := debug.SetMemoryLimit(-1)
	var during int64
	src := scan.FS(fstest.MapFS{"a.pkl": {Data: fixture(t, "benign/torch_state_dict.bin")}}, "")
	_, err := scan.Run(context.Background(), src, scan.Options{MemoryLimit: 64 << 20,
		Progress: func(int, int, int64) { during = debug.SetMemoryLimit(-1) }})
	if err != nil {
		t.Fatal(err)
	}
	if during != 64<<20 {
		t.Errorf("limit during the scan %d, want %d", during, 64<<20)
	}
	if after := debug.SetMemoryLimit(-1); after != before {
		t.Errorf("limit after the scan %d, want %d restored", after, before)
	}
}
