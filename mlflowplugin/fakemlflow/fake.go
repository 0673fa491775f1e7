// Package fakemlflow is a FAKE of the MLflow tracking server's REST API,
// for tests only: the model-registry calls, the mlflow-artifacts proxy, the
// Databricks transition-stage and transition-request calls, and webhook
// deliveries signed the way MLflow 3 signs them (fire-and-forget, after the
// change, with up to three retries on 429/5xx). It follows the documented
// wire contract (../shared/reference/integration-contracts.md sections 1-2);
// it is not MLflow, and tests using it say so in their names.
package fakemlflow

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelgate/modelgate/mlflowplugin/webhook"
)

// Version is a model version in the fake registry.
type Version struct {
	Name, Version, Source, RunID, Stage string
	Tags                                map[string]string
	Files                               map[string][]byte
	// Disk maps artifact paths to local files streamed from disk by the
	// artifact proxy (large models the fake must not hold in memory).
	Disk        map[string]string
	artifactURI string
	readyAt     time.Time
	failed      bool
	created     time.Time
}

type model struct {
	versions map[string]*Version
	aliases  map[string]string
	next     int
}

// Rejection is a rejected Databricks transition request.
type Rejection struct{ Name, Version, Stage, Comment string }

// Server is the fake.
type Server struct {
	*httptest.Server
	mu sync.Mutex
	// Username/Password or Token, when set, are required on every call.
	Username, Password, Token string
	// DownloadDelay slows each artifact download (crash tests).
	DownloadDelay time.Duration
	models        map[string]*model
	webhookURL    string
	secret        []byte
	downloads     map[string]int
	tagWrites     map[string]int
	rejections    []Rejection
	transitions   []string
	failNext      int
	inflight      int
	webhooks      []map[string]any
	deliveries    sync.WaitGroup
	// DeliveryResults records the status of every delivery attempt.
	deliveryStatus []int
}

