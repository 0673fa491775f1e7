package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/modelgate/modelgate/core/limits"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/report/jsonreport"
	"github.com/modelgate/modelgate/core/report/sarif"
	"github.com/modelgate/modelgate/core/scan"
	"github.com/modelgate/modelgate/mlflowplugin/artifacts"
	"github.com/modelgate/modelgate/mlflowplugin/registry"
	"github.com/modelgate/modelgate/mlflowplugin/store"
)

// StagePayload is the payload of stage and transition-request jobs.
type StagePayload struct {
	ToStage    string `json:"to_stage"`
	FromStage  string `json:"from_stage,omitempty"`
	Databricks bool   `json:"databricks,omitempty"`
}

func (p *Pool) readyWait(j *store.Job) time.Duration {
	// Poll fast at first (most registrations finish in seconds), then back off.
	age := p.cfg.Now().Sub(j.CreatedAt)
	switch {
	case age < 10*time.Second:
		return 250 * time.Millisecond
	case age < time.Minute:
		return 2 * time.Second
	}
	return 10 * time.Second
}

// scanJob waits for READY, scans the version's artifacts as one model
// directory, stores the report, tags the verdict and then applies it to the
// version's protected aliases and stage.
func (p *Pool) scanJob(ctx context.Context, j *store.Job) (outcome, error) {
	mv, err := p.cfg.Client.GetModelVersion(ctx, j.Model, j.Version)
	if registry.IsNotFound(err) {
		return outcome{note: "version no longer exists"}, nil
	}
	if err != nil {
		return outcome{}, err
	}
	switch mv.Status {
	case registry.StatusPending:
		if p.cfg.Now().Sub(j.CreatedAt) > p.cfg.ReadyTimeout {
			return p.recordError(ctx, j, fmt.Sprintf("version still %s after %s", mv.Status, p.cfg.ReadyTimeout))
		}
		return outcome{deferTo: p.cfg.Now().Add(p.readyWait(j)), deferWhy: "waiting for READY"}, nil
	case registry.StatusFailed:
		return p.recordError(ctx, j, "registration failed: "+mv.StatusMessage)
	}
	loc, err := artifacts.Resolve(ctx, p.cfg.Client, j.Model, j.Version, mv.Source, p.cfg.S3)
	if err != nil {
		var ue *artifacts.UnsupportedError
		if !errors.As(err, &ue) && registry.Retryable(err) {
			return outcome{}, err
		}
		return p.recordError(ctx, j, err.Error())
	}
	release, err := p.scanSlot(ctx)
	if err != nil {
		return outcome{}, err
	}
	defer release()
	opts := p.cfg.ScanOptions()
	opts.Root = loc.URI
	if opts.Jobs == 0 {
		opts.Jobs = 1
	}
	maxFile := limits.Default().MaxFileBytes
	if opts.Limits != nil {
		maxFile = opts.Limits.MaxFileBytes
	}
	loc.Spool(opts.TempDir, maxFile)
	hfs := NewHashingFS(loc.FS)
	rep, err := scan.Run(ctx, scan.FS(hfs, "", "."), opts)
	if err != nil {
		if ctx.Err() != nil {
			return outcome{}, err
		}
		// Listing or download failures surface here; retry them.
		if scan.IsPathError(err) {
			release()
			return p.recordError(ctx, j, "artifacts: "+err.Error())
		}
		return outcome{}, fmt.Errorf("scan: %w", err)
	}
	known := hfs.Sums()
	maps.Copy(known, artifacts.Sums(loc.FS))
	digest, extra, err := Digest(ctx, loc.FS, known)
	if err != nil {
		return outcome{}, fmt.Errorf("digest: %w", err)
	}
	r, err := p.result(ctx, j, loc.URI, rep, digest)
	release() // the rest is REST calls and a store write
	if err != nil {
		return outcome{}, err
	}
	if p.cfg.Metrics != nil {
		var n int64
		for _, f := range rep.Files {
			n += f.Size
		}
		p.cfg.Metrics.ScanBytes(n + extra)
		p.cfg.Metrics.Verdict(r.Status)
	}
	if err := p.cfg.Store.PutResult(ctx, r); err != nil {
		return outcome{}, err
	}
	if err := p.writeTags(ctx, r); err != nil {
		return outcome{}, err
	}
	note := fmt.Sprintf("%s: %s", r.Status, rep.Verdict)
	if r.Status != StatusPassed {
		// The version may already hold a protected alias or stage
		// (set before the scan finished, or found by reconcile).
		if err := p.applyToCurrent(ctx, j.Model, j.Version, r); err != nil {
			return outcome{}, err
		}
	}
	return outcome{note: note}, nil
}

