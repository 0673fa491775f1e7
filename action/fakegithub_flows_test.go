package action

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

// apiRunner is a fake runner wired to the fake API with a token.
func apiRunner(t *testing.T, api string) *fakeRunner {
	f := newFakeRunner(t)
	f.env["GITHUB_API_URL"] = api
	f.input("token", "ghs_test")
	return f
}

func runFast(f *fakeRunner) Result {
	return Run(context.Background(), Env{Getenv: f.getenv, Stdout: &f.stdout, PollInterval: time.Millisecond, PollTimeout: 5 * time.Second})
}

func TestFakeGitHubAPI_UploadSarif(t *testing.T) {
	gh, srv := newFakeGitHub(t)
	gh.pendingPolls = 2
	f := apiRunner(t, srv.URL)
	f.copyModel(evilFixture, "models/evil.pkl")
	sha := strings.Repeat("e", 40)
	f.event("push", `{"before": "`+strings.Repeat("1", 40)+`", "after": "`+sha+`"}`)
	f.env["GITHUB_REF"] = "refs/heads/main"
	f.input("category", "models")
	res := runFast(f)
	if res.ExitCode != 1 || res.UploadErr != nil {
		t.Fatalf("exit %d, upload error %v\n%s", res.ExitCode, res.UploadErr, f.stdout.String())
	}
	if len(gh.uploads) != 1 {
		t.Fatalf("%d uploads", len(gh.uploads))
	}
	produced, err := os.ReadFile(f.outputs()["sarif-file"])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gh.sarifs[0], produced) {
		t.Errorf("decoded SARIF differs from the file the action wrote")
	}
	up := gh.uploads[0]
	for k, want := range map[string]string{"commit_sha": sha, "ref": "refs/heads/main", "tool_name": "modelgate", "checkout_uri": "file://" + f.workspace} {
		if up[k] != want {
			t.Errorf("upload %s = %v, want %q", k, up[k], want)
		}
	}
	if _, err := time.Parse(time.RFC3339, up["started_at"].(string)); err != nil {
		t.Errorf("started_at %v: %v", up["started_at"], err)
	}
	if !strings.Contains(string(gh.sarifs[0]), `"id": "models/"`) {
		t.Errorf("the category is not the run's automationDetails.id")
	}
	if gh.polls != 3 || !strings.Contains(f.summaryText(), "uploaded and processed (sarif id sarif-1)") {
		t.Errorf("polls %d, summary:\n%s", gh.polls, f.summaryText())
	}
}

// Each known trap gives its own plain message.
func TestFakeGitHubAPI_UploadErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		message    string
		failErrors []string
		kind       string
		says       string
	}{
		{name: "fork or missing permission (403)", status: 403, message: "Resource not accessible by integration", kind: UploadReadOnlyToken, says: "security-events: write"},
		{name: "code scanning not enabled (403)", status: 403, message: "Advanced Security must be enabled for this repository to use code scanning.", kind: UploadNotEnabled, says: "not enabled"},
		{name: "private without GHAS (404)", status: 404, message: "Not Found", kind: UploadNotFound, says: "repository is private without GitHub Advanced Security"},
		{name: "too large (413)", status: 413, message: "Payload Too Large", kind: UploadTooLarge, says: "10 MB gzip-compressed"},
		{name: "invalid (422)", status: 422, message: "Invalid request. ref does not match", kind: UploadRejected, says: "rejected the SARIF log (HTTP 422"},
		{name: "duplicate category (422)", status: 422, message: "multiple runs with the same category in one SARIF upload are not supported", kind: UploadDuplicateCategory, says: "own category"},
		{name: "processing failed", failErrors: []string{"invalid security severity value, is not a number"}, kind: UploadProcessingFailed, says: "could not process the SARIF log: invalid security severity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gh, srv := newFakeGitHub(t)
			gh.uploadStatus, gh.uploadMessage, gh.failErrors = tt.status, tt.message, tt.failErrors
			u := newUploader(t, srv.URL)
			_, err := u.Upload(context.Background(), UploadRequest{SARIF: []byte(oneRun("modelgate/")), CommitSHA: strings.Repeat("a", 40), Ref: "refs/heads/main", ToolName: "modelgate"})
			var ue *UploadError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want an *UploadError", err)
			}
			if ue.Kind != tt.kind || !strings.Contains(ue.Message, tt.says) {
				t.Errorf("kind %s, message %q; want %s saying %q", ue.Kind, ue.Message, tt.kind, tt.says)
			}
		})
	}
}