// New starts the fake on 127.0.0.1.
func New() *Server {
	s := &Server{models: map[string]*model{}, downloads: map[string]int{}, tagWrites: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// SendWebhooks makes the fake deliver registry events to url, signed with secret.
func (s *Server) SendWebhooks(url string, secret []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookURL, s.secret = url, secret
}

// WaitDeliveries waits for the deliveries sent so far.
func (s *Server) WaitDeliveries() { s.deliveries.Wait() }

// CreateOptions shape a new version.
type CreateOptions struct {
	// Pending keeps the version PENDING_REGISTRATION this long.
	Pending time.Duration
	// Silent sends no model_version.created delivery (a lost delivery).
	Silent bool
	// Stage sets the initial stage (Databricks-style registries).
	Stage string
	// ArtifactURI overrides what get-download-uri answers (default: the
	// version's tree under the mlflow-artifacts proxy). "runs:" makes it
	// runs:/<run_id>/model, served by the run-artifact API.
	ArtifactURI string
	// DiskFiles adds artifacts streamed from local files (artifact path →
	// file), served by the mlflow-artifacts proxy only.
	DiskFiles map[string]string
}

// CreateVersion registers a new version of name holding files and returns
// its version number.
func (s *Server) CreateVersion(name string, files map[string][]byte, o CreateOptions) string {
	s.mu.Lock()
	m := s.models[name]
	if m == nil {
		m = &model{versions: map[string]*Version{}, aliases: map[string]string{}}
		s.models[name] = m
	}
	m.next++
	v := strconv.Itoa(m.next)
	cp := map[string][]byte{}
	for k, b := range files {
		cp[k] = append([]byte(nil), b...)
	}
	stage := o.Stage
	if stage == "" {
		stage = "None"
	}
	runID := fmt.Sprintf("run%04d", m.next)
	m.versions[v] = &Version{Name: name, Version: v, Source: "runs:/" + runID + "/model", RunID: runID, Stage: stage,
		Tags: map[string]string{}, Files: cp, Disk: maps.Clone(o.DiskFiles), readyAt: time.Now().Add(o.Pending), created: time.Now(), artifactURI: o.ArtifactURI}
	switch o.ArtifactURI {
	case "runs:":
		m.versions[v].artifactURI = "runs:/" + runID + "/model"
	case "models:":
		// An MLflow 3 logged model: get-download-uri is not answered and
		// the source names the logged model.
		m.versions[v].artifactURI = "models:"
		m.versions[v].Source = "models:/m-" + runID
	}
	s.mu.Unlock()
	if !o.Silent {
		s.emit("model_version", "created", map[string]any{"name": name, "version": v, "source": "runs:/" + runID + "/model",
			"run_id": runID, "tags": map[string]string{}, "description": nil})
	}
	return v
}

// SetAlias points an alias at a version as a user would (and delivers the event).
func (s *Server) SetAlias(name, alias, version string) {
	s.mu.Lock()
	s.models[name].aliases[alias] = version
	s.mu.Unlock()
	s.emit("model_version_alias", "created", map[string]any{"name": name, "alias": alias, "version": version})
}

// UserSetTag sets a tag as a user would (and delivers the event).
func (s *Server) UserSetTag(name, version, key, value string) {
	s.mu.Lock()
	s.models[name].versions[version].Tags[key] = value
	s.mu.Unlock()
	s.emit("model_version_tag", "set", map[string]any{"name": name, "version": version, "key": key, "value": value})
}

// ReplaceFile changes an artifact after the fact (no event: artifacts are
// not registry objects).
func (s *Server) ReplaceFile(name, version, path string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.models[name].versions[version].Files[path] = append([]byte(nil), b...)
}

// SetStage moves a version to a stage without any check (what a Databricks
// user with permission does).
func (s *Server) SetStage(name, version, stage string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.models[name].versions[version].Stage = stage
}

// Get returns a copy of a version's state: tags, stage.
func (s *Server) Get(name, version string) (tags map[string]string, stage string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.models[name]
	if m == nil || m.versions[version] == nil {
		return nil, "", false
	}
	v := m.versions[version]
	tags = map[string]string{}
	for k, val := range v.Tags {
		tags[k] = val
	}
	return tags, v.Stage, true
}

// Alias returns an alias's target ("" when unset).
func (s *Server) Alias(name, alias string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.models[name]; m != nil {
		return m.aliases[alias]
	}
	return ""
}

// Downloads counts downloads of one artifact file (path under the version root).
func (s *Server) Downloads(name, version, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.downloads[artifactRoot(name, version)+"/"+path]
}

// TagWrites counts set-tag calls for one key.
func (s *Server) TagWrites(name, version, key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tagWrites[name+"\x00"+version+"\x00"+key]
}

// Rejections returns the rejected transition requests.
func (s *Server) Rejections() []Rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Rejection(nil), s.rejections...)
}

// Webhooks returns the webhooks created through the API.
func (s *Server) Webhooks() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.webhooks...)
}

// FailNext answers the next n API calls with 503.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

func artifactRoot(name, version string) string { return "models/" + name + "/" + version }

// emit delivers an event the way MLflow does: asynchronously, after the
// change, with the same id/timestamp/signature on every retry.
func (s *Server) emit(entity, action string, data map[string]any) {
	s.mu.Lock()
	url, secret := s.webhookURL, s.secret
	s.mu.Unlock()
	if url == "" {
		return
	}
	body, _ := json.Marshal(map[string]any{"entity": entity, "action": action,
		"timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000000+00:00"), "data": data})
	id := newID()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig := webhook.SignMLflow(secret, id, ts, body)
	s.deliveries.Add(1)
	go func() {
		defer s.deliveries.Done()
		for attempt := 0; attempt <= 3; attempt++ {
			if attempt > 0 {
				time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
			}
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(webhook.HeaderDeliveryID, id)
			req.Header.Set(webhook.HeaderTimestamp, ts)
			req.Header.Set(webhook.HeaderSignature, sig)
			resp, err := http.DefaultClient.Do(req)
			status := 0
			if err == nil {
				status = resp.StatusCode
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			s.mu.Lock()
			s.deliveryStatus = append(s.deliveryStatus, status)
			s.mu.Unlock()
			if err == nil && status != 429 && status < 500 {
				return
			}
		}
	}()
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error_code": code, "message": msg})
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) authorized(r *http.Request) bool {
	if s.Username != "" {
		u, p, ok := r.BasicAuth()
		return ok && u == s.Username && p == s.Password
	}
	if s.Token != "" {
		return r.Header.Get("Authorization") == "Bearer "+s.Token
	}
	return true
}

