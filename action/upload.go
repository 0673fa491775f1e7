package action

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// GitHub's limits on one SARIF upload (docs: "SARIF support for code
// scanning", "Results exceed limit").
const (
	MaxSARIFGzipBytes = 10 << 20
	MaxResultsPerRun  = 25000
	MaxRunsPerUpload  = 20
)

// Kinds of upload failure, each with its own plain message.
const (
	UploadNotEnabled        = "not-enabled"
	UploadReadOnlyToken     = "read-only-token"
	UploadNotFound          = "not-found"
	UploadTooLarge          = "too-large"
	UploadTooManyResults    = "too-many-results"
	UploadDuplicateCategory = "duplicate-category"
	UploadRejected          = "rejected"
	UploadProcessingFailed  = "processing-failed"
	UploadUnreachable       = "unreachable"
)

// UploadError is a failed upload, explained.
type UploadError struct {
	Kind    string
	Status  int // HTTP status, 0 when none
	Message string
	Err     error
}

func (e *UploadError) Error() string { return e.Message }
func (e *UploadError) Unwrap() error { return e.Err }

// Unavailable reports whether the failure means code scanning cannot take
// uploads here at all (not enabled, no Advanced Security, a read-only
// token), which upload-sarif: auto skips with a notice.
func (e *UploadError) Unavailable() bool {
	switch e.Kind {
	case UploadNotEnabled, UploadReadOnlyToken, UploadNotFound, UploadUnreachable:
		return true
	}
	return false
}

// Uploader sends SARIF to code scanning and waits for it to be processed.
type Uploader struct {
	Client      *github.Client
	Owner, Repo string
	// PollInterval and PollTimeout bound the wait for processing
	// (defaults 5 s and 2 min, as github/codeql-action does).
	PollInterval, PollTimeout time.Duration
}

// UploadRequest is one SARIF log for one commit.
type UploadRequest struct {
	SARIF       []byte
	CommitSHA   string
	Ref         string
	CheckoutURI string
	StartedAt   time.Time
	ToolName    string
}

// UploadResult is a processed (or still pending) upload.
type UploadResult struct {
	ID          string
	Status      string // complete or pending
	AnalysesURL string
}

