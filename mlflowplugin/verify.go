package mlflowplugin

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/modelgate/modelgate/mlflowplugin/artifacts"
	"github.com/modelgate/modelgate/mlflowplugin/registry"
	"github.com/modelgate/modelgate/mlflowplugin/worker"
)

// ModelRef is models:/NAME@ALIAS or models:/NAME/VERSION.
type ModelRef struct {
	Name, Version, Alias string
}

var numeric = regexp.MustCompile(`^[0-9]+$`)

// ParseModelRef parses a registry model URI.
func ParseModelRef(s string) (ModelRef, error) {
	rest, ok := strings.CutPrefix(s, "models:/")
	if !ok || rest == "" {
		return ModelRef{}, fmt.Errorf("%q is not models:/NAME@ALIAS or models:/NAME/VERSION", s)
	}
	if name, alias, ok := strings.Cut(rest, "@"); ok && name != "" && alias != "" && !strings.Contains(alias, "/") {
		return ModelRef{Name: name, Alias: alias}, nil
	}
	i := strings.LastIndex(rest, "/")
	if i <= 0 || !numeric.MatchString(rest[i+1:]) {
		return ModelRef{}, fmt.Errorf("%q is not models:/NAME@ALIAS or models:/NAME/VERSION (a version is a number)", s)
	}
	return ModelRef{Name: rest[:i], Version: rest[i+1:]}, nil
}

// Verdict is the answer of Verify.
type Verdict struct {
	Model   string `json:"model"`
	Version string `json:"version"`
	Passed  bool   `json:"passed"`
	Status  string `json:"status,omitempty"`
	Digest  string `json:"digest,omitempty"`
	Reason  string `json:"reason"`
}

// Verify is the deployment-time check: the version's recorded scan passed
// and its artifacts, hashed again now, still match the recorded digest.
// Any doubt (no tag, other status, changed or unreadable artifacts) is a
// failed verdict with the reason; err is only for a failure to ask.
func Verify(ctx context.Context, c *registry.Client, ref ModelRef, s3 artifacts.S3Opener) (*Verdict, error) {
	var mv *registry.ModelVersion
	var err error
	if ref.Alias != "" {
		mv, err = c.GetVersionByAlias(ctx, ref.Name, ref.Alias)
	} else {
		mv, err = c.GetModelVersion(ctx, ref.Name, ref.Version)
	}
	if err != nil {
		return nil, err
	}
	v := &Verdict{Model: mv.Name, Version: mv.Version}
	if v.Model == "" {
		v.Model = ref.Name
	}
	status, ok := mv.Tag(worker.TagStatus)
	v.Status = status
	if !ok {
		v.Reason = "version has no modelgate.status tag: it was never scanned"
		return v, nil
	}
	if status != worker.StatusPassed {
		v.Reason = "scan status is " + status
		if why, ok := mv.Tag(worker.TagReason); ok {
			v.Reason += ": " + why
		}
		return v, nil
	}
	want, ok := mv.Tag(worker.TagDigest)
	if !ok || want == "" {
		v.Reason = "version has no modelgate.digest tag"
		return v, nil
	}
	loc, err := artifacts.Resolve(ctx, c, mv.Name, mv.Version, mv.Source, s3)
	if err != nil {
		v.Reason = "artifacts cannot be read: " + err.Error()
		return v, nil
	}
	got, _, err := worker.Digest(ctx, loc.FS, nil)
	if err != nil {
		v.Reason = "artifacts cannot be hashed: " + err.Error()
		return v, nil
	}
	v.Digest = got
	if got != want {
		v.Reason = fmt.Sprintf("artifacts changed since the scan: digest is %s, the scan recorded %s", got, want)
		return v, nil
	}
	v.Passed = true
	v.Reason = "scan passed and the artifacts still match its digest"
	return v, nil
}
