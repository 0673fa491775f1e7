package action

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeGitHub implements the REST endpoints the action calls, as GitHub
// documents them (docs.github.com/rest/code-scanning, /rest/issues/comments):
// the SARIF upload (202 with an id; gzip+base64 body; 413 over 10 MB
// compressed; 422 for two runs with one category), the processing status,
// and issue comments with Link-header pagination. Nothing here is GitHub:
// it is a fake of the wire contract, and the tests are named so.
type fakeGitHub struct {
	t  *testing.T
	mu sync.Mutex

	token string
	// uploadStatus/uploadMessage, when set, answer every upload.
	uploadStatus  int
	uploadMessage string
	// pendingPolls is how often the status is pending before final.
	pendingPolls int
	// failErrors, when set, makes processing fail with these errors.
	failErrors []string

	uploads  []map[string]any
	sarifs   [][]byte // decoded SARIF of each upload
	polls    int
	requests []string

	comments []fakeComment
	nextID   int64
}

type fakeComment struct {
	ID    int64
	Body  string
	Login string
	Type  string
}

func newFakeGitHub(t *testing.T) (*fakeGitHub, *httptest.Server) {
	f := &fakeGitHub{t: t, token: "ghs_test", nextID: 1000}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

var (
	sarifsPath   = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/code-scanning/sarifs$`)
	sarifPath    = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/code-scanning/sarifs/([^/]+)$`)
	issueComment = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$`)
	commentPath  = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$`)
)

func (f *fakeGitHub) reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGitHub) fail(w http.ResponseWriter, code int, msg string) {
	f.reply(w, code, map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		f.fail(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	switch p := r.URL.Path; {
	case r.Method == http.MethodPost && sarifsPath.MatchString(p):
		f.upload(w, r)
	case r.Method == http.MethodGet && sarifPath.MatchString(p):
		f.polls++
		id := sarifPath.FindStringSubmatch(p)[3]
		st := map[string]any{"processing_status": "pending", "analyses_url": "https://api.github.com/repos/octo/models/code-scanning/analyses?sarif_id=" + id}
		if f.polls > f.pendingPolls {
			st["processing_status"] = "complete"
			if f.failErrors != nil {
				st["processing_status"] = "failed"
				st["errors"] = f.failErrors
			}
		}
		f.reply(w, http.StatusOK, st)
	case r.Method == http.MethodGet && issueComment.MatchString(p):
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		if per == 0 {
			per = 30
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page == 0 {
			page = 1
		}
		lo, hi := min((page-1)*per, len(f.comments)), min(page*per, len(f.comments))
		if hi < len(f.comments) {
			next := *r.URL
			q := next.Query()
			q.Set("page", strconv.Itoa(page+1))
			next.RawQuery = q.Encode()
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s>; rel="next"`, r.Host, next.RequestURI()))
		}
		var out []map[string]any
		for _, c := range f.comments[lo:hi] {
			out = append(out, map[string]any{"id": c.ID, "body": c.Body, "user": map[string]any{"login": c.Login, "type": c.Type},
				"html_url": fmt.Sprintf("https://github.com/octo/models/pull/7#issuecomment-%d", c.ID)})
		}
		f.reply(w, http.StatusOK, out)
	case r.Method == http.MethodPost && issueComment.MatchString(p):
		var body struct{ Body string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.nextID++
		c := fakeComment{ID: f.nextID, Body: body.Body, Login: "github-actions[bot]", Type: "Bot"}
		f.comments = append(f.comments, c)
		f.reply(w, http.StatusCreated, map[string]any{"id": c.ID, "body": c.Body, "html_url": fmt.Sprintf("https://github.com/octo/models/pull/7#issuecomment-%d", c.ID)})
	case r.Method == http.MethodPatch && commentPath.MatchString(p):
		id, _ := strconv.ParseInt(commentPath.FindStringSubmatch(p)[3], 10, 64)
		var body struct{ Body string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		for i := range f.comments {
			if f.comments[i].ID == id {
				f.comments[i].Body = body.Body
				f.reply(w, http.StatusOK, map[string]any{"id": id, "body": body.Body, "html_url": fmt.Sprintf("https://github.com/octo/models/pull/7#issuecomment-%d", id)})
				return
			}
		}
		f.fail(w, http.StatusNotFound, "Not Found")
	default:
		f.fail(w, http.StatusNotFound, "Not Found")
	}
}

func (f *fakeGitHub) upload(w http.ResponseWriter, r *http.Request) {
	if f.uploadStatus != 0 {
		f.fail(w, f.uploadStatus, f.uploadMessage)
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.fail(w, http.StatusBadRequest, "Problems parsing JSON")
		return
	}
	for _, k := range []string{"commit_sha", "ref", "sarif"} {
		if s, _ := body[k].(string); s == "" {
			f.fail(w, http.StatusUnprocessableEntity, "Invalid request. "+k+" is required")
			return
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(body["commit_sha"].(string)) {
		f.fail(w, http.StatusUnprocessableEntity, "Invalid request. commit_sha does not match ^[0-9a-fA-F]{40}$")
		return
	}
	if !strings.HasPrefix(body["ref"].(string), "refs/") {
		f.fail(w, http.StatusUnprocessableEntity, "Invalid request. ref does not match ^refs/(heads|tags|pull)/.*$")
		return
	}
	gz, err := base64.StdEncoding.DecodeString(body["sarif"].(string))
	if err != nil {
		f.fail(w, http.StatusBadRequest, "sarif is not base64")
		return
	}
	if len(gz) > MaxSARIFGzipBytes {
		f.fail(w, http.StatusRequestEntityTooLarge, "Payload Too Large")
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		f.fail(w, http.StatusBadRequest, "sarif is not gzip")
		return
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		f.fail(w, http.StatusBadRequest, "sarif is not gzip")
		return
	}
	var doc struct {
		Runs []struct {
			AutomationDetails struct{ ID string } `json:"automationDetails"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		f.fail(w, http.StatusBadRequest, "sarif is not JSON")
		return
	}
	seen := map[string]bool{}
	for _, run := range doc.Runs {
		c := categoryOf(run.AutomationDetails.ID)
		if seen[c] {
			f.fail(w, http.StatusUnprocessableEntity, "multiple runs with the same category "+c+" in one SARIF upload are not supported")
			return
		}
		seen[c] = true
	}
	f.uploads = append(f.uploads, body)
	f.sarifs = append(f.sarifs, raw)
	id := fmt.Sprintf("sarif-%d", len(f.uploads))
	f.reply(w, http.StatusAccepted, map[string]string{"id": id, "url": "https://api.github.com/repos/octo/models/code-scanning/sarifs/" + id})
}