// scanSlot waits for one of the ScanSlots; release may be called more
// than once.
func (p *Pool) scanSlot(ctx context.Context) (release func(), err error) {
	select {
	case p.slots <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-p.slots }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *Pool) result(ctx context.Context, j *store.Job, uri string, rep *report.Report, digest string) (*store.Result, error) {
	status := StatusPassed
	if rep.Outcome.Failed() {
		status = StatusFailed
	}
	var js, sf bytes.Buffer
	if err := jsonreport.New().Write(ctx, &js, rep); err != nil {
		return nil, fmt.Errorf("json report: %w", err)
	}
	if err := sarif.New(sarif.Options{Category: "mlflow"}).Write(ctx, &sf, rep); err != nil {
		return nil, fmt.Errorf("sarif report: %w", err)
	}
	reason := ""
	if status != StatusPassed {
		reason = rep.Verdict
	}
	return &store.Result{Model: j.Model, Version: j.Version, Status: status, Findings: rep.Summary.Findings,
		Digest: digest, URI: uri, Reason: reason, ScannedAt: p.cfg.Now(), JobID: j.ID,
		Report: js.Bytes(), SARIF: sf.Bytes()}, nil
}

// recordError stores and tags a version that could not be scanned; the job
// itself is done (retrying would give the same answer).
func (p *Pool) recordError(ctx context.Context, j *store.Job, why string) (outcome, error) {
	r := &store.Result{Model: j.Model, Version: j.Version, Status: StatusError, Reason: why, ScannedAt: p.cfg.Now(), JobID: j.ID}
	if p.cfg.Metrics != nil {
		p.cfg.Metrics.Verdict(StatusError)
	}
	if err := p.cfg.Store.PutResult(ctx, r); err != nil {
		return outcome{}, err
	}
	if err := p.writeTags(ctx, r); err != nil {
		return outcome{}, err
	}
	if err := p.applyToCurrent(ctx, j.Model, j.Version, r); err != nil {
		return outcome{}, err
	}
	return outcome{note: "error: " + why}, nil
}

func (p *Pool) writeTags(ctx context.Context, r *store.Result) error {
	for _, kv := range Tags(r, p.cfg.ReportURL(r.Model, r.Version)) {
		if err := p.cfg.Client.SetTag(ctx, r.Model, r.Version, kv[0], kv[1]); err != nil {
			return err
		}
	}
	if r.Reason == "" {
		return p.cfg.Client.DeleteTag(ctx, r.Model, r.Version, TagReason)
	}
	return nil
}

// applyToCurrent enforces a non-passing result on the aliases and stage
// the version holds right now.
func (p *Pool) applyToCurrent(ctx context.Context, model, version string, r *store.Result) error {
	mv, err := p.cfg.Client.GetModelVersion(ctx, model, version)
	if registry.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, a := range mv.Aliases {
		if slices.Contains(p.cfg.Protected, a) {
			if _, err := p.enforceAlias(ctx, model, a, version, r); err != nil {
				return err
			}
		}
	}
	if slices.Contains(p.cfg.ProtectedStages, mv.CurrentStage) {
		if _, err := p.demote(ctx, model, version, mv.CurrentStage, "None", false, r); err != nil {
			return err
		}
	}
	return nil
}

