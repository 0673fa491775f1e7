package action

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/sethvargo/go-githubactions"

	"github.com/modelgate/modelgate/core/formats/lfs"
	"github.com/modelgate/modelgate/core/policy"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/report/cyclonedx"
	"github.com/modelgate/modelgate/core/report/jsonreport"
	"github.com/modelgate/modelgate/core/report/sarif"
	"github.com/modelgate/modelgate/core/report/text"
	"github.com/modelgate/modelgate/core/scan"
	"github.com/modelgate/modelgate/core/signing"
	"github.com/modelgate/modelgate/hooks/gitsource"
)

// Env is what the action runs in; every field but Getenv and Stdout has a
// working default.
type Env struct {
	// Getenv reads the runner's environment (os.Getenv in production).
	Getenv func(string) string
	// Stdout receives the log and the workflow commands.
	Stdout io.Writer
	// HTTPClient talks to the GitHub API (default: 30 s timeout).
	HTTPClient *http.Client
	// Tool identifies modelgate in reports.
	Tool report.Tool
	// PollInterval and PollTimeout bound the wait for SARIF processing.
	PollInterval, PollTimeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Signatures verifies the model signatures a policy requires (nil: a
	// policy that requires them cannot run, see scan.Options).
	Signatures signing.Verifier
}

// Result is what one run decided, for the caller and for tests.
type Result struct {
	// ExitCode is the step's exit code: the scan's (0, 1, 2), or 2 when
	// upload-sarif: true could not upload.
	ExitCode int
	Report   *report.Report
	Event    Event
	// Upload is the code-scanning outcome in one sentence.
	Upload string
	// UploadErr is set when an upload was attempted and failed.
	UploadErr error
	// Comment is the sticky comment's URL, or why there is none.
	Comment string
}

// Run is `modelgate action`: read inputs and event, scan, report.
func Run(ctx context.Context, env Env) Result {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Stdout == nil {
		env.Stdout = os.Stdout
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	a := githubactions.New(githubactions.WithGetenv(env.Getenv), githubactions.WithWriter(env.Stdout))
	r := &runner{env: env, a: a}
	return r.run(ctx)
}

type runner struct {
	env Env
	a   *githubactions.Action
}

// fail reports an error that stops the action before a verdict: the gate
// fails closed (exit 2), and says so everywhere a user looks.
func (r *runner) fail(res Result, err error) Result {
	r.a.Errorf("modelgate: %s", report.Printable(err.Error()))
	r.output("verdict", "fail")
	r.output("exit-code", "2")
	r.summary(fmt.Sprintf("## ❌ modelgate could not run\n\n%s\n", md(err.Error())))
	res.ExitCode = 2
	return res
}

func (r *runner) output(k, v string) {
	if r.env.Getenv("GITHUB_OUTPUT") != "" {
		r.a.SetOutput(k, v)
	}
}

func (r *runner) summary(s string) {
	if r.env.Getenv("GITHUB_STEP_SUMMARY") != "" {
		r.a.AddStepSummary(s)
	}
}

func (r *runner) run(ctx context.Context) Result {
	var res Result
	in, err := ReadInputs(r.a)
	if err != nil {
		return r.fail(res, err)
	}
	gc, err := r.a.Context()
	if err != nil {
		return r.fail(res, fmt.Errorf("read the run's context: %w", err))
	}
	ev, err := ParseEvent(gc)
	if err != nil {
		return r.fail(res, err)
	}
	res.Event = ev
	ws, err := workspaceDir(gc.Workspace)
	if err != nil {
		return r.fail(res, fmt.Errorf("workspace: %w", err))
	}
	started := r.env.Now()

	opts := scan.Options{FailOn: in.FailOn, Root: filepath.ToSlash(ws), Tool: r.env.Tool,
		TempDir: r.env.Getenv("RUNNER_TEMP"), Now: r.env.Now, SignatureVerifier: r.env.Signatures,
		// An inventory records every file's digest.
		HashAll: in.CycloneDXFile != ""}
	pol := policy.Default()
	if in.Policy != "" {
		file := filepath.Join(ws, filepath.FromSlash(in.Policy))
		if filepath.IsAbs(in.Policy) {
			file = in.Policy
		}
		if pol, err = policy.Load(file, started); err != nil {
			return r.fail(res, fmt.Errorf("input policy: %w", err))
		}
		opts.Policy, opts.PolicySource = pol, in.Policy
	}
	if layout, err := gitsource.Locate(ws); err == nil {
		opts.LFSStore = lfs.DirStore(layout.LFSObjectsDir())
	}

	var src scan.Source
	scope := "paths " + strings.Join(in.Paths, ", ")
	if in.ChangedOnly && ev.DiffRange != "" {
		scope = "files changed in " + ev.DiffRange + " under " + strings.Join(in.Paths, ", ")
		src, err = DiffSource(ctx, ws, ev.DiffRange, in.Paths, opts.TempDir)
	} else {
		if in.ChangedOnly {
			r.a.Noticef("changed-only: %s, so every file under the paths is scanned", ev.NoDiffReason)
			scope += " (changed-only: " + ev.NoDiffReason + ")"
		}
		src, err = PathsSource(ws, in.Paths)
	}
	if err != nil {
		return r.fail(res, err)
	}
	rep, err := scan.Run(ctx, src, opts)
	if err != nil {
		return r.fail(res, err)
	}
	res.Report = rep
	res.ExitCode = rep.Outcome.ExitCode()
	r.log(rep)
	r.a.Infof("modelgate: scanned %d file(s) in %d ms", rep.Summary.Files, rep.FinishedAt.Sub(rep.StartedAt).Milliseconds())

	sarifPath := resolve(ws, in.SARIFFile)
	var sarifLog []byte
	if sarifLog, err = r.write(ctx, sarifPath, sarif.New(sarif.Options{Category: in.Category}), rep); err != nil {
		return r.fail(res, err)
	}
	jsonPath := in.JSONFile
	if jsonPath == "" {
		dir := r.env.Getenv("RUNNER_TEMP")
		if dir == "" {
			dir = os.TempDir()
		}
		jsonPath = filepath.Join(dir, "modelgate-report.json")
	}
	jsonPath = resolve(ws, jsonPath)
	if _, err = r.write(ctx, jsonPath, jsonreport.New(), rep); err != nil {
		return r.fail(res, err)
	}
	bomPath := ""
	if in.CycloneDXFile != "" {
		bomPath = resolve(ws, in.CycloneDXFile)
		bom, err := cyclonedx.New(cyclonedx.Options{})
		if err != nil {
			return r.fail(res, err)
		}
		if _, err = r.write(ctx, bomPath, bom, rep); err != nil {
			return r.fail(res, err)
		}
	}

	s := rep.Summary
	verdict := "pass"
	if rep.Outcome.Failed() {
		verdict = "fail"
	}
	for _, kv := range [][2]string{
		{"verdict", verdict}, {"findings", strconv.Itoa(s.Findings)},
		{"critical", strconv.Itoa(s.BySeverity["critical"])}, {"high", strconv.Itoa(s.BySeverity["high"])},
		{"medium", strconv.Itoa(s.BySeverity["medium"])}, {"low", strconv.Itoa(s.BySeverity["low"])},
		{"not-scanned", strconv.Itoa(s.NotScanned)}, {"sarif-file", sarifPath}, {"json-file", jsonPath}, {"cyclonedx-file", bomPath},
		{"exit-code", strconv.Itoa(res.ExitCode)},
	} {
		r.output(kv[0], kv[1])
	}
	Emit(r.a, Annotations(rep, pol))

	client := r.client(gc, in.Token)
	res.Upload, res.UploadErr = r.upload(ctx, client, in, ev, sarifLog, ws, started)
	if res.UploadErr != nil && in.UploadSARIF == UploadTrue && res.ExitCode == 0 {
		res.ExitCode = 2
	}
	info := SummaryInfo{PolicyFile: in.Policy, SARIFFile: rel(ws, sarifPath), JSONFile: jsonPath, Scope: scope, Upload: res.Upload}
	res.Comment = r.comment(ctx, client, in, ev, gc, rep, pol, info)
	r.summary(Summary(rep, pol, info))
	return res
}

// log prints the text report with workflow commands switched off, so that
// nothing taken from a model file can act as a command (set an output,
// add a mask, fake an annotation).
func (r *runner) log(rep *report.Report) {
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	token := hex.EncodeToString(tok[:])
	r.a.IssueCommand(&githubactions.Command{Name: "stop-commands", Message: token})
	_ = text.New(text.Options{}).Write(context.Background(), r.env.Stdout, rep)
	fmt.Fprintf(r.env.Stdout, "::%s::\n", token)
}

func (r *runner) write(ctx context.Context, path string, w report.Writer, rep *report.Report) ([]byte, error) {
	var b strings.Builder
	if err := w.Write(ctx, &b, rep); err != nil {
		return nil, fmt.Errorf("render %s: %w", w.Name(), err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("write %s report: %w", w.Name(), err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return nil, fmt.Errorf("write %s report: %w", w.Name(), err)
	}
	return []byte(b.String()), nil
}

// fileURI is the checkout_uri of a local directory (file:///C:/... on
// Windows, file:///home/... elsewhere).
func fileURI(dir string) string {
	p := filepath.ToSlash(dir)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return "file://" + p
}

func resolve(ws, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(ws, filepath.FromSlash(p))
}

func rel(ws, p string) string {
	if r, err := filepath.Rel(ws, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return p
}

func (r *runner) client(gc *githubactions.GitHubContext, token string) *github.Client {
	hc := r.env.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	c := github.NewClient(hc)
	if token != "" {
		c = c.WithAuthToken(token)
	}
	if u, err := url.Parse(strings.TrimSuffix(gc.APIURL, "/") + "/"); err == nil && gc.APIURL != "" {
		c.BaseURL = u
	}
	return c
}

// upload sends the SARIF log when the upload-sarif mode and the event
// allow it. In auto mode, a repository or token that cannot take uploads
// is a notice; in true mode every failure is an error that fails the step.
func (r *runner) upload(ctx context.Context, c *github.Client, in Inputs, ev Event, log []byte, ws string, started time.Time) (string, error) {
	if in.UploadSARIF == UploadFalse {
		return "not uploaded (upload-sarif: false).", nil
	}
	auto := in.UploadSARIF == UploadAuto
	var why string
	switch {
	case ev.Fork:
		why = "a pull request from a fork gets a read-only token; upload from a workflow_run job instead (examples/github/)"
	case in.Token == "":
		why = "there is no token (input token)"
	case ev.Owner == "" || ev.SHA == "" || ev.Ref == "":
		why = "the run names no repository, commit or ref (GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_REF)"
	}
	if why != "" {
		if auto {
			r.a.Noticef("SARIF not uploaded: %s. The gate still applies; the log is in %s.", why, in.SARIFFile)
			return "not uploaded: " + why + ".", nil
		}
		kind := UploadRejected
		if ev.Fork {
			kind = UploadReadOnlyToken
		}
		err := &UploadError{Kind: kind, Message: "upload-sarif: true, but " + why}
		r.a.Errorf("%s", err.Message)
		return "upload failed: " + err.Message + ".", err
	}
	u := &Uploader{Client: c, Owner: ev.Owner, Repo: ev.Repo, PollInterval: r.env.PollInterval, PollTimeout: r.env.PollTimeout}
	res, err := u.Upload(ctx, UploadRequest{SARIF: log, CommitSHA: ev.SHA, Ref: ev.Ref,
		CheckoutURI: fileURI(ws), StartedAt: started, ToolName: "modelgate"})
	if err != nil {
		msg := report.Printable(err.Error())
		var ue *UploadError
		switch {
		case auto && errors.As(err, &ue) && ue.Unavailable():
			r.a.Noticef("SARIF upload skipped: %s. The gate still applies.", msg)
			return "upload skipped: " + msg + ".", err
		case auto:
			r.a.Warningf("SARIF upload failed: %s", msg)
		default:
			r.a.Errorf("SARIF upload failed: %s", msg)
		}
		return "upload failed: " + msg + ".", err
	}
	if res.Status == "complete" {
		return fmt.Sprintf("uploaded and processed (sarif id %s).", res.ID), nil
	}
	r.a.Noticef("SARIF upload %s is still being processed; see %s", res.ID, res.AnalysesURL)
	return fmt.Sprintf("uploaded (sarif id %s), still processing.", res.ID), nil
}

// comment keeps the sticky pull-request comment.
func (r *runner) comment(ctx context.Context, c *github.Client, in Inputs, ev Event, gc *githubactions.GitHubContext, rep *report.Report, pol *policy.Policy, info SummaryInfo) string {
	if in.Comment == CommentOff || ev.PullRequest == 0 {
		return ""
	}
	if ev.Fork {
		r.a.Noticef("No pull-request comment: a pull request from a fork gets a read-only token. Comment from a workflow_run job instead (examples/github/).")
		return "skipped: fork"
	}
	if in.Token == "" {
		r.a.Noticef("No pull-request comment: there is no token (input token).")
		return "skipped: no token"
	}
	info.Limit = maxCommentBytes
	body := Summary(rep, pol, info)
	if gc.RunID != 0 {
		body += fmt.Sprintf("\n[The run](%s/%s/%s/actions/runs/%d)\n", gc.ServerURL, ev.Owner, ev.Repo, gc.RunID)
	}
	create := in.Comment == CommentAlways || rep.Outcome.Failed()
	cm := &Commenter{Client: c, Owner: ev.Owner, Repo: ev.Repo}
	link, err := cm.Upsert(ctx, ev.PullRequest, Marker(in.Category), body, create)
	if err != nil {
		r.a.Warningf("pull-request comment failed: %s", report.Printable(err.Error()))
		return "failed: " + err.Error()
	}
	return link
}