// versionJSON renders a version as MLflow's REST API does (caller holds mu).
func (s *Server) versionJSON(m *model, v *Version) map[string]any {
	status := "READY"
	if v.failed {
		status = "FAILED_REGISTRATION"
	} else if time.Now().Before(v.readyAt) {
		status = "PENDING_REGISTRATION"
	}
	tags := []map[string]string{}
	keys := make([]string, 0, len(v.Tags))
	for k := range v.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		tags = append(tags, map[string]string{"key": k, "value": v.Tags[k]})
	}
	var aliases []string
	for a, ver := range m.aliases {
		if ver == v.Version {
			aliases = append(aliases, a)
		}
	}
	sort.Strings(aliases)
	out := map[string]any{"name": v.Name, "version": v.Version, "creation_timestamp": v.created.UnixMilli(),
		"last_updated_timestamp": time.Now().UnixMilli(), "current_stage": v.Stage, "description": "",
		"source": v.Source, "run_id": v.RunID, "status": status, "tags": tags}
	if len(aliases) > 0 {
		out["aliases"] = aliases
	}
	return out
}

type body map[string]any

func (b body) str(k string) string {
	v, _ := b[k].(string)
	return v
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		apiError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "credentials required")
		return
	}
	s.mu.Lock()
	if s.failNext > 0 {
		s.failNext--
		s.mu.Unlock()
		apiError(w, http.StatusServiceUnavailable, "TEMPORARILY_UNAVAILABLE", "try again")
		return
	}
	s.mu.Unlock()
	const api = "/api/2.0/mlflow"
	p := r.URL.Path
	if strings.HasPrefix(p, "/api/2.0/mlflow-artifacts/artifacts") {
		s.artifacts(w, r)
		return
	}
	if p == "/api/2.0/mlflow/artifacts/list" || p == "/get-artifact" {
		s.runArtifacts(w, r)
		return
	}
	if strings.HasPrefix(p, "/api/2.0/mlflow/logged-models/") || strings.HasPrefix(p, "/ajax-api/2.0/mlflow/logged-models/") {
		s.loggedModelArtifacts(w, r)
		return
	}
	var in body
	if r.Method == http.MethodPost || r.Method == http.MethodDelete || r.Method == http.MethodPatch {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil && err != io.EOF {
			apiError(w, 400, "MALFORMED_REQUEST", err.Error())
			return
		}
	}
	q := r.URL.Query()
	route := r.Method + " " + strings.TrimPrefix(p, api)
	var fire func()
	s.mu.Lock()
	defer func() {
		s.mu.Unlock()
		if fire != nil {
			fire()
		}
	}()
	lookup := func(name, version string) (*model, *Version, bool) {
		m := s.models[name]
		if m == nil || m.versions[version] == nil {
			apiError(w, 404, "RESOURCE_DOES_NOT_EXIST", fmt.Sprintf("Model Version (name=%s, version=%s) not found", name, version))
			return nil, nil, false
		}
		return m, m.versions[version], true
	}
	switch route {
	case "GET /model-versions/get":
		if m, v, ok := lookup(q.Get("name"), q.Get("version")); ok {
			reply(w, map[string]any{"model_version": s.versionJSON(m, v)})
		}
	case "GET /model-versions/get-download-uri":
		if _, v, ok := lookup(q.Get("name"), q.Get("version")); ok {
			uri := "mlflow-artifacts:/" + artifactRoot(v.Name, v.Version)
			if v.artifactURI == "models:" {
				apiError(w, 404, "RESOURCE_DOES_NOT_EXIST", "no download uri for a logged model version")
				return
			}
			if v.artifactURI != "" {
				uri = v.artifactURI
			}
			reply(w, map[string]string{"artifact_uri": uri})
		}
	case "POST /model-versions/set-tag":
		if _, v, ok := lookup(in.str("name"), in.str("version")); ok {
			key, val := in.str("key"), in.str("value")
			v.Tags[key] = val
			s.tagWrites[v.Name+"\x00"+v.Version+"\x00"+key]++
			reply(w, map[string]any{})
			name, version := v.Name, v.Version
			fire = func() {
				s.emit("model_version_tag", "set", map[string]any{"name": name, "version": version, "key": key, "value": val})
			}
		}
	case "DELETE /model-versions/delete-tag":
		if _, v, ok := lookup(in.str("name"), in.str("version")); ok {
			key := in.str("key")
			if _, had := v.Tags[key]; !had {
				apiError(w, 404, "RESOURCE_DOES_NOT_EXIST", "no tag "+key)
				return
			}
			delete(v.Tags, key)
			reply(w, map[string]any{})
			name, version := v.Name, v.Version
			fire = func() {
				s.emit("model_version_tag", "deleted", map[string]any{"name": name, "version": version, "key": key})
			}
		}
	case "GET /registered-models/alias":
		m := s.models[q.Get("name")]
		if m == nil || m.aliases[q.Get("alias")] == "" {
			apiError(w, 404, "RESOURCE_DOES_NOT_EXIST", "alias not found")
			return
		}
		reply(w, map[string]any{"model_version": s.versionJSON(m, m.versions[m.aliases[q.Get("alias")]])})
	case "POST /registered-models/alias":
		m, _, ok := lookup(in.str("name"), in.str("version"))
		if !ok {
			return
		}
		name, alias, version := in.str("name"), in.str("alias"), in.str("version")
		m.aliases[alias] = version
		reply(w, map[string]any{})
		fire = func() {
			s.emit("model_version_alias", "created", map[string]any{"name": name, "alias": alias, "version": version})
		}
	case "DELETE /registered-models/alias":
		m := s.models[in.str("name")]
		if m == nil || m.aliases[in.str("alias")] == "" {
			apiError(w, 404, "RESOURCE_DOES_NOT_EXIST", "alias not found")
			return
		}
		delete(m.aliases, in.str("alias"))
		reply(w, map[string]any{})
		name, alias := in.str("name"), in.str("alias")
		fire = func() { s.emit("model_version_alias", "deleted", map[string]any{"name": name, "alias": alias}) }
	case "POST /model-versions/transition-stage", "POST /databricks/model-versions/transition-stage":
		if m, v, ok := lookup(in.str("name"), in.str("version")); ok {
			v.Stage = in.str("stage")
			s.transitions = append(s.transitions, v.Name+"/"+v.Version+"->"+v.Stage)
			reply(w, map[string]any{"model_version": s.versionJSON(m, v)})
		}
	case "POST /transition-requests/reject":
		if _, _, ok := lookup(in.str("name"), in.str("version")); ok {
			s.rejections = append(s.rejections, Rejection{in.str("name"), in.str("version"), in.str("stage"), in.str("comment")})
			reply(w, map[string]any{"activity": map[string]any{"activity_type": "REJECTED_REQUEST"}})
		}
	case "GET /model-versions/search":
		s.search(w, q)
	case "GET /registered-models/search":
		var names []string
		for n := range s.models {
			names = append(names, n)
		}
		sort.Strings(names)
		var out []map[string]any
		for _, n := range names {
			var al []map[string]string
			for a, v := range s.models[n].aliases {
				al = append(al, map[string]string{"alias": a, "version": v})
			}
			out = append(out, map[string]any{"name": n, "aliases": al})
		}
		reply(w, map[string]any{"registered_models": out})
	case "POST /webhooks":
		in["webhook_id"] = newID()
		delete(in, "secret")
		s.webhooks = append(s.webhooks, in)
		reply(w, map[string]any{"webhook": in})
	default:
		apiError(w, 404, "ENDPOINT_NOT_FOUND", "no route "+route)
	}
}

