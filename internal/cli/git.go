package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/rules"
	"github.com/modelgate/modelgate/hooks/gitsource"
)

// scanGit scans blobs from the repository: the index (--staged) or a
// revision range (--git-diff). Report paths are repository paths.
func scanGit(ctx context.Context, eng *engine.Engine, layout gitsource.Layout, fl scanFlags, args []string) ([]finding.FileResult, error) {
	repo, err := gitsource.Open(layout)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	var changes []gitsource.Change
	if fl.staged {
		changes, err = repo.Staged(ctx)
	} else {
		changes, err = repo.Diff(ctx, fl.gitDiff)
	}
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	if len(args) > 0 {
		keep, err := pathFilter(layout, args)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		changes = filterChanges(changes, keep)
	}
	results := make([]finding.FileResult, len(changes))
	jobs := fl.jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(jobs, len(changes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] = scanBlob(ctx, eng, repo, changes[i])
			}
		}()
	}
	for i := range changes {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("scan cancelled: %w", err)}
	}
	return results, nil
}

func scanBlob(ctx context.Context, eng *engine.Engine, repo *gitsource.Repo, c gitsource.Change) finding.FileResult {
	content, err := repo.Content(ctx, c.Blob, "")
	if err != nil {
		return finding.FileResult{Path: c.Path, Status: finding.StatusNotScanned, Error: err.Error(),
			Unscanned: []finding.Unscanned{{RuleID: rules.NotScannedError, Reason: err.Error(), ModelLike: true}}}
	}
	defer content.Close()
	return eng.ScanReaderAt(ctx, c.Path, content, content.Size())
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

func filterChanges(changes []gitsource.Change, keep []string) []gitsource.Change {
	var out []gitsource.Change
	for _, c := range changes {
		for _, k := range keep {
			if k == "" || c.Path == k || strings.HasPrefix(c.Path, k+"/") {
				out = append(out, c)
				break
			}
		}
	}
	return out
}