// waitForScan returns the version's result, or (nil, defer outcome) while
// a scan is pending: it makes sure a scan job exists and asks to be run
// again. After ScanWait the version counts as unscanned.
func (p *Pool) waitForScan(ctx context.Context, j *store.Job) (*store.Result, *outcome, error) {
	r, err := p.cfg.Store.GetResult(ctx, j.Model, j.Version, false)
	if err != nil || r != nil {
		return r, nil, err
	}
	if p.cfg.Now().Sub(j.CreatedAt) > p.cfg.ScanWait {
		return &store.Result{Model: j.Model, Version: j.Version, Status: StatusError,
			Reason: fmt.Sprintf("not scanned within %s", p.cfg.ScanWait), ScannedAt: p.cfg.Now()}, nil, nil
	}
	if _, err := p.cfg.Store.Enqueue(ctx, "", j.Source, "scan-needed", store.NewJob{Kind: store.KindScan, Model: j.Model, Version: j.Version, Source: j.Source}); err != nil {
		return nil, nil, err
	}
	p.Wake()
	return nil, &outcome{deferTo: p.cfg.Now().Add(500 * time.Millisecond), deferWhy: "waiting for the version's scan"}, nil
}

// aliasJob checks a protected alias that was just set.
func (p *Pool) aliasJob(ctx context.Context, j *store.Job) (outcome, error) {
	r, wait, err := p.waitForScan(ctx, j)
	if err != nil {
		return outcome{}, err
	}
	if wait != nil {
		return *wait, nil
	}
	note, err := p.enforceAlias(ctx, j.Model, j.Alias, j.Version, r)
	return outcome{note: note}, err
}