// search supports the filter forms the receiver sends: none or name='N'.
func (s *Server) search(w http.ResponseWriter, q map[string][]string) {
	filter := ""
	if f := q["filter"]; len(f) > 0 {
		filter = f[0]
	}
	var names []string
	if filter != "" {
		n, ok := strings.CutPrefix(filter, "name='")
		if !ok || !strings.HasSuffix(n, "'") {
			apiError(w, 400, "INVALID_PARAMETER_VALUE", "unsupported filter "+filter)
			return
		}
		names = []string{strings.TrimSuffix(n, "'")}
	} else {
		for n := range s.models {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	// Page by 50 to exercise page tokens.
	var all []map[string]any
	for _, n := range names {
		m := s.models[n]
		if m == nil {
			continue
		}
		var vs []string
		for v := range m.versions {
			vs = append(vs, v)
		}
		sort.Slice(vs, func(i, j int) bool { a, _ := strconv.Atoi(vs[i]); b, _ := strconv.Atoi(vs[j]); return a < b })
		for _, v := range vs {
			all = append(all, s.versionJSON(m, m.versions[v]))
		}
	}
	start := 0
	if t := q["page_token"]; len(t) > 0 {
		start, _ = strconv.Atoi(t[0])
	}
	end := min(start+50, len(all))
	out := map[string]any{"model_versions": all[start:end]}
	if end < len(all) {
		out["next_page_token"] = strconv.Itoa(end)
	}
	reply(w, out)
}

// artifacts is the mlflow-artifacts proxy: list (basenames) and download.
func (s *Server) artifacts(w http.ResponseWriter, r *http.Request) {
	const base = "/api/2.0/mlflow-artifacts/artifacts"
	rel := strings.Trim(r.URL.Query().Get("path"), "/")
	if r.URL.Path != base {
		rel = strings.TrimPrefix(r.URL.Path, base+"/")
	}
	// rel is models/<name>/<version>[/<path>]; names here hold no '/'.
	parts := strings.SplitN(rel, "/", 4)
	if len(parts) < 3 || parts[0] != "models" || strings.Contains(rel, "..") {
		apiError(w, 400, "INVALID_PARAMETER_VALUE", "invalid path "+rel)
		return
	}
	s.mu.Lock()
	files := map[string][]byte{}
	disk := map[string]string{}
	sizes := map[string]int64{}
	if m := s.models[parts[1]]; m != nil {
		if v := m.versions[parts[2]]; v != nil {
			for p, b := range v.Files {
				files[artifactRoot(v.Name, v.Version)+"/"+p] = b
				sizes[artifactRoot(v.Name, v.Version)+"/"+p] = int64(len(b))
			}
			for p, local := range v.Disk {
				disk[artifactRoot(v.Name, v.Version)+"/"+p] = local
				sizes[artifactRoot(v.Name, v.Version)+"/"+p] = -1
			}
		}
	}
	delay := s.DownloadDelay
	s.mu.Unlock()
	for p, local := range disk {
		if fi, err := os.Stat(local); err == nil {
			sizes[p] = fi.Size()
		}
	}
	if r.URL.Path == base {
		dir := strings.Trim(r.URL.Query().Get("path"), "/")
		if strings.Contains(dir, "..") {
			apiError(w, 400, "INVALID_PARAMETER_VALUE", "invalid path")
			return
		}
		seen := map[string]bool{}
		var out []map[string]any
		for p, size := range sizes {
			rest, ok := strings.CutPrefix(p, dir+"/")
			if !ok {
				continue
			}
			first, _, sub := strings.Cut(rest, "/")
			if seen[first] {
				continue
			}
			seen[first] = true
			if sub {
				out = append(out, map[string]any{"path": first, "is_dir": true})
			} else {
				out = append(out, map[string]any{"path": first, "is_dir": false, "file_size": size})
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i]["path"].(string) < out[j]["path"].(string) })
		reply(w, map[string]any{"files": out})
		return
	}
	p := strings.TrimPrefix(r.URL.Path, base+"/")
	b, ok := files[p]
	local, onDisk := disk[p]
	if !ok && !onDisk {
		apiError(w, 404, "RESOURCE_DOES_NOT_EXIST", "no artifact "+p)
		return
	}
	s.mu.Lock()
	s.downloads[p]++
	s.inflight++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
	}()
	if delay > 0 {
		time.Sleep(delay)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if onDisk {
		f, err := os.Open(local)
		if err != nil {
			apiError(w, 500, "INTERNAL_ERROR", err.Error())
			return
		}
		defer f.Close()
		w.Header().Set("Content-Length", strconv.FormatInt(sizes[p], 10))
		_, _ = io.Copy(w, f)
		return
	}
	_, _ = w.Write(b)
}

// DeliveryStatuses returns the HTTP status of every delivery attempt so
// far (0: no answer).
func (s *Server) DeliveryStatuses() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.deliveryStatus...)
}

