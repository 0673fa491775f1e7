package gitsource

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestResolveCommitMatchesGit: every revision form resolves to the commit
// real `git rev-parse` names, and what git rejects is an error here too.
func TestResolveCommitMatchesGit(t *testing.T) {
	root := t.TempDir()
	clearGitEnv(t, root)
	dir := filepath.Join(root, "repo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	gitInit(t, dir, "init", "-q", "-b", "main")
	for i, msg := range []string{"one", "two", "three"} {
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte(msg), 0o644); err != nil {
			t.Fatal(err)
		}
		gitInit(t, dir, "add", "f")
		gitInit(t, dir, "commit", "-q", "-m", msg)
		if i == 0 {
			gitInit(t, dir, "tag", "-a", "v1", "-m", "release")
			gitInit(t, dir, "branch", "side")
		}
	}
	// A merge, so ^2 has something to find.
	gitInit(t, dir, "checkout", "-q", "side")
	if err := os.WriteFile(filepath.Join(dir, "g"), []byte("side"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitInit(t, dir, "add", "g")
	gitInit(t, dir, "commit", "-q", "-m", "side")
	gitInit(t, dir, "checkout", "-q", "main")
	gitInit(t, dir, "merge", "-q", "--no-edit", "side")
	gitInit(t, dir, "update-ref", "refs/remotes/origin/main", "HEAD~1")
	l, err := Locate(dir)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := Open(l)
	if err != nil {
		t.Fatal(err)
	}
	revParse := func(rev string) string {
		cmd := exec.Command("git", "rev-parse", "--verify", "-q", rev+"^{commit}")
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	head := revParse("HEAD")
	for _, rev := range []string{"HEAD", "@", "main", "side", "v1", "origin/main", "refs/heads/side", "HEAD~1", "HEAD~2",
		"HEAD^", "HEAD^2", "HEAD^^", "HEAD~1^1", "HEAD^0", head, head[:7], head[:12] + "~1", "HEAD~9", "HEAD^3", "nosuch"} {
		want := revParse(rev)
		c, err := resolveCommit(repo.store, rev)
		switch {
		case want == "" && err == nil:
			t.Errorf("%s: resolved to %s, git refuses it", rev, c.Hash)
		case want != "" && err != nil:
			t.Errorf("%s: %v, git says %s", rev, err, want)
		case want != "" && c.Hash.String() != want:
			t.Errorf("%s: %s, git says %s", rev, c.Hash, want)
		}
	}
	// Forms git accepts that name no commit range: refused, never guessed.
	for _, rev := range []string{"HEAD@{1}", "@{yesterday}", "HEAD:f", "HEAD^{tree}"} {
		if c, err := resolveCommit(repo.store, rev); err == nil {
			t.Errorf("%s: resolved to %s, want an error", rev, c.Hash)
		}
	}
}
