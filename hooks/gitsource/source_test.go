package gitsource

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/modelgate/modelgate/core/scan"
)

func walkPaths(t *testing.T, src scan.Source) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := src.Walk(context.Background(), func(e scan.Entry) error {
		rc, err := e.Open(context.Background())
		if err != nil {
			return err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		out[e.Path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSourcesFilterPaths: a path filter narrows what a git source yields; a
// filter naming nothing in the chosen source is a PathError, never a pass.
func TestSourcesFilterPaths(t *testing.T) {
	dir := t.TempDir()
	clearGitEnv(t, dir)
	gitInit(t, dir, "init", "-q", "-b", "main")
	for p, data := range map[string]string{"models/a.pkl": "one", "docs/readme.md": "doc"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitInit(t, dir, "add", ".")
	gitInit(t, dir, "commit", "-q", "-m", "one")
	if err := os.WriteFile(filepath.Join(dir, "models", "b.pkl"), []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitInit(t, dir, "add", ".")
	gitInit(t, dir, "commit", "-q", "-m", "two")
	if err := os.WriteFile(filepath.Join(dir, "models", "c.pkl"), []byte("three"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitInit(t, dir, "add", ".")
	l, err := Locate(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(l)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cases := []struct {
		name    string
		staged  bool
		filter  []string
		want    []string
		pathErr bool
	}{
		{"diff, everything", false, nil, []string{"models/b.pkl"}, false},
		{"diff, directory", false, []string{"models"}, []string{"models/b.pkl"}, false},
		{"diff, unchanged directory", false, []string{"docs"}, nil, false},
		{"diff, typo", false, []string{"modles"}, nil, true},
		{"staged, everything", true, nil, []string{"models/c.pkl"}, false},
		{"staged, unchanged file", true, []string{"models/a.pkl"}, nil, false},
		{"staged, typo", true, []string{"nosuch/"}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var src scan.Source
			var err error
			if tc.staged {
				src, err = r.StagedSource(ctx, tc.filter, "")
			} else {
				src, err = r.DiffSource(ctx, "HEAD~1", tc.filter, "")
			}
			if tc.pathErr {
				if !scan.IsPathError(err) {
					t.Fatalf("err = %v, want a PathError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := walkPaths(t, src)
			var keys []string
			for k := range got {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, tc.want) {
				t.Fatalf("paths %q, want %q", keys, tc.want)
			}
		})
	}
	// A diff source can still open files the range did not change.
	src, err := r.DiffSource(ctx, "HEAD~1", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	e, ok := src.(scan.Lookuper).Lookup(ctx, "models/a.pkl")
	if !ok {
		t.Fatal("unchanged file not found by Lookup")
	}
	rc, err := e.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "one" {
		t.Fatalf("Lookup content %q", b)
	}
}
