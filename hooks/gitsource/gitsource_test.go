package gitsource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/plumbing/object"
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

// TestParseIndexMatchesGoGit checks the hot-path index reader against
// go-git's full decoder on indexes git wrote in every version, with
// intent-to-add entries, executable files, symlinks and long names.
func TestParseIndexMatchesGoGit(t *testing.T) {
	for _, version := range []string{"2", "3", "4"} {
		t.Run("v"+version, func(t *testing.T) {
			dir := t.TempDir()
			clearGitEnv(t, dir)
			gitInit(t, dir, "init", "-q")
			write := func(name, content string) {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			long := strings.Repeat(strings.Repeat("d", 200)+"/", 21) + "f" // over the 12-bit name length
			for _, n := range []string{"a.txt", "dir/b.pkl", "dir/sub/c", "dir/sub/d", "e.sh", "zz"} {
				write(n, n)
			}
			if err := os.Chmod(filepath.Join(dir, "e.sh"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("a.txt", filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
			gitInit(t, dir, "add", ".")
			// Too long for the file system, so straight into the index.
			gitInit(t, dir, "hash-object", "-w", os.DevNull)
			gitInit(t, dir, "update-index", "--add", "--cacheinfo", "100644,e69de29bb2d1d6434b8b29ae775ad8c2e48c5391,"+long)
			gitInit(t, dir, "commit", "-q", "-m", "x")
			write("dir/sub/new", "new")
			gitInit(t, dir, "add", "-N", "dir/sub/new")
			write("dir/b.pkl", "changed")
			gitInit(t, dir, "add", "dir/b.pkl")
			gitInit(t, dir, "update-index", "--index-version", version)

			raw, err := os.ReadFile(filepath.Join(dir, ".git", "index"))
			if err != nil {
				t.Fatal(err)
			}
			got, tree, err := parseIndex(raw)
			if err != nil {
				t.Fatal(err)
			}
			want := &index.Index{}
			if err := index.NewDecoder(bytes.NewReader(raw)).Decode(want); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want.Entries) {
				t.Fatalf("%d entries, go-git %d", len(got), len(want.Entries))
			}
			for i, w := range want.Entries {
				g := got[i]
				if g.name != w.Name || g.hash != w.Hash || g.mode != w.Mode || g.stage != int(w.Stage) || g.intentToAdd != w.IntentToAdd {
					t.Errorf("entry %d: got %+v, go-git %s %s %s stage %d ita %v", i, g, w.Name, w.Hash, w.Mode, w.Stage, w.IntentToAdd)
				}
			}
			if tree == nil {
				t.Error("no cached tree parsed")
			}

			// Staged, pruned by the cached tree, equals a brute-force
			// comparison against HEAD.
			l, err := Locate(dir)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Open(l)
			if err != nil {
				t.Fatal(err)
			}
			changes, err := r.Staged(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			head, err := r.headTree()
			if err != nil {
				t.Fatal(err)
			}
			files, err := r.treeFiles(context.Background(), head)
			if err != nil {
				t.Fatal(err)
			}
			var brute []string
			for _, e := range got {
				if h, ok := files[e.name]; (!ok || h != e.hash) && !e.intentToAdd && scannableMode(e.mode) {
					brute = append(brute, e.name)
				}
			}
			var paths []string
			for _, c := range changes {
				paths = append(paths, c.Path)
			}
			if !slices.Equal(paths, brute) || !slices.Equal(paths, []string{"dir/b.pkl"}) {
				t.Errorf("Staged = %v, brute force %v, want [dir/b.pkl]", paths, brute)
			}
		})
	}
}

// treeFiles maps every file path in a tree to its blob: the brute-force
// reference for Staged.
func (r *Repo) treeFiles(ctx context.Context, t *object.Tree) (map[string]plumbing.Hash, error) {
	files := map[string]plumbing.Hash{}
	w := object.NewTreeWalker(t, true, nil)
	defer w.Close()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name, e, err := w.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("walk HEAD tree: %w", err)
		}
		if e.Mode != filemode.Dir {
			files[name] = e.Hash
		}
	}
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte("DIRC\x00\x00\x00\x02\x00\x00\x00\x00TREE\x00\x00\x00\x06\x00-1 0\n01234567890123456789"))
	f.Add([]byte("DIRC\x00\x00\x00\x04\x00\x00\x00\x01" + strings.Repeat("\x00", 62) + "\x00a\x00" + strings.Repeat("\x00", 20)))
	if raw, err := os.ReadFile("../../.git/index"); err == nil && len(raw) < 1<<16 {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		entries, _, err := parseIndex(raw)
		if err == nil && len(entries) > len(raw) {
			t.Fatalf("%d entries from %d bytes", len(entries), len(raw))
		}
	})
}
