package cli

import (
	"github.com/modelgate/modelgate/internal/climain"

	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/modelgate/modelgate/core/scan"
	"github.com/modelgate/modelgate/hooks/gitsource"
)

// gitSource is the index (--staged) or a revision range (--git-diff),
// narrowed to the PATH arguments. Report paths are repository paths.
func gitSource(ctx context.Context, layout gitsource.Layout, fl scanFlags, args []string) (scan.Source, error) {
	repo, err := gitsource.Open(layout)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	var keep []string
	if len(args) > 0 {
		if keep, err = pathFilter(layout, args); err != nil {
			return nil, usageErr("%v", err)
		}
	}
	var src scan.Source
	if fl.staged {
		src, err = repo.StagedSource(ctx, keep, "")
	} else {
		src, err = repo.DiffSource(ctx, fl.gitDiff, keep, "")
	}
	if scan.IsPathError(err) {
		return nil, usageErr("%v", err)
	}
	if err != nil {
		return nil, climain.Exit(2, err)
	}
	return src, nil
}

// pathFilter turns PATH arguments (relative to the current directory)
// into repository paths; "" stands for the whole repository.
func pathFilter(layout gitsource.Layout, args []string) ([]string, error) {
	if layout.WorkTree == "" {
		return args, nil
	}
	var keep []string
	for _, a := range args {
		abs, err := filepath.Abs(a)
		if err != nil {
			return nil, err
		}
		rel, err := filepath.Rel(layout.WorkTree, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("%s is outside the repository %s", a, layout.WorkTree)
		}
		if rel == "." {
			rel = ""
		}
		keep = append(keep, filepath.ToSlash(rel))
	}
	return keep, nil
}
