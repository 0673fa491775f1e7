// Package savedmodel analyzes TensorFlow SavedModel directories: the
// saved_model.pb graph (recognised by content by the tf-savedmodel format)
// and the files it needs next to it, the assets its AssetFileDefs declare
// and the variables checkpoint shards.
package savedmodel

import (
	"context"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/tfsavedmodel"
	"github.com/modelgate/modelgate/core/modeldir"
	"github.com/modelgate/modelgate/core/pathcheck"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
)

// Analyzer is the SavedModel directory analyzer.
type Analyzer struct{}

// Kind is the report.Model kind.
const Kind = "tf-savedmodel"

// Name implements modeldir.Analyzer.
func (Analyzer) Name() string { return Kind }

// Marker implements modeldir.Analyzer.
func (Analyzer) Marker(name string) bool { return name == "saved_model.pb" }

// shard matches checkpoint data files: variables.data-00000-of-00002.
var shard = regexp.MustCompile(`^variables\.data-(\d{5})-of-(\d{5})$`)

// Analyze implements modeldir.Analyzer.
func (Analyzer) Analyze(ctx context.Context, t *modeldir.Tree, dir string, markers []*modeldir.File) (*report.Model, error) {
	mf := markers[0]
	res := t.Result(ctx, mf)
	if !modeldir.HasFormat(res, "tf-savedmodel") {
		return nil, nil
	}
	m := &report.Model{Path: dir, Kind: Kind, Framework: "tensorflow"}
	for _, f := range t.Listed(dir, true) {
		m.Files = append(m.Files, f.Path)
		if f.Path == modeldir.Join(dir, "keras_metadata.pb") {
			m.Framework = "keras"
		}
	}
	assets, err := assetFiles(ctx, mf)
	if err != nil {
		t.NotScanned(mf.Path, finding.Unscanned{RuleID: rules.NotScannedError, ModelLike: false,
			Reason: fmt.Sprintf("SavedModel asset list could not be read: %v", err)})
	}
	for _, a := range assets {
		if pathcheck.Escapes(a) != "" {
			continue // the tf-savedmodel format reports it (MG403)
		}
		p := modeldir.Join(dir, path.Join("assets", a))
		if _, ok := t.Get(ctx, p); ok {
			continue
		}
		// Assets are data (vocabularies), read as text by table
		// initialisers: reported, not failed on.
		t.NotScanned(mf.Path, finding.Unscanned{RuleID: rules.NotScannedMissingFile, ModelLike: false,
			Reason: fmt.Sprintf("the graph declares asset %q, which is not in the SavedModel's assets directory", report.Printable(a))})
	}
	variables(ctx, t, dir, mf)
	return m, nil
}

func assetFiles(ctx context.Context, f *modeldir.File) ([]string, error) {
	return modeldir.ReadAt(ctx, f, func(r io.ReaderAt, size int64) ([]string, error) {
		return tfsavedmodel.AssetFiles(ctx, r, size)
	})
}

// variables checks that the checkpoint the graph restores is complete: the
// index and every shard the shard names count.
func variables(ctx context.Context, t *modeldir.Tree, dir string, mf *modeldir.File) {
	vdir := modeldir.Join(dir, "variables")
	total := -1
	have := map[int]bool{}
	for _, f := range t.Listed(vdir, false) {
		if m := shard.FindStringSubmatch(path.Base(f.Path)); m != nil {
			i, _ := strconv.Atoi(m[1])
			n, _ := strconv.Atoi(m[2])
			have[i] = true
			if n > total {
				total = n
			}
		}
	}
	if total < 0 {
		return
	}
	if _, ok := t.Get(ctx, vdir+"/variables.index"); !ok {
		t.NotScanned(mf.Path, finding.Unscanned{RuleID: rules.NotScannedMissingFile, ModelLike: false,
			Reason: "the SavedModel has variables data shards but no variables/variables.index"})
	}
	for i := 0; i < total && i < 100000; i++ {
		if have[i] {
			continue
		}
		name := fmt.Sprintf("variables.data-%05d-of-%05d", i, total)
		if _, ok := t.Get(ctx, vdir+"/"+name); ok {
			continue
		}
		t.NotScanned(mf.Path, finding.Unscanned{RuleID: rules.NotScannedMissingFile, ModelLike: false,
			Reason: fmt.Sprintf("checkpoint shard variables/%s is missing", name)})
	}
}
