// Package registry is a small client for the MLflow REST API calls the
// receiver needs: model versions, tags, aliases, stages, searches, webhooks
// and the mlflow-artifacts proxy. It reads MLflow's own client settings
// (MLFLOW_TRACKING_URI, _USERNAME/_PASSWORD, _TOKEN, TLS options) and
// retries 429, 5xx and network errors with exponential backoff.
package registry

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is how to reach one MLflow tracking server.
type Config struct {
	// TrackingURI is the server's base URL (http or https).
	TrackingURI string
	// Username and Password enable basic auth (MLflow's basic-auth app);
	// they win over Token, as in MLflow's own client.
	Username, Password string
	// Token is sent as a bearer token (OIDC proxies, Databricks).
	Token string
	// InsecureTLS skips certificate verification (MLFLOW_TRACKING_INSECURE_TLS).
	InsecureTLS bool
	// ServerCertPath is a CA bundle (MLFLOW_TRACKING_SERVER_CERT_PATH).
	ServerCertPath string
	// ClientCertPath is a PEM holding the client certificate and key for
	// mutual TLS (MLFLOW_TRACKING_CLIENT_CERT_PATH).
	ClientCertPath string
	// Workspace selects an MLflow workspace (X-MLFLOW-WORKSPACE header).
	Workspace string
	// MaxRetries is how often a failed request is retried (default 5).
	MaxRetries int
	// Backoff is the first retry delay, doubled each time (default 500 ms,
	// capped at 30 s, with jitter).
	Backoff time.Duration
	// Timeout bounds one request's headers (default 120 s).
	Timeout time.Duration
}

// ConfigFromEnv reads MLflow's client environment variables. DATABRICKS_HOST
// and DATABRICKS_TOKEN are used when MLFLOW_TRACKING_URI is unset or
// "databricks".
func ConfigFromEnv(getenv func(string) string) Config {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := Config{
		TrackingURI:    getenv("MLFLOW_TRACKING_URI"),
		Username:       getenv("MLFLOW_TRACKING_USERNAME"),
		Password:       getenv("MLFLOW_TRACKING_PASSWORD"),
		Token:          getenv("MLFLOW_TRACKING_TOKEN"),
		ServerCertPath: getenv("MLFLOW_TRACKING_SERVER_CERT_PATH"),
		ClientCertPath: getenv("MLFLOW_TRACKING_CLIENT_CERT_PATH"),
		Workspace:      getenv("MLFLOW_WORKSPACE"),
	}
	c.InsecureTLS, _ = strconv.ParseBool(getenv("MLFLOW_TRACKING_INSECURE_TLS"))
	if (c.TrackingURI == "" || c.TrackingURI == "databricks") && getenv("DATABRICKS_HOST") != "" {
		c.TrackingURI = getenv("DATABRICKS_HOST")
		if c.Token == "" {
			c.Token = getenv("DATABRICKS_TOKEN")
		}
	}
	if n, err := strconv.Atoi(getenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES")); err == nil && n >= 0 {
		c.MaxRetries = n
	}
	if s, err := strconv.Atoi(getenv("MLFLOW_HTTP_REQUEST_TIMEOUT")); err == nil && s > 0 {
		c.Timeout = time.Duration(s) * time.Second
	}
	return c
}

// Client talks to one MLflow server. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	cfg     Config
	http    *http.Client
	retries int
	backoff time.Duration
}

