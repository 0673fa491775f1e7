// Package webhook authenticates and decodes model-registry webhook
// deliveries: MLflow OSS (X-MLflow-Signature, a base64 HMAC-SHA256 over
// "delivery-id.timestamp.body") and Databricks workspace-registry webhooks
// (X-Databricks-Signature, a hex HMAC-SHA256 of the body). It only checks and
// parses; what a delivery causes is the receiver's business.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names MLflow sends (Go canonicalises them on the way in).
const (
	HeaderDeliveryID = "X-MLflow-Delivery-Id"
	HeaderTimestamp  = "X-MLflow-Timestamp"
	HeaderSignature  = "X-MLflow-Signature"
	HeaderDatabricks = "X-Databricks-Signature"
)

// DefaultMaxAge is the freshness window. MLflow retries inside one request
// with the original timestamp and backs off up to about 8 s over three
// retries, so the window must be comfortably longer than that.
const DefaultMaxAge = 5 * time.Minute

// Error is a rejected delivery; Status is the HTTP status to answer.
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string { return e.Reason }

// StatusOf returns the HTTP status for err (400 for errors that are not *Error).
func StatusOf(err error) int {
	var we *Error
	if errors.As(err, &we) {
		return we.Status
	}
	return http.StatusBadRequest
}

func reject(status int, format string, a ...any) error {
	return &Error{Status: status, Reason: fmt.Sprintf(format, a...)}
}

// Verifier checks deliveries signed with one shared secret.
type Verifier struct {
	secret []byte
	maxAge time.Duration
	now    func() time.Time
}

// NewVerifier returns a verifier. maxAge <= 0 means DefaultMaxAge; now nil
// means time.Now (tests inject a clock to check the captured deliveries).
func NewVerifier(secret []byte, maxAge time.Duration, now func() time.Time) (*Verifier, error) {
	if len(secret) == 0 {
		return nil, errors.New("webhook secret is empty")
	}
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	if now == nil {
		now = time.Now
	}
	return &Verifier{secret: append([]byte(nil), secret...), maxAge: maxAge, now: now}, nil
}

// Delivery is an authenticated MLflow delivery.
type Delivery struct {
	ID        string
	Timestamp time.Time
	Event     Event
}

// VerifyMLflow authenticates an MLflow delivery and decodes its envelope.
// The signature is checked before anything in the body is trusted: 401 for
// a missing or wrong signature, 400 for missing headers, a stale or future
// timestamp, or a body that is not an MLflow envelope.
func (v *Verifier) VerifyMLflow(h http.Header, body []byte) (*Delivery, error) {
	sig := h.Get(HeaderSignature)
	if sig == "" {
		return nil, reject(http.StatusUnauthorized, "missing %s header", HeaderSignature)
	}
	id := h.Get(HeaderDeliveryID)
	ts := h.Get(HeaderTimestamp)
	if id == "" || ts == "" {
		return nil, reject(http.StatusBadRequest, "missing %s or %s header", HeaderDeliveryID, HeaderTimestamp)
	}
	if len(id) > 200 {
		return nil, reject(http.StatusBadRequest, "delivery id longer than 200 bytes")
	}
	if !hmac.Equal([]byte(SignMLflow(v.secret, id, ts, body)), []byte(strings.TrimSpace(sig))) {
		return nil, reject(http.StatusUnauthorized, "signature does not match")
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, reject(http.StatusBadRequest, "timestamp %q is not unix seconds", ts)
	}
	sent := time.Unix(secs, 0)
	if err := v.fresh(sent); err != nil {
		return nil, err
	}
	ev, err := ParseMLflow(body)
	if err != nil {
		return nil, reject(http.StatusBadRequest, "%v", err)
	}
	return &Delivery{ID: id, Timestamp: sent, Event: *ev}, nil
}

func (v *Verifier) fresh(sent time.Time) error {
	age := v.now().Sub(sent)
	if age > v.maxAge {
		return reject(http.StatusBadRequest, "timestamp is %s old, older than the %s window", age.Round(time.Second), v.maxAge)
	}
	// A little clock skew is normal; a timestamp far ahead is a replay
	// prepared in advance or a broken clock.
	if age < -v.maxAge {
		return reject(http.StatusBadRequest, "timestamp is %s in the future", (-age).Round(time.Second))
	}
	return nil
}