func newUploader(t *testing.T, api string) *Uploader {
	c := github.NewClient(nil).WithAuthToken("ghs_test")
	u, err := c.BaseURL.Parse(api + "/")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return &Uploader{Client: c, Owner: "octo", Repo: "models", PollInterval: time.Millisecond, PollTimeout: 5 * time.Second}
}

func oneRun(category string) string {
	return `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "modelgate"}}, "automationDetails": {"id": "` + category + `"}, "results": []}]}`
}

// The server-side 422 for a duplicate category is real; the action also
// refuses such a log itself, before sending, and says why.
func TestFakeGitHubAPI_DuplicateCategoryRefusedBeforeUpload(t *testing.T) {
	gh, srv := newFakeGitHub(t)
	u := newUploader(t, srv.URL)
	two := `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "modelgate"}}, "automationDetails": {"id": "models/"}},` +
		`{"tool": {"driver": {"name": "modelgate"}}, "automationDetails": {"id": "models/run2"}}]}`
	_, err := u.Upload(context.Background(), UploadRequest{SARIF: []byte(two), CommitSHA: strings.Repeat("a", 40), Ref: "refs/heads/main"})
	var ue *UploadError
	if !errors.As(err, &ue) || ue.Kind != UploadDuplicateCategory || !strings.Contains(ue.Message, "July 2025") {
		t.Fatalf("err = %v", err)
	}
	if len(gh.requests) != 0 {
		t.Errorf("sent %v", gh.requests)
	}
}

func TestFakeGitHubAPI_LimitsCheckedBeforeUpload(t *testing.T) {
	gh, srv := newFakeGitHub(t)
	u := newUploader(t, srv.URL)
	var many strings.Builder
	many.WriteString(`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "modelgate"}}, "results": [`)
	for i := range MaxResultsPerRun + 1 {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`{"ruleId": "MG101"}`)
	}
	many.WriteString(`]}]}`)
	// Incompressible padding: gzip cannot bring it under 10 MB.
	pad := make([]byte, 15<<20)
	seed := uint64(1)
	for i := range pad {
		seed = seed*6364136223846793005 + 1442695040888963407
		pad[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[seed>>58]
	}
	big := `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "modelgate"}}, "properties": {"pad": "` + string(pad) + `"}}]}`
	for _, tt := range []struct{ name, log, kind, says string }{
		{"more than 25,000 results", many.String(), UploadTooManyResults, "at most 25000 per run"},
		{"over 10 MB compressed", big, UploadTooLarge, "at most 10 MB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := u.Upload(context.Background(), UploadRequest{SARIF: []byte(tt.log), CommitSHA: strings.Repeat("a", 40), Ref: "refs/heads/main"})
			var ue *UploadError
			if !errors.As(err, &ue) || ue.Kind != tt.kind || !strings.Contains(ue.Message, tt.says) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	if len(gh.requests) != 0 {
		t.Errorf("sent %v", gh.requests)
	}
}

// upload-sarif: auto skips a repository that cannot take uploads with a
// notice and still gates; upload-sarif: true fails the step.
func TestFakeGitHubAPI_UploadModes(t *testing.T) {
	for _, tt := range []struct {
		mode     string
		exit     int
		command  string
		wantText string
	}{
		{UploadAuto, 0, "notice", "SARIF upload skipped: code scanning is not enabled"},
		{UploadTrue, 2, "error", "SARIF upload failed: code scanning is not enabled"},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			gh, srv := newFakeGitHub(t)
			gh.uploadStatus, gh.uploadMessage = 403, "Code scanning is not enabled for this repository."
			f := apiRunner(t, srv.URL)
			f.copyModel(cleanFixture, "models/clean.pkl")
			f.input("upload-sarif", tt.mode)
			res := runFast(f)
			if res.ExitCode != tt.exit {
				t.Errorf("exit %d, want %d", res.ExitCode, tt.exit)
			}
			if out := f.outputs(); out["exit-code"] != "0" || out["verdict"] != "pass" {
				t.Errorf("the scan's outputs changed: %v", out)
			}
			found := false
			for _, c := range f.commands(tt.command) {
				found = found || strings.Contains(c, tt.wantText)
			}
			if !found {
				t.Errorf("no %s saying %q:\n%s", tt.command, tt.wantText, f.stdout.String())
			}
		})
	}
}