// New builds a client.
func New(cfg Config) (*Client, error) {
	if cfg.TrackingURI == "" {
		return nil, errors.New("no MLflow server: set MLFLOW_TRACKING_URI")
	}
	u, err := url.Parse(strings.TrimRight(cfg.TrackingURI, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("MLFLOW_TRACKING_URI %q is not an http(s) URL", cfg.TrackingURI)
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureTLS} //nolint:gosec // opt-in, MLflow's own switch
	if cfg.ServerCertPath != "" {
		pem, err := os.ReadFile(cfg.ServerCertPath)
		if err != nil {
			return nil, fmt.Errorf("MLFLOW_TRACKING_SERVER_CERT_PATH: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("MLFLOW_TRACKING_SERVER_CERT_PATH %s holds no PEM certificate", cfg.ServerCertPath)
		}
		tlsCfg.RootCAs = pool
	}
	if cfg.ClientCertPath != "" {
		pem, err := os.ReadFile(cfg.ClientCertPath)
		if err != nil {
			return nil, fmt.Errorf("MLFLOW_TRACKING_CLIENT_CERT_PATH: %w", err)
		}
		cert, err := tls.X509KeyPair(pem, pem)
		if err != nil {
			return nil, fmt.Errorf("MLFLOW_TRACKING_CLIENT_CERT_PATH must hold the certificate and its key: %w", err)
		}
		tlsCfg.Certificates = []tls.Certificate{cert}
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 120 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	tr.ResponseHeaderTimeout = timeout
	tr.MaxIdleConnsPerHost = 16
	retries := cfg.MaxRetries
	if retries == 0 {
		retries = 5
	}
	if retries < 0 {
		retries = 0
	}
	backoff := cfg.Backoff
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	return &Client{base: u, cfg: cfg, http: &http.Client{Transport: tr}, retries: retries, backoff: backoff}, nil
}

// Base returns the tracking URI.
func (c *Client) Base() string { return c.base.String() }

// APIError is an MLflow error answer.
type APIError struct {
	Status  int
	Code    string `json:"error_code"`
	Message string `json:"message"`
	Op      string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: MLflow answered %d %s: %s", e.Op, e.Status, e.Code, e.Message)
}

// IsNotFound reports whether err is MLflow's RESOURCE_DOES_NOT_EXIST.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Code == "RESOURCE_DOES_NOT_EXIST")
}

// Retryable reports whether a failed call may succeed later.
func Retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return retryStatus(ae.Status)
	}
	return err != nil && !errors.Is(err, context.Canceled)
}

func retryStatus(s int) bool {
	return s == http.StatusTooManyRequests || s == http.StatusRequestTimeout || s >= 500
}

func (c *Client) url(path string, q url.Values) string {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = q.Encode()
	return u.String()
}

func (c *Client) authorize(req *http.Request) {
	switch {
	case c.cfg.Username != "" && c.cfg.Password != "":
		req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	case c.cfg.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	if c.cfg.Workspace != "" {
		req.Header.Set("X-MLFLOW-WORKSPACE", c.cfg.Workspace)
	}
	req.Header.Set("User-Agent", "modelgate-mlflow")
}

// send performs one request with retries and returns the response of the
// first attempt that is not retryable; the caller closes its body.
func (c *Client) send(ctx context.Context, op, method, path string, q url.Values, body []byte) (*http.Response, error) {
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, c.delay(attempt)); err != nil {
				return nil, fmt.Errorf("%s: %w (last error: %v)", op, err, lastErr)
			}
		}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.url(path, q), rd)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		c.authorize(req)
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s: %w", op, ctx.Err())
			}
			lastErr = err
			if attempt < c.retries && retryNetErr(err) {
				continue
			}
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if resp.StatusCode >= 300 {
			ae := &APIError{Status: resp.StatusCode, Op: op}
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if json.Unmarshal(b, ae) != nil || ae.Message == "" {
				ae.Message = strings.TrimSpace(string(b))
			}
			ae.Status = resp.StatusCode
			lastErr = ae
			if attempt < c.retries && retryStatus(resp.StatusCode) {
				continue
			}
			return nil, ae
		}
		return resp, nil
	}
}

func retryNetErr(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return !errors.Is(err, context.Canceled)
}

