// Package gitsource reads what a commit or a pull request would add to a
// repository, straight from git's index and object store (through go-git),
// so that the scanner sees exactly the committed bytes, whatever the working
// tree holds.
package gitsource

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	gitconfig "github.com/go-git/go-git/v5/plumbing/format/config"
)

// Layout is where a repository keeps its parts, resolved the way git
// resolves them for a command started in some directory.
type Layout struct {
	// WorkTree is the top of the working tree ("" for a bare repository).
	WorkTree string
	// GitDir is the per-worktree git directory (HEAD, index).
	GitDir string
	// CommonDir holds what worktrees share: objects, refs, config, hooks,
	// lfs.
	CommonDir string
	// IndexFile is the index to read: $GIT_INDEX_FILE when git set it
	// (`git commit -a` and `git commit PATH` stage into a temporary index
	// and hand it to hooks that way), else GitDir/index.
	IndexFile string
}

// ErrNotRepository is returned when no repository encloses the directory.
var ErrNotRepository = errors.New("not inside a git repository")

// Locate finds the repository for a command run in dir. It honours
// GIT_DIR, GIT_WORK_TREE, GIT_COMMON_DIR and GIT_INDEX_FILE, which git sets
// for hooks, and linked worktrees (.git files and commondir).
func Locate(dir string) (Layout, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Layout{}, fmt.Errorf("locate repository: %w", err)
	}
	var l Layout
	if env := os.Getenv("GIT_DIR"); env != "" {
		l.GitDir = absFrom(abs, env)
		l.WorkTree = abs
		if wt := os.Getenv("GIT_WORK_TREE"); wt != "" {
			l.WorkTree = absFrom(abs, wt)
		}
	} else {
		l, err = discover(abs)
		if err != nil {
			return Layout{}, err
		}
	}
	l.CommonDir = l.GitDir
	if env := os.Getenv("GIT_COMMON_DIR"); env != "" {
		l.CommonDir = absFrom(abs, env)
	} else if b, err := os.ReadFile(filepath.Join(l.GitDir, "commondir")); err == nil {
		l.CommonDir = absFrom(l.GitDir, strings.TrimSpace(string(b)))
	}
	l.IndexFile = filepath.Join(l.GitDir, "index")
	if env := os.Getenv("GIT_INDEX_FILE"); env != "" {
		l.IndexFile = absFrom(abs, env)
	}
	if _, err := os.Stat(filepath.Join(l.CommonDir, "objects")); err != nil {
		return Layout{}, fmt.Errorf("%s: no objects directory: %w", l.CommonDir, ErrNotRepository)
	}
	return l, nil
}

// discover walks up from dir looking for .git (a directory, or a file
// pointing to a linked worktree's git directory), or a bare repository.
func discover(dir string) (Layout, error) {
	for d := dir; ; {
		dot := filepath.Join(d, ".git")
		st, err := os.Stat(dot)
		switch {
		case err == nil && st.IsDir():
			return Layout{WorkTree: d, GitDir: dot}, nil
		case err == nil && st.Mode().IsRegular():
			b, err := os.ReadFile(dot)
			if err != nil {
				return Layout{}, fmt.Errorf("read %s: %w", dot, err)
			}
			target, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir:")
			if !ok {
				return Layout{}, fmt.Errorf("%s: not a gitdir file", dot)
			}
			return Layout{WorkTree: d, GitDir: absFrom(d, strings.TrimSpace(target))}, nil
		}
		if isBare(d) {
			return Layout{GitDir: d}, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return Layout{}, fmt.Errorf("%s: %w", dir, ErrNotRepository)
		}
		d = parent
	}
}

func isBare(d string) bool {
	for _, p := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(d, p)); err != nil {
			return false
		}
	}
	return true
}

func absFrom(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}

// ConfigValue returns the last value of section.key across git's config
// files in git's order of precedence (system, global, repository,
// worktree), and whether any file set it. include directives are not
// followed.
func (l Layout) ConfigValue(section, key string) (string, bool) {
	var files []string
	if os.Getenv("GIT_CONFIG_NOSYSTEM") == "" {
		files = append(files, "/etc/gitconfig")
	}
	if g := os.Getenv("GIT_CONFIG_GLOBAL"); g != "" {
		files = append(files, g)
	} else {
		if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
			files = append(files, filepath.Join(x, "git", "config"))
		} else if h, err := os.UserHomeDir(); err == nil {
			files = append(files, filepath.Join(h, ".config", "git", "config"))
		}
		if h, err := os.UserHomeDir(); err == nil {
			files = append(files, filepath.Join(h, ".gitconfig"))
		}
	}
	files = append(files, filepath.Join(l.CommonDir, "config"), filepath.Join(l.GitDir, "config.worktree"))
	val, found := "", false
	for _, f := range files {
		if v, ok := readConfigValue(f, section, key); ok {
			val, found = v, true
		}
	}
	return val, found
}

func readConfigValue(file, section, key string) (string, bool) {
	fh, err := os.Open(file)
	if err != nil {
		return "", false
	}
	defer fh.Close()
	cfg := gitconfig.New()
	if err := gitconfig.NewDecoder(fh).Decode(cfg); err != nil {
		return "", false
	}
	if !cfg.HasSection(section) {
		return "", false
	}
	s := cfg.Section(section)
	if !s.HasOption(key) {
		return "", false
	}
	vals := s.OptionAll(key)
	return vals[len(vals)-1], true
}

// LFSObjectsDir is where git-lfs keeps objects for this repository:
// lfs.storage when set (relative to the common dir), else
// <common-dir>/lfs/objects.
func (l Layout) LFSObjectsDir() string {
	if v, ok := l.ConfigValue("lfs", "storage"); ok && v != "" {
		return filepath.Join(absFrom(l.CommonDir, expandHome(v)), "objects")
	}
	return filepath.Join(l.CommonDir, "lfs", "objects")
}

// HooksDir is where git looks for hooks: core.hooksPath (relative to the
// working tree top, "~/" expanded) or <common-dir>/hooks.
func (l Layout) HooksDir() string {
	if v, ok := l.ConfigValue("core", "hooksPath"); ok && v != "" {
		base := l.WorkTree
		if base == "" {
			base = l.GitDir
		}
		return absFrom(base, expandHome(v))
	}
	return filepath.Join(l.CommonDir, "hooks")
}

func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, rest)
		}
	}
	return p
}
