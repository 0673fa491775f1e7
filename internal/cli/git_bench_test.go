package cli

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkStagedNoModels measures what the pre-commit hook adds to a
// commit that touches no model files: locating the repository, reading the
// index, diffing it against HEAD's tree (2,000 files), reading the 20
// staged blobs and sniffing them, policy and report. The budget is 50 ms
// per commit (process start-up adds a few more).
func BenchmarkStagedNoModels(b *testing.B) {
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("git not installed")
	}
	dir := b.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir,
			"GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@example.com", "GIT_COMMITTER_NAME=b", "GIT_COMMITTER_EMAIL=b@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	source := strings.Repeat("func f() { return nil } // some source code\n", 100)
	git("init", "-q")
	for i := range 2000 {
		write(fmt.Sprintf("pkg%02d/sub%d/file%d.go", i%40, i%5, i), source)
	}
	git("add", ".")
	git("commit", "-q", "-m", "base")
	for i := range 20 {
		write(fmt.Sprintf("pkg%02d/sub%d/file%d.go", i%40, i%5, i), source+"// changed\n")
	}
	write("docs/notes.md", strings.Repeat("Some notes.\n", 500))
	git("add", ".")
	b.Chdir(dir)
	args := []string{"scan", "--staged", "--format", "json", "-o", os.DevNull}
	if code := Run(args, nil, io.Discard, io.Discard); code != 0 {
		b.Fatalf("exit %d", code)
	}
	b.ResetTimer()
	for b.Loop() {
		Run(args, nil, io.Discard, io.Discard)
	}
}