// CheckSARIF applies GitHub's limits before anything is sent, so that the
// message names the limit instead of relaying a bare 413 or 422.
func CheckSARIF(log []byte) error {
	var doc struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Name string `json:"name"`
				} `json:"driver"`
			} `json:"tool"`
			AutomationDetails *struct {
				ID string `json:"id"`
			} `json:"automationDetails"`
			Results []json.RawMessage `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(log, &doc); err != nil {
		return &UploadError{Kind: UploadRejected, Message: "the SARIF log is not valid JSON: " + err.Error(), Err: err}
	}
	if len(doc.Runs) > MaxRunsPerUpload {
		return &UploadError{Kind: UploadRejected, Message: fmt.Sprintf("the SARIF log has %d runs; code scanning accepts at most %d per upload", len(doc.Runs), MaxRunsPerUpload)}
	}
	seen := map[string]bool{}
	for i, r := range doc.Runs {
		cat := ""
		if r.AutomationDetails != nil {
			cat = categoryOf(r.AutomationDetails.ID)
		}
		key := r.Tool.Driver.Name + "\x00" + cat
		if seen[key] {
			return &UploadError{Kind: UploadDuplicateCategory, Message: fmt.Sprintf(
				"the SARIF log has two runs of %s with the same category %q (run %d); code scanning rejects that since July 2025: give each run its own category, or upload them separately",
				r.Tool.Driver.Name, cat, i)}
		}
		seen[key] = true
		if len(r.Results) > MaxResultsPerRun {
			return &UploadError{Kind: UploadTooManyResults, Message: fmt.Sprintf(
				"run %d has %d results; code scanning accepts at most %d per run: narrow the path input or raise fail-on, and read the full list in the JSON report",
				i, len(r.Results), MaxResultsPerRun)}
		}
	}
	return nil
}

// categoryOf is the category part of runAutomationDetails.id
// ("category/run-id"; a trailing slash means no run id).
func categoryOf(id string) string {
	if i := strings.LastIndex(id, "/"); i >= 0 {
		return id[:i]
	}
	return id
}

// Encode gzips and base64-encodes a SARIF log, as the API wants it, and
// refuses logs over the 10 MB compressed limit.
func Encode(log []byte) (string, error) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(log); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	if b.Len() > MaxSARIFGzipBytes {
		return "", &UploadError{Kind: UploadTooLarge, Message: fmt.Sprintf(
			"the SARIF log is %.1f MB gzip-compressed; code scanning accepts at most 10 MB: narrow the path input or raise fail-on (the JSON report keeps everything)",
			float64(b.Len())/(1<<20))}
	}
	return base64.StdEncoding.EncodeToString(b.Bytes()), nil
}

// Upload checks, sends and then polls one SARIF log.
func (u *Uploader) Upload(ctx context.Context, req UploadRequest) (UploadResult, error) {
	if err := CheckSARIF(req.SARIF); err != nil {
		return UploadResult{}, err
	}
	enc, err := Encode(req.SARIF)
	if err != nil {
		return UploadResult{}, err
	}
	analysis := &github.SarifAnalysis{
		CommitSHA: github.String(req.CommitSHA),
		Ref:       github.String(req.Ref),
		Sarif:     github.String(enc),
		ToolName:  github.String(req.ToolName),
	}
	if req.CheckoutURI != "" {
		analysis.CheckoutURI = github.String(req.CheckoutURI)
	}
	if !req.StartedAt.IsZero() {
		analysis.StartedAt = &github.Timestamp{Time: req.StartedAt}
	}
	id, _, err := u.Client.CodeScanning.UploadSarif(ctx, u.Owner, u.Repo, analysis)
	if err != nil {
		return UploadResult{}, u.explain(err)
	}
	if id == nil || id.GetID() == "" {
		return UploadResult{}, &UploadError{Kind: UploadRejected, Message: "code scanning accepted the upload but returned no id to follow"}
	}
	return u.poll(ctx, id.GetID())
}

// sarifStatus is GET .../code-scanning/sarifs/{id}; go-github v60's
// SARIFUpload lacks the errors field, so the request is decoded here.
type sarifStatus struct {
	ProcessingStatus string   `json:"processing_status"`
	AnalysesURL      string   `json:"analyses_url"`
	Errors           []string `json:"errors"`
}

func (u *Uploader) poll(ctx context.Context, id string) (UploadResult, error) {
	interval, timeout := u.PollInterval, u.PollTimeout
	if interval <= 0 {
		interval = 5 * time.Second
	}
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	res := UploadResult{ID: id, Status: "pending"}
	deadline := time.Now().Add(timeout)
	for {
		req, err := u.Client.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/code-scanning/sarifs/%s", u.Owner, u.Repo, id), nil)
		if err != nil {
			return res, err
		}
		var st sarifStatus
		_, err = u.Client.Do(ctx, req, &st)
		var er *github.ErrorResponse
		switch {
		case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound:
			// Right after the upload the id may not be known yet.
		case err != nil:
			return res, u.explain(err)
		default:
			res.AnalysesURL = st.AnalysesURL
			switch st.ProcessingStatus {
			case "complete":
				res.Status = "complete"
				return res, nil
			case "failed":
				msg := "code scanning could not process the SARIF log"
				if len(st.Errors) > 0 {
					msg += ": " + strings.Join(st.Errors, "; ")
				}
				return res, &UploadError{Kind: UploadProcessingFailed, Message: msg}
			}
		}
		if time.Now().After(deadline) {
			return res, nil // still pending: not a failure of the upload
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, ctx.Err()
		case <-t.C:
		}
	}
}

// explain turns an API error into the plain message for its known trap.
func (u *Uploader) explain(err error) error {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		var rl *github.RateLimitError
		if errors.As(err, &rl) {
			return &UploadError{Kind: UploadRejected, Status: http.StatusForbidden, Message: "the GitHub API rate limit is exhausted: " + rl.Message, Err: err}
		}
		return &UploadError{Kind: UploadUnreachable, Message: "could not reach the GitHub API: " + err.Error(), Err: err}
	}
	code := er.Response.StatusCode
	detail := er.Message
	for _, e := range er.Errors {
		if e.Message != "" {
			detail += "; " + e.Message
		}
	}
	repo := u.Owner + "/" + u.Repo
	lower := strings.ToLower(detail)
	ue := &UploadError{Status: code, Err: err}
	switch {
	case code == http.StatusForbidden && strings.Contains(lower, "resource not accessible by integration"):
		ue.Kind = UploadReadOnlyToken
		ue.Message = fmt.Sprintf("the token may not write code scanning results to %s (HTTP 403: %s). Give the job `permissions: security-events: write`; "+
			"a pull request from a fork always gets a read-only token, so upload from a workflow_run job instead (see examples/github/)", repo, detail)
	case code == http.StatusForbidden:
		ue.Kind = UploadNotEnabled
		ue.Message = fmt.Sprintf("code scanning is not enabled for %s, or the repository is private without GitHub Advanced Security / Code Security (HTTP 403: %s). "+
			"Enable it under Settings → Code security, or set upload-sarif: false", repo, detail)
	case code == http.StatusNotFound:
		ue.Kind = UploadNotFound
		ue.Message = fmt.Sprintf("code scanning is not available for %s with this token (HTTP 404: %s): the repository is private without GitHub Advanced Security, "+
			"or the token cannot see it", repo, detail)
	case code == http.StatusRequestEntityTooLarge:
		ue.Kind = UploadTooLarge
		ue.Message = fmt.Sprintf("code scanning refused the SARIF log as too large (HTTP 413: %s); it accepts at most 10 MB gzip-compressed and %d results per run: "+
			"narrow the path input or raise fail-on", detail, MaxResultsPerRun)
	case code == http.StatusUnprocessableEntity && strings.Contains(lower, "categor"):
		ue.Kind = UploadDuplicateCategory
		ue.Message = fmt.Sprintf("code scanning refused the upload because runs share a category (HTTP 422: %s): give each analysis its own category input", detail)
	case code == http.StatusUnprocessableEntity:
		ue.Kind = UploadRejected
		ue.Message = fmt.Sprintf("code scanning rejected the SARIF log (HTTP 422: %s)", detail)
	default:
		ue.Kind = UploadRejected
		ue.Message = fmt.Sprintf("code scanning upload failed (HTTP %d: %s)", code, detail)
	}
	return ue
}