func prEvent(f *fakeRunner, headRepo string) {
	f.event("pull_request", `{"number": 7, "pull_request": {"number": 7,
		"base": {"sha": "`+strings.Repeat("b", 40)+`", "repo": {"full_name": "octo/models"}},
		"head": {"sha": "`+strings.Repeat("c", 40)+`", "repo": {"full_name": "`+headRepo+`"}}}}`)
	f.env["GITHUB_REF"] = "refs/pull/7/merge"
}

func TestFakeGitHubAPI_StickyComment(t *testing.T) {
	gh, srv := newFakeGitHub(t)
	// 120 comments first, so the action must page to find its own; one
	// of them is a user quoting the marker, which must stay untouched.
	for i := range 120 {
		body := "lgtm"
		if i == 50 {
			body = Marker("modelgate") + "\nquoted by a user"
		}
		gh.comments = append(gh.comments, fakeComment{ID: int64(i + 1), Body: body, Login: "alice", Type: "User"})
	}
	runOnce := func(fixture string) Result {
		f := apiRunner(t, srv.URL)
		f.copyModel(fixture, "models/m.pkl")
		prEvent(f, "octo/models")
		f.env["GITHUB_RUN_ID"] = "42"
		f.input("comment", "on-failure")
		f.input("upload-sarif", "false")
		return runFast(f)
	}
	res := runOnce(evilFixture)
	if res.ExitCode != 1 || !strings.HasPrefix(res.Comment, "https://github.com/octo/models/pull/7#issuecomment-") {
		t.Fatalf("exit %d, comment %q", res.ExitCode, res.Comment)
	}
	first := res.Comment
	res = runOnce(evilFixture)
	if res.Comment != first {
		t.Errorf("second run commented at %s, want the first comment %s edited", res.Comment, first)
	}
	res = runOnce(cleanFixture) // passes now: the old comment says so
	if res.ExitCode != 0 || res.Comment != first {
		t.Errorf("exit %d, comment %q", res.ExitCode, res.Comment)
	}
	var ours []fakeComment
	for _, c := range gh.comments {
		if c.Type == "Bot" {
			ours = append(ours, c)
		}
	}
	if len(ours) != 1 || !strings.HasPrefix(ours[0].Body, Marker("modelgate")) || !strings.Contains(ours[0].Body, "✅ modelgate passed") ||
		!strings.Contains(ours[0].Body, "/actions/runs/42") {
		t.Errorf("bot comments: %+v", ours)
	}
	if gh.comments[50].Body != Marker("modelgate")+"\nquoted by a user" {
		t.Errorf("the user's comment was edited")
	}
}

// A clean pull request with comment: on-failure starts no thread.
func TestFakeGitHubAPI_NoCommentWhenPassing(t *testing.T) {
	gh, srv := newFakeGitHub(t)
	f := apiRunner(t, srv.URL)
	f.copyModel(cleanFixture, "models/m.pkl")
	prEvent(f, "octo/models")
	f.input("comment", "on-failure")
	f.input("upload-sarif", "false")
	if res := runFast(f); res.ExitCode != 0 || res.Comment != "" || len(gh.comments) != 0 {
		t.Errorf("exit %d, comment %q, comments %d", res.ExitCode, res.Comment, len(gh.comments))
	}
}

// A fork's token is read-only: no upload, no comment, no request at all,
// one notice each, and the gate still fails.
func TestFakeGitHubAPI_ForkPullRequestSkipsWrites(t *testing.T) {
	gh, srv := newFakeGitHub(t)
	f := apiRunner(t, srv.URL)
	f.copyModel(evilFixture, "models/m.pkl")
	prEvent(f, "mallory/models")
	f.input("comment", "always")
	res := runFast(f)
	if res.ExitCode != 1 {
		t.Errorf("exit %d", res.ExitCode)
	}
	if len(gh.requests) != 0 {
		t.Errorf("requests from a fork's run: %v", gh.requests)
	}
	notices := strings.Join(f.commands("notice"), "\n")
	if !strings.Contains(notices, "SARIF not uploaded: a pull request from a fork") || !strings.Contains(notices, "No pull-request comment: a pull request from a fork") {
		t.Errorf("notices:\n%s", notices)
	}
}
