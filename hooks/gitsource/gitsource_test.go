package gitsource

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		in, base, head string
		threeDot, ok   bool
	}{
		{"main", "main", "HEAD", false, true},
		{"main..HEAD", "main", "HEAD", false, true},
		{"origin/main...feature", "origin/main", "feature", true, true},
		{"a1b2c3..", "a1b2c3", "HEAD", false, true},
		{" HEAD~1 ", "HEAD~1", "HEAD", false, true},
		{"..HEAD", "", "", false, false},
		{"", "", "", false, false},
	}
	for _, tt := range tests {
		base, head, three, err := parseRange(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseRange(%q) err = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && (base != tt.base || head != tt.head || three != tt.threeDot) {
			t.Errorf("parseRange(%q) = %q %q %v", tt.in, base, head, three)
		}
	}
}

func gitInit(t *testing.T, dir string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("SKIPPED: git not installed")
	}
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir,
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// clearGitEnv keeps a test run from inside a git hook from leaking the
// outer repository's variables into Locate.
func clearGitEnv(t *testing.T, home string) {
	for _, v := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_INDEX_FILE", "GIT_CONFIG_GLOBAL", "XDG_CONFIG_HOME"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Setenv("HOME", home)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
}

func TestLocate(t *testing.T) {
	root := t.TempDir()
	clearGitEnv(t, root)
	main := filepath.Join(root, "main")
	if err := os.MkdirAll(filepath.Join(main, "sub", "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	gitInit(t, main, "init", "-q")
	if err := os.WriteFile(filepath.Join(main, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitInit(t, main, "add", "f")
	gitInit(t, main, "commit", "-q", "-m", "x")
	wt := filepath.Join(root, "wt")
	gitInit(t, main, "worktree", "add", "-q", wt)

	l, err := Locate(filepath.Join(main, "sub", "dir"))
	if err != nil {
		t.Fatal(err)
	}
	if l.WorkTree != main || l.GitDir != filepath.Join(main, ".git") || l.CommonDir != l.GitDir || l.IndexFile != filepath.Join(main, ".git", "index") {
		t.Errorf("main checkout: %+v", l)
	}
	if got := l.HooksDir(); got != filepath.Join(main, ".git", "hooks") {
		t.Errorf("HooksDir = %s", got)
	}

	l, err = Locate(wt)
	if err != nil {
		t.Fatal(err)
	}
	if l.WorkTree != wt || l.CommonDir != filepath.Join(main, ".git") || l.GitDir != filepath.Join(main, ".git", "worktrees", "wt") {
		t.Errorf("linked worktree: %+v", l)
	}
	if got := l.LFSObjectsDir(); got != filepath.Join(main, ".git", "lfs", "objects") {
		t.Errorf("LFSObjectsDir = %s", got)
	}

	gitInit(t, main, "config", "core.hooksPath", "tools/hooks")
	gitInit(t, main, "config", "lfs.storage", "/srv/lfs")
	if got := l.HooksDir(); got != filepath.Join(wt, "tools", "hooks") {
		t.Errorf("relative core.hooksPath resolved to %s, want under the worktree top", got)
	}
	if got := l.LFSObjectsDir(); got != filepath.Join("/srv/lfs", "objects") {
		t.Errorf("lfs.storage: LFSObjectsDir = %s", got)
	}

	// Hooks get GIT_INDEX_FILE (git commit -a, git commit PATH) and may
	// get GIT_DIR.
	t.Setenv("GIT_INDEX_FILE", filepath.Join(main, ".git", "index.lock"))
	t.Setenv("GIT_DIR", filepath.Join(main, ".git"))
	l, err = Locate(main)
	if err != nil {
		t.Fatal(err)
	}
	if l.IndexFile != filepath.Join(main, ".git", "index.lock") || l.GitDir != filepath.Join(main, ".git") || l.WorkTree != main {
		t.Errorf("with GIT_DIR and GIT_INDEX_FILE: %+v", l)
	}

	os.Unsetenv("GIT_DIR")
	os.Unsetenv("GIT_INDEX_FILE")
	if _, err := Locate(root); err == nil {
		t.Error("Locate outside any repository succeeded")
	}
}