func (c *Client) delay(attempt int) time.Duration {
	d := c.backoff << (attempt - 1)
	if d > 30*time.Second || d <= 0 {
		d = 30 * time.Second
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// call sends a JSON request and decodes a JSON answer into out (nil: discard).
func (c *Client) call(ctx context.Context, op, method, path string, q url.Values, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	resp, err := c.send(ctx, op, method, path, q, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out); err != nil {
		return fmt.Errorf("%s: decoding MLflow's answer: %w", op, err)
	}
	return nil
}

// Tag is a key/value pair as MLflow sends it.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ModelVersion is the registry's model_version object.
type ModelVersion struct {
	Name                 string   `json:"name"`
	Version              string   `json:"version"`
	CreationTimestamp    int64    `json:"creation_timestamp,omitempty"`
	LastUpdatedTimestamp int64    `json:"last_updated_timestamp,omitempty"`
	CurrentStage         string   `json:"current_stage,omitempty"`
	Source               string   `json:"source,omitempty"`
	RunID                string   `json:"run_id,omitempty"`
	ModelID              string   `json:"model_id,omitempty"`
	Status               string   `json:"status,omitempty"`
	StatusMessage        string   `json:"status_message,omitempty"`
	Tags                 []Tag    `json:"tags,omitempty"`
	Aliases              []string `json:"aliases,omitempty"`
}

// Tag returns a tag's value.
func (m *ModelVersion) Tag(key string) (string, bool) {
	for _, t := range m.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// Version statuses.
const (
	StatusPending = "PENDING_REGISTRATION"
	StatusFailed  = "FAILED_REGISTRATION"
	StatusReady   = "READY"
)

// AliasTarget is one alias of a registered model.
type AliasTarget struct {
	Alias   string `json:"alias"`
	Version string `json:"version"`
}

// RegisteredModel is the registry's registered_model object.
type RegisteredModel struct {
	Name    string        `json:"name"`
	Aliases []AliasTarget `json:"aliases,omitempty"`
}

const api = "/api/2.0/mlflow"

// GetModelVersion fetches one version.
func (c *Client) GetModelVersion(ctx context.Context, name, version string) (*ModelVersion, error) {
	var out struct {
		MV ModelVersion `json:"model_version"`
	}
	err := c.call(ctx, "get model version", http.MethodGet, api+"/model-versions/get", url.Values{"name": {name}, "version": {version}}, nil, &out)
	if err != nil {
		return nil, err
	}
	return &out.MV, nil
}

// GetVersionByAlias resolves NAME@ALIAS.
func (c *Client) GetVersionByAlias(ctx context.Context, name, alias string) (*ModelVersion, error) {
	var out struct {
		MV ModelVersion `json:"model_version"`
	}
	err := c.call(ctx, "get version by alias", http.MethodGet, api+"/registered-models/alias", url.Values{"name": {name}, "alias": {alias}}, nil, &out)
	if err != nil {
		return nil, err
	}
	return &out.MV, nil
}

// GetDownloadURI returns where a version's artifacts live.
func (c *Client) GetDownloadURI(ctx context.Context, name, version string) (string, error) {
	var out struct {
		URI string `json:"artifact_uri"`
	}
	err := c.call(ctx, "get download uri", http.MethodGet, api+"/model-versions/get-download-uri", url.Values{"name": {name}, "version": {version}}, nil, &out)
	return out.URI, err
}

// SetTag sets a model-version tag.
func (c *Client) SetTag(ctx context.Context, name, version, key, value string) error {
	return c.call(ctx, "set tag "+key, http.MethodPost, api+"/model-versions/set-tag", nil,
		map[string]string{"name": name, "version": version, "key": key, "value": value}, nil)
}

// DeleteTag removes a model-version tag (absent is fine).
func (c *Client) DeleteTag(ctx context.Context, name, version, key string) error {
	err := c.call(ctx, "delete tag "+key, http.MethodDelete, api+"/model-versions/delete-tag", nil,
		map[string]string{"name": name, "version": version, "key": key}, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// SetAlias points an alias at a version.
func (c *Client) SetAlias(ctx context.Context, name, alias, version string) error {
	return c.call(ctx, "set alias "+alias, http.MethodPost, api+"/registered-models/alias", nil,
		map[string]string{"name": name, "alias": alias, "version": version}, nil)
}

// DeleteAlias removes an alias (absent is fine: a retry after success).
func (c *Client) DeleteAlias(ctx context.Context, name, alias string) error {
	err := c.call(ctx, "delete alias "+alias, http.MethodDelete, api+"/registered-models/alias", nil,
		map[string]string{"name": name, "alias": alias}, nil)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// TransitionStage moves a version to a stage. databricks selects the
// Databricks workspace-registry route, which also takes a comment.
func (c *Client) TransitionStage(ctx context.Context, name, version, stage, comment string, databricks bool) error {
	path := api + "/model-versions/transition-stage"
	body := map[string]any{"name": name, "version": version, "stage": stage, "archive_existing_versions": false}
	if databricks {
		path = api + "/databricks/model-versions/transition-stage"
		body["comment"] = comment
	}
	return c.call(ctx, "transition stage", http.MethodPost, path, nil, body, nil)
}

// RejectTransitionRequest rejects a Databricks stage-transition request.
func (c *Client) RejectTransitionRequest(ctx context.Context, name, version, stage, comment string) error {
	return c.call(ctx, "reject transition request", http.MethodPost, api+"/transition-requests/reject", nil,
		map[string]string{"name": name, "version": version, "stage": stage, "comment": comment}, nil)
}

// SearchModelVersions returns one page of versions; filter is MLflow's
// filter string ("" for all).
func (c *Client) SearchModelVersions(ctx context.Context, filter, pageToken string) ([]ModelVersion, string, error) {
	q := url.Values{"max_results": {"200"}}
	if filter != "" {
		q.Set("filter", filter)
	}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	var out struct {
		MVs  []ModelVersion `json:"model_versions"`
		Next string         `json:"next_page_token"`
	}
	err := c.call(ctx, "search model versions", http.MethodGet, api+"/model-versions/search", q, nil, &out)
	return out.MVs, out.Next, err
}

// SearchRegisteredModels returns one page of registered models.
func (c *Client) SearchRegisteredModels(ctx context.Context, filter, pageToken string) ([]RegisteredModel, string, error) {
	q := url.Values{"max_results": {"200"}}
	if filter != "" {
		q.Set("filter", filter)
	}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	var out struct {
		RMs  []RegisteredModel `json:"registered_models"`
		Next string            `json:"next_page_token"`
	}
	err := c.call(ctx, "search registered models", http.MethodGet, api+"/registered-models/search", q, nil, &out)
	return out.RMs, out.Next, err
}

// WebhookEvent is an event subscription; MLflow's REST JSON uses the enum
// names, upper case.
type WebhookEvent struct {
	Entity string `json:"entity"`
	Action string `json:"action"`
}

// ParseWebhookEvent turns "model_version.created" into its wire form.
func ParseWebhookEvent(s string) (WebhookEvent, error) {
	entity, action, ok := strings.Cut(s, ".")
	if !ok || entity == "" || action == "" {
		return WebhookEvent{}, fmt.Errorf("event %q is not entity.action", s)
	}
	return WebhookEvent{Entity: strings.ToUpper(entity), Action: strings.ToUpper(action)}, nil
}

// Webhook is a created webhook (secret never echoed).
type Webhook struct {
	ID     string `json:"webhook_id"`
	Name   string `json:"name"`
	URL    string `json:"url"`
	Status string `json:"status"`
}

// CreateWebhook registers a webhook.
func (c *Client) CreateWebhook(ctx context.Context, name, target, secret, description string, events []WebhookEvent) (*Webhook, error) {
	var out struct {
		W Webhook `json:"webhook"`
	}
	err := c.call(ctx, "create webhook", http.MethodPost, api+"/webhooks", nil, map[string]any{
		"name": name, "url": target, "secret": secret, "description": description, "events": events, "status": "ACTIVE",
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out.W, nil
}

// ArtifactInfo is one entry of an artifact listing.
type ArtifactInfo struct {
	Path     string `json:"path"`
	IsDir    bool   `json:"is_dir"`
	FileSize int64  `json:"file_size"`
}

// ListProxyArtifacts lists one directory through the mlflow-artifacts proxy;
// rel is relative to the proxy's artifact root. MLflow answers with
// basenames only.
func (c *Client) ListProxyArtifacts(ctx context.Context, rel string) ([]ArtifactInfo, error) {
	var out struct {
		Files []rawArtifactInfo `json:"files"`
	}
	err := c.call(ctx, "list artifacts "+rel, http.MethodGet, "/api/2.0/mlflow-artifacts/artifacts", url.Values{"path": {rel}}, nil, &out)
	if err != nil {
		return nil, err
	}
	infos := make([]ArtifactInfo, 0, len(out.Files))
	for _, f := range out.Files {
		infos = append(infos, f.info())
	}
	return infos, nil
}

// rawArtifactInfo accepts file_size as a number or a string (proto JSON
// renders int64 as a string).
type rawArtifactInfo struct {
	Path     string          `json:"path"`
	IsDir    bool            `json:"is_dir"`
	FileSize json.RawMessage `json:"file_size"`
}

func (r rawArtifactInfo) info() ArtifactInfo {
	s := strings.Trim(string(r.FileSize), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		n = -1
	}
	return ArtifactInfo{Path: r.Path, IsDir: r.IsDir, FileSize: n}
}

// OpenProxyArtifact streams one file from the mlflow-artifacts proxy. The
// request is retried until the response starts; the body is streamed, never
// buffered.
func (c *Client) OpenProxyArtifact(ctx context.Context, rel string) (io.ReadCloser, error) {
	resp, err := c.send(ctx, "download artifact "+rel, http.MethodGet, "/api/2.0/mlflow-artifacts/artifacts/"+escapePath(rel), nil, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ListRunArtifacts lists a run's artifacts through the tracking API; paths
// in the answer are relative to the run's artifact root.
func (c *Client) ListRunArtifacts(ctx context.Context, runID, rel string) ([]ArtifactInfo, error) {
	var infos []ArtifactInfo
	token := ""
	for {
		q := url.Values{"run_id": {runID}, "path": {rel}}
		if token != "" {
			q.Set("page_token", token)
		}
		var out struct {
			Files []rawArtifactInfo `json:"files"`
			Next  string            `json:"next_page_token"`
		}
		if err := c.call(ctx, "list run artifacts", http.MethodGet, api+"/artifacts/list", q, nil, &out); err != nil {
			return nil, err
		}
		for _, f := range out.Files {
			infos = append(infos, f.info())
		}
		if out.Next == "" {
			return infos, nil
		}
		token = out.Next
	}
}

// OpenRunArtifact streams a run artifact through the server's get-artifact route.
func (c *Client) OpenRunArtifact(ctx context.Context, runID, rel string) (io.ReadCloser, error) {
	resp, err := c.send(ctx, "download run artifact "+rel, http.MethodGet, "/get-artifact", url.Values{"run_id": {runID}, "path": {rel}}, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// ListLoggedModelArtifacts lists a directory of an MLflow 3 logged model
// (source models:/<model_id>).
func (c *Client) ListLoggedModelArtifacts(ctx context.Context, modelID, rel string) ([]ArtifactInfo, error) {
	var infos []ArtifactInfo
	token := ""
	for {
		q := url.Values{"artifact_directory_path": {rel}}
		if token != "" {
			q.Set("page_token", token)
		}
		var out struct {
			Files []rawArtifactInfo `json:"files"`
			Next  string            `json:"next_page_token"`
		}
		if err := c.call(ctx, "list logged model artifacts", http.MethodGet, api+"/logged-models/"+url.PathEscape(modelID)+"/artifacts/directories", q, nil, &out); err != nil {
			return nil, err
		}
		for _, f := range out.Files {
			infos = append(infos, f.info())
		}
		if out.Next == "" {
			return infos, nil
		}
		token = out.Next
	}
}

// OpenLoggedModelArtifact streams a logged model's file (MLflow serves
// this route under /ajax-api only).
func (c *Client) OpenLoggedModelArtifact(ctx context.Context, modelID, rel string) (io.ReadCloser, error) {
	resp, err := c.send(ctx, "download logged model artifact "+rel, http.MethodGet,
		"/ajax-api/2.0/mlflow/logged-models/"+url.PathEscape(modelID)+"/artifacts/files", url.Values{"artifact_file_path": {rel}}, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