// InFlightDownloads is the number of artifact downloads being served now.
func (s *Server) InFlightDownloads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight
}

// runArtifacts serves a run's artifacts (the tracking API's list, whose
// paths are relative to the run root, and the get-artifact download route)
// for versions whose source is runs:/<run_id>/model.
func (s *Server) runArtifacts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	runID, rel := q.Get("run_id"), strings.Trim(q.Get("path"), "/")
	s.mu.Lock()
	var v *Version
	for _, m := range s.models {
		for _, ver := range m.versions {
			if ver.RunID == runID && ver.artifactURI == "runs:/"+runID+"/model" {
				v = ver
			}
		}
	}
	var files map[string][]byte
	if v != nil {
		files = map[string][]byte{}
		for p, b := range v.Files {
			files["model/"+p] = b
		}
	}
	s.mu.Unlock()
	if v == nil {
		apiError(w, 404, "RESOURCE_DOES_NOT_EXIST", "no run "+runID)
		return
	}
	if r.URL.Path == "/get-artifact" {
		b, ok := files[rel]
		if !ok {
			apiError(w, 404, "RESOURCE_DOES_NOT_EXIST", "no artifact "+rel)
			return
		}
		s.mu.Lock()
		s.downloads[artifactRoot(v.Name, v.Version)+"/"+strings.TrimPrefix(rel, "model/")]++
		s.mu.Unlock()
		_, _ = w.Write(b)
		return
	}
	seen := map[string]bool{}
	var out []map[string]any
	for p, b := range files {
		rest, ok := strings.CutPrefix(p, rel+"/")
		if !ok {
			continue
		}
		first, _, sub := strings.Cut(rest, "/")
		if seen[first] {
			continue
		}
		seen[first] = true
		if sub {
			out = append(out, map[string]any{"path": rel + "/" + first, "is_dir": true})
		} else {
			out = append(out, map[string]any{"path": rel + "/" + first, "is_dir": false, "file_size": strconv.Itoa(len(b))})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["path"].(string) < out[j]["path"].(string) })
	reply(w, map[string]any{"root_uri": "mlflow-artifacts:/0/" + runID + "/artifacts", "files": out})
}

