package webhook

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/mlflowplugin/internal/captured"
)

const capturedSecret = captured.Secret

type capturedDelivery = captured.Delivery

func loadCaptured(t *testing.T) []capturedDelivery { return captured.Load(t) }

func clockAt(unix int64) func() time.Time {
	return func() time.Time { return time.Unix(unix, 0) }
}

func TestVerifyMLflow_RealDeliveries(t *testing.T) {
	wantEvents := []string{"registered_model.created", ModelVersionCreated, TagSet, AliasCreated, ModelVersionCreated}
	verified := 0
	for i, c := range loadCaptured(t) {
		ts, _ := strconv.ParseInt(c.Header.Get(HeaderTimestamp), 10, 64)
		v, err := NewVerifier([]byte(capturedSecret), 0, clockAt(ts+30))
		if err != nil {
			t.Fatal(err)
		}
		d, err := v.VerifyMLflow(c.Header, c.Body)
		if c.Redacted() {
			if StatusOf(err) != http.StatusUnauthorized {
				t.Errorf("%s: body edited after signing, got %v, want 401", c.Name, err)
			}
			continue
		}
		verified++
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if d.ID != c.Header.Get(HeaderDeliveryID) || d.Event.Name() != wantEvents[i] {
			t.Errorf("%s: got id %q event %q", c.Name, d.ID, d.Event.Name())
		}
	}
	if verified != 4 {
		t.Fatalf("verified %d unedited deliveries, want 4", verified)
	}
}

func TestVerifyMLflow_Rejections(t *testing.T) {
	dels := loadCaptured(t)
	mv := dels[4] // model_version.created, unedited
	ts, _ := strconv.ParseInt(mv.Header.Get(HeaderTimestamp), 10, 64)
	tamperedBody := []byte(strings.Replace(string(mv.Body), `"version": "1"`, `"version": "9"`, 1))
	without := func(key string) http.Header {
		h := mv.Header.Clone()
		h.Del(key)
		return h
	}
	with := func(key, val string) http.Header {
		h := mv.Header.Clone()
		h.Set(key, val)
		return h
	}
	cases := []struct {
		name   string
		header http.Header
		body   []byte
		now    int64
		status int
	}{
		{"fresh", mv.Header, mv.Body, ts + 1, 0},
		{"stale", mv.Header, mv.Body, ts + 301, http.StatusBadRequest},
		{"future", mv.Header, mv.Body, ts - 301, http.StatusBadRequest},
		{"wrong secret signature", with(HeaderSignature, SignMLflow([]byte("other"), mv.Header.Get(HeaderDeliveryID), mv.Header.Get(HeaderTimestamp), mv.Body)), mv.Body, ts, http.StatusUnauthorized},
		{"tampered body", mv.Header, tamperedBody, ts, http.StatusUnauthorized},
		{"timestamp moved forward", with(HeaderTimestamp, strconv.FormatInt(ts+100, 10)), mv.Body, ts + 100, http.StatusUnauthorized},
		{"other delivery id", with(HeaderDeliveryID, "cc2183c1-6258-4405-bd84-3895c78e76d1"), mv.Body, ts, http.StatusUnauthorized},
		{"missing signature", without(HeaderSignature), mv.Body, ts, http.StatusUnauthorized},
		{"missing delivery id", without(HeaderDeliveryID), mv.Body, ts, http.StatusBadRequest},
		{"missing timestamp", without(HeaderTimestamp), mv.Body, ts, http.StatusBadRequest},
		{"hex instead of base64", with(HeaderSignature, "v1,"+SignDatabricks([]byte(capturedSecret), mv.Body)), mv.Body, ts, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := NewVerifier([]byte(capturedSecret), 5*time.Minute, clockAt(tc.now))
			_, err := v.VerifyMLflow(tc.header, tc.body)
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %d", tc.status)
			}
			if got := StatusOf(err); got != tc.status {
				t.Fatalf("status %d (%v), want %d", got, err, tc.status)
			}
		})
	}
}

func TestVerifyMLflow_WindowIsConfigurable(t *testing.T) {
	mv := loadCaptured(t)[4]
	ts, _ := strconv.ParseInt(mv.Header.Get(HeaderTimestamp), 10, 64)
	v, _ := NewVerifier([]byte(capturedSecret), time.Hour, clockAt(ts+3000))
	if _, err := v.VerifyMLflow(mv.Header, mv.Body); err != nil {
		t.Fatalf("50 min old delivery with a 1 h window: %v", err)
	}
}

func TestVerifyDatabricks(t *testing.T) {
	secret := []byte("db-secret")
	now := time.UnixMilli(1589859029343)
	body := []byte(`{"event":"TRANSITION_REQUEST_CREATED","webhook_id":"c5596721253c4b429368cf6f4341b88a","event_timestamp":1589859029343,"model_name":"Airline_Delay_SparkML","version":"8","to_stage":"Production","from_stage":"None","text":"Registered model 'someModel' version 8 transition request from None to Production."}`)
	good := http.Header{}
	good.Set(HeaderDatabricks, SignDatabricks(secret, body))
	v, _ := NewVerifier(secret, 0, func() time.Time { return now.Add(time.Second) })
	ev, err := v.VerifyDatabricks(good, body)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Event != DBTransitionRequest || ev.ModelName != "Airline_Delay_SparkML" || ev.Version != "8" || ev.ToStage != "Production" {
		t.Fatalf("decoded %+v", ev)
	}
	bad := http.Header{}
	bad.Set(HeaderDatabricks, SignDatabricks([]byte("nope"), body))
	if _, err := v.VerifyDatabricks(bad, body); StatusOf(err) != http.StatusUnauthorized {
		t.Fatalf("bad signature: %v", err)
	}
	if _, err := v.VerifyDatabricks(http.Header{}, body); StatusOf(err) != http.StatusUnauthorized {
		t.Fatalf("missing signature: %v", err)
	}
	late, _ := NewVerifier(secret, 0, func() time.Time { return now.Add(time.Hour) })
	if _, err := late.VerifyDatabricks(good, body); StatusOf(err) != http.StatusBadRequest {
		t.Fatalf("stale: %v", err)
	}
}

func FuzzParseMLflow(f *testing.F) {
	f.Add([]byte(`{"entity": "model_version", "action": "created", "data": {"name": "m", "version": "1"}}`))
	f.Add([]byte(`{"entity": "model_version_alias", "action": "created", "data": {"name": "m", "alias": "a"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseMLflow(b)
	})
}