// enforceAlias keeps alias on version only when the version passed; else
// it re-points the alias to the last target that passed, or removes it,
// and tags the version with why.
func (p *Pool) enforceAlias(ctx context.Context, model, alias, version string, r *store.Result) (string, error) {
	if r.Status == StatusPassed {
		hist, err := p.cfg.Store.AliasHistory(ctx, model, alias)
		if err != nil {
			return "", err
		}
		if len(hist) == 0 || hist[0].Version != version || hist[0].Action == "removed" {
			if err := p.cfg.Store.RecordAlias(ctx, store.AliasEvent{Model: model, Alias: alias, Version: version, Action: "kept"}); err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("alias %s on version %s kept: scan passed", alias, version), nil
	}
	cur, err := p.cfg.Client.GetVersionByAlias(ctx, model, alias)
	if registry.IsNotFound(err) {
		return "alias already gone", nil
	}
	if err != nil {
		return "", err
	}
	if cur.Version != version {
		// Someone moved it on; the new target has its own check.
		return fmt.Sprintf("alias %s now points at version %s", alias, cur.Version), nil
	}
	prev, err := p.previousPassing(ctx, model, alias, version)
	if err != nil {
		return "", err
	}
	action := "removed"
	reason := fmt.Sprintf("protected alias %q removed from version %s: scan %s", alias, version, r.Status)
	if prev != "" {
		if err := p.cfg.Client.SetAlias(ctx, model, alias, prev); err != nil {
			if !registry.IsNotFound(err) {
				return "", err
			}
			prev = ""
		} else {
			action = "repointed"
			reason = fmt.Sprintf("protected alias %q moved from version %s back to version %s: scan %s", alias, version, prev, r.Status)
		}
	}
	if prev == "" {
		if err := p.cfg.Client.DeleteAlias(ctx, model, alias); err != nil {
			return "", err
		}
	}
	if r.Reason != "" {
		reason += " (" + r.Reason + ")"
	}
	if err := p.block(ctx, r, reason); err != nil {
		return "", err
	}
	if err := p.cfg.Store.RecordAlias(ctx, store.AliasEvent{Model: model, Alias: alias, Version: version, Action: action, Reason: reason}); err != nil {
		return "", err
	}
	if prev != "" {
		if err := p.cfg.Store.RecordAlias(ctx, store.AliasEvent{Model: model, Alias: alias, Version: prev, Action: "kept", Reason: "restored"}); err != nil {
			return "", err
		}
	}
	return reason, nil
}

// previousPassing is the newest earlier target of alias that passed.
func (p *Pool) previousPassing(ctx context.Context, model, alias, version string) (string, error) {
	hist, err := p.cfg.Store.AliasHistory(ctx, model, alias)
	if err != nil {
		return "", err
	}
	for _, e := range hist {
		if e.Version == version || e.Action != "kept" {
			continue
		}
		r, err := p.cfg.Store.GetResult(ctx, model, e.Version, false)
		if err != nil {
			return "", err
		}
		if r != nil && r.Status == StatusPassed {
			return e.Version, nil
		}
	}
	return "", nil
}

// block marks a version blocked (in the store, when it has a result there,
// and on the registry).
func (p *Pool) block(ctx context.Context, r *store.Result, reason string) error {
	b := *r
	b.Status = StatusBlocked
	b.Reason = reason
	if r.JobID != 0 {
		if err := p.cfg.Store.SetStatus(ctx, r.Model, r.Version, StatusBlocked, reason); err != nil {
			return err
		}
	}
	return p.writeTags(ctx, &b)
}

// transitionRequestJob answers a Databricks request to move a version to a
// stage: a version that did not pass has the request rejected.
func (p *Pool) transitionRequestJob(ctx context.Context, j *store.Job) (outcome, error) {
	var pl StagePayload
	_ = json.Unmarshal(j.Payload, &pl)
	r, wait, err := p.waitForScan(ctx, j)
	if err != nil {
		return outcome{}, err
	}
	if wait != nil {
		return *wait, nil
	}
	if r.Status == StatusPassed {
		return outcome{note: "scan passed; request left for approval"}, nil
	}
	comment := fmt.Sprintf("modelgate: rejected, scan %s", r.Status)
	if r.Reason != "" {
		comment += ": " + r.Reason
	}
	if url := p.cfg.ReportURL(j.Model, j.Version); url != "" {
		comment += " (report: " + url + ")"
	}
	if err := p.cfg.Client.RejectTransitionRequest(ctx, j.Model, j.Version, pl.ToStage, clip(comment)); err != nil {
		if registry.IsNotFound(err) {
			return outcome{note: "request no longer open"}, nil
		}
		return outcome{}, err
	}
	if err := p.block(ctx, r, fmt.Sprintf("transition request to %s rejected: scan %s", pl.ToStage, r.Status)); err != nil {
		return outcome{}, err
	}
	return outcome{note: "transition request rejected"}, nil
}

// stageJob moves a version that reached a protected stage back out of it
// when it did not pass.
func (p *Pool) stageJob(ctx context.Context, j *store.Job) (outcome, error) {
	var pl StagePayload
	_ = json.Unmarshal(j.Payload, &pl)
	if !slices.Contains(p.cfg.ProtectedStages, pl.ToStage) {
		return outcome{note: "stage not protected"}, nil
	}
	r, wait, err := p.waitForScan(ctx, j)
	if err != nil {
		return outcome{}, err
	}
	if wait != nil {
		return *wait, nil
	}
	back := pl.FromStage
	if back == "" || back == pl.ToStage {
		back = "None"
	}
	note, err := p.demote(ctx, j.Model, j.Version, pl.ToStage, back, pl.Databricks, r)
	return outcome{note: note}, err
}

func (p *Pool) demote(ctx context.Context, model, version, stage, back string, databricks bool, r *store.Result) (string, error) {
	if r.Status == StatusPassed {
		return "scan passed; stage kept", nil
	}
	mv, err := p.cfg.Client.GetModelVersion(ctx, model, version)
	if err != nil {
		return "", err
	}
	if mv.CurrentStage != stage {
		return "version already left " + stage, nil
	}
	reason := fmt.Sprintf("moved from %s back to %s: scan %s", stage, back, r.Status)
	if err := p.cfg.Client.TransitionStage(ctx, model, version, back, "modelgate: "+reason, databricks); err != nil {
		return "", err
	}
	return reason, p.block(ctx, r, reason)
}

// retagJob puts back modelgate.* tags someone else changed or deleted.
func (p *Pool) retagJob(ctx context.Context, j *store.Job) (outcome, error) {
	r, err := p.cfg.Store.GetResult(ctx, j.Model, j.Version, false)
	if err != nil {
		return outcome{}, err
	}
	if r == nil {
		// Never scanned here: a forged status must not stand.
		_, err := p.cfg.Store.Enqueue(ctx, "", j.Source, "retag", store.NewJob{Kind: store.KindScan, Model: j.Model, Version: j.Version, Source: j.Source})
		return outcome{note: "no result yet; scan queued"}, err
	}
	if err := p.writeTags(ctx, r); err != nil {
		if registry.IsNotFound(err) {
			return outcome{note: "version no longer exists"}, nil
		}
		return outcome{}, err
	}
	return outcome{note: "tags restored"}, nil
}