// loggedModelArtifacts serves MLflow 3 logged models: list through
// /api/2.0/mlflow/logged-models/{id}/artifacts/directories, download
// through /ajax-api/2.0/mlflow/logged-models/{id}/artifacts/files.
func (s *Server) loggedModelArtifacts(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	rest := p[strings.Index(p, "/logged-models/")+len("/logged-models/"):]
	id, route, _ := strings.Cut(rest, "/")
	s.mu.Lock()
	var v *Version
	for _, m := range s.models {
		for _, ver := range m.versions {
			if ver.Source == "models:/"+id {
				v = ver
			}
		}
	}
	files := map[string][]byte{}
	if v != nil {
		for k, b := range v.Files {
			files[k] = b
		}
	}
	s.mu.Unlock()
	if v == nil {
		apiError(w, 404, "RESOURCE_DOES_NOT_EXIST", "no logged model "+id)
		return
	}
	q := r.URL.Query()
	switch {
	case route == "artifacts/files" && strings.HasPrefix(p, "/ajax-api/"):
		rel := q.Get("artifact_file_path")
		b, ok := files[rel]
		if !ok {
			apiError(w, 404, "RESOURCE_DOES_NOT_EXIST", "no artifact "+rel)
			return
		}
		s.mu.Lock()
		s.downloads[artifactRoot(v.Name, v.Version)+"/"+rel]++
		s.mu.Unlock()
		_, _ = w.Write(b)
	case route == "artifacts/directories" && strings.HasPrefix(p, "/api/"):
		dir := strings.Trim(q.Get("artifact_directory_path"), "/")
		seen := map[string]bool{}
		var out []map[string]any
		for k, b := range files {
			rel := k
			if dir != "" {
				var ok bool
				if rel, ok = strings.CutPrefix(k, dir+"/"); !ok {
					continue
				}
			}
			first, _, sub := strings.Cut(rel, "/")
			if seen[first] {
				continue
			}
			seen[first] = true
			full := strings.TrimPrefix(dir+"/"+first, "/")
			if sub {
				out = append(out, map[string]any{"path": full, "is_dir": true})
			} else {
				out = append(out, map[string]any{"path": full, "is_dir": false, "file_size": strconv.Itoa(len(b))})
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i]["path"].(string) < out[j]["path"].(string) })
		reply(w, map[string]any{"files": out})
	default:
		apiError(w, 404, "ENDPOINT_NOT_FOUND", "no route "+p)
	}
}
