package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestTrackedFilesCheck drives .ci/check-tracked-files on throwaway
// repositories: a compiled test binary at the top (as memprof.test once
// was), a large file outside test/fixtures and a non-script executable
// fail; this repository itself passes.
func TestTrackedFilesCheck(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("SKIPPED: git not installed")
	}
	script, err := filepath.Abs("../.ci/check-tracked-files")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable() // this test binary: a real ELF
	if err != nil {
		t.Fatal(err)
	}
	elf, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		files map[string][]byte
		mode  os.FileMode
		want  string // "" passes
	}{
		{"clean", map[string][]byte{"main.go": []byte("package main\n"), "test/fixtures/big.bin": make([]byte, 2<<20)}, 0o644, ""},
		{"test binary", map[string][]byte{"memprof.test": elf[:4096]}, 0o644, "executable binary: memprof.test"},
		{"large file", map[string][]byte{"docs/dump.json": make([]byte, 1<<20+1)}, 0o644, "larger than 1 MB"},
		{"executable data", map[string][]byte{"tool": []byte("data")}, 0o755, "without a #! line"},
		{"script", map[string][]byte{"run": []byte("#!/bin/sh\n")}, 0o755, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tc.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, data, tc.mode); err != nil {
					t.Fatal(err)
				}
			}
			for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}} {
				cmd := exec.Command("git", args...)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("git %v: %v\n%s", args, err, out)
				}
			}
			out, err := exec.Command(script, dir).CombinedOutput()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want pass, got %v:\n%s", err, out)
				}
				return
			}
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Fatalf("want failure mentioning %q, got %v:\n%s", tc.want, err, out)
			}
		})
	}
	if out, err := exec.Command(script).CombinedOutput(); err != nil {
		t.Errorf("this repository fails the check: %v\n%s", err, out)
	}
}

// TestGoInstallInstallsOnlyTheBinaries: the pre-commit framework installs
// a golang hook with `go install ./...`, so every main package of the
// module lands on the hook's PATH. Only the binaries may be main packages:
// modelgate, and modelgate-full and modelgate-mlflow, which it runs.
func TestGoInstallInstallsOnlyTheBinaries(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("SKIPPED: go not on PATH")
	}
	cmd := exec.Command(goBin, "list", "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	got := strings.Fields(string(out))
	want := []string{"github.com/modelgate/modelgate/cmd/modelgate", "github.com/modelgate/modelgate/cmd/modelgate-full", "github.com/modelgate/modelgate/cmd/modelgate-mlflow"}
	if !slices.Equal(got, want) {
		t.Errorf("go install ./... would install %v, want %v", got, want)
	}
}

// goListDeps lists every package a main package links.
func goListDeps(t *testing.T, pkg string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("SKIPPED: go not on PATH")
	}
	cmd := exec.Command(goBin, "list", "-deps", pkg)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestScannerLeavesHeavyPackagesToItsHelpers: every package a binary links
// runs its initialisation and maps its code on every start, so what only a
// few runs use stays out of the modelgate binary that scans and hooks run.
// The MLflow receiver's database drivers, S3 client and metrics (about 5 ms
// and 6 MB of RSS per process) live in modelgate-mlflow; detector plugins
// (go-plugin, gRPC), signature verification (sigstore-go and its Rekor, TUF
// and OpenAPI models) and the GitHub Action (go-github, and html/template
// through go-githubactions), about 6 ms and 13 MB more, live in
// modelgate-full, which modelgate hands the runs that need them
// (internal/cli/build.go).
func TestScannerLeavesHeavyPackagesToItsHelpers(t *testing.T) {
	scanner := goListDeps(t, "./cmd/modelgate")
	for _, tt := range []struct {
		helper string
		only   []string
	}{
		{"./cmd/modelgate-mlflow", []string{"github.com/modelgate/modelgate/mlflowplugin", "github.com/jackc/pgx/v5", "modernc.org/sqlite",
			"github.com/minio/minio-go/v7", "github.com/prometheus/client_golang/prometheus"}},
		{"./cmd/modelgate-full", []string{"github.com/modelgate/modelgate/core/plugin", "github.com/modelgate/modelgate/core/signing/sigstoreverify",
			"github.com/hashicorp/go-plugin", "google.golang.org/grpc", "github.com/sigstore/sigstore-go/pkg/verify", "github.com/sigstore/sigstore-go/pkg/bundle",
			"github.com/modelgate/modelgate/action", "github.com/google/go-github/v60/github", "html/template"}},
	} {
		for _, pkg := range scanner {
			if slices.Contains(tt.only, pkg) {
				t.Errorf("modelgate links %s, which belongs in %s", pkg, tt.helper)
			}
		}
		// The same list is what the helper does link, so the check cannot
		// pass by naming packages nothing uses.
		helper := goListDeps(t, tt.helper)
		for _, pkg := range tt.only {
			if !slices.Contains(helper, pkg) {
				t.Errorf("%s does not link %s: update this list", tt.helper, pkg)
			}
		}
	}
}

// TestNoGitTransportsLinked: modelgate reads repositories from disk only;
// go-git's root package would link its HTTP and SSH transports (and about
// 40 packages more) into every binary. (golang.org/x/crypto/ssh itself is
// linked by the DSSE library that model-signature checks use, for its
// SSH-format keys; no transport comes with it.)
func TestNoGitTransportsLinked(t *testing.T) {
	for _, bin := range []string{"./cmd/modelgate", "./cmd/modelgate-full"} {
		for _, pkg := range goListDeps(t, bin) {
			if pkg == "github.com/go-git/go-git/v5" || strings.HasPrefix(pkg, "github.com/go-git/go-git/v5/plumbing/transport") {
				t.Errorf("%s links %s", bin, pkg)
			}
		}
	}
}

// TestEveryFormatHasFuzzTarget backs the README's claim: every parser
// package under core/formats (and the shared readers) has a go test -fuzz
// target.
func TestEveryFormatHasFuzzTarget(t *testing.T) {
	dirs, err := filepath.Glob("../core/formats/*")
	if err != nil {
		t.Fatal(err)
	}
	dirs = append(dirs, "../core/pickle", "../core/protoscan", "../core/jinja", "../hooks/gitsource")
	for _, d := range dirs {
		tests, _ := filepath.Glob(filepath.Join(d, "*_test.go"))
		found := false
		for _, f := range tests {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "\nfunc Fuzz") {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%s has no fuzz target", d)
		}
	}
}