// SignMLflow returns the X-MLflow-Signature value for a delivery.
func SignMLflow(secret []byte, id, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// SignDatabricks returns the X-Databricks-Signature value for a body.
func SignDatabricks(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Event is the MLflow delivery envelope.
type Event struct {
	Entity    string `json:"entity"`
	Action    string `json:"action"`
	Timestamp string `json:"timestamp"`
	Workspace string `json:"workspace,omitempty"`
	Data      Data   `json:"data"`
}

// Name is "entity.action", e.g. "model_version.created".
func (e Event) Name() string { return e.Entity + "." + e.Action }

// Data holds the payload fields of the model-registry events (a union: each
// event fills its own subset).
type Data struct {
	Name        string            `json:"name"`
	Version     string            `json:"version,omitempty"`
	Source      string            `json:"source,omitempty"`
	RunID       string            `json:"run_id,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	Description *string           `json:"description,omitempty"`
	Key         string            `json:"key,omitempty"`
	Value       string            `json:"value,omitempty"`
	Alias       string            `json:"alias,omitempty"`
}

// Event names the receiver acts on.
const (
	ModelVersionCreated = "model_version.created"
	AliasCreated        = "model_version_alias.created"
	AliasDeleted        = "model_version_alias.deleted"
	TagSet              = "model_version_tag.set"
	TagDeleted          = "model_version_tag.deleted"
)

// ParseMLflow decodes an envelope and checks the fields its event needs.
func ParseMLflow(body []byte) (*Event, error) {
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("body is not an MLflow webhook envelope: %w", err)
	}
	if ev.Entity == "" || ev.Action == "" {
		return nil, errors.New("body has no entity or action")
	}
	d := ev.Data
	need := func(fields ...string) error {
		for i := 0; i+1 < len(fields); i += 2 {
			if fields[i+1] == "" {
				return fmt.Errorf("%s event has no %s", ev.Name(), fields[i])
			}
		}
		return nil
	}
	switch ev.Name() {
	case ModelVersionCreated:
		return &ev, need("name", d.Name, "version", d.Version)
	case AliasCreated:
		return &ev, need("name", d.Name, "alias", d.Alias, "version", d.Version)
	case TagSet:
		return &ev, need("name", d.Name, "version", d.Version, "key", d.Key)
	}
	return &ev, nil
}

// DatabricksEvent is a Databricks workspace-registry delivery (flat, no
// envelope; event_timestamp in epoch milliseconds).
type DatabricksEvent struct {
	Event          string `json:"event"`
	WebhookID      string `json:"webhook_id"`
	EventTimestamp int64  `json:"event_timestamp"`
	ModelName      string `json:"model_name"`
	Version        string `json:"version"`
	ToStage        string `json:"to_stage"`
	FromStage      string `json:"from_stage"`
	Text           string `json:"text"`
}

// Databricks event names the receiver acts on.
const (
	DBVersionCreated           = "MODEL_VERSION_CREATED"
	DBTransitionRequest        = "TRANSITION_REQUEST_CREATED"
	DBTransitionRequestToProd  = "TRANSITION_REQUEST_TO_PRODUCTION_CREATED"
	DBTransitionRequestToStage = "TRANSITION_REQUEST_TO_STAGING_CREATED"
	DBTransitioned             = "MODEL_VERSION_TRANSITIONED_STAGE"
	DBTransitionedToProd       = "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION"
)

// VerifyDatabricks authenticates a Databricks delivery. Databricks signs
// only the body and sends no delivery id, so the caller dedupes on
// BodyDigest and the freshness check uses event_timestamp.
func (v *Verifier) VerifyDatabricks(h http.Header, body []byte) (*DatabricksEvent, error) {
	sig := strings.TrimSpace(h.Get(HeaderDatabricks))
	if sig == "" {
		return nil, reject(http.StatusUnauthorized, "missing %s header", HeaderDatabricks)
	}
	if !hmac.Equal([]byte(SignDatabricks(v.secret, body)), []byte(strings.ToLower(sig))) {
		return nil, reject(http.StatusUnauthorized, "signature does not match")
	}
	var ev DatabricksEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, reject(http.StatusBadRequest, "body is not a Databricks registry webhook: %v", err)
	}
	if ev.Event == "" {
		return nil, reject(http.StatusBadRequest, "body has no event")
	}
	if ev.EventTimestamp == 0 {
		return nil, reject(http.StatusBadRequest, "body has no event_timestamp")
	}
	if err := v.fresh(time.UnixMilli(ev.EventTimestamp)); err != nil {
		return nil, err
	}
	return &ev, nil
}

// BodyDigest is the dedupe key of a delivery that carries no id.
func BodyDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}
