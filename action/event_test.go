package action

import (
	"strings"
	"testing"
)

func TestParseEvent(t *testing.T) {
	base, head, merge := strings.Repeat("b", 40), strings.Repeat("c", 40), strings.Repeat("d", 40)
	pr := func(headRepo string, fork bool) string {
		return `{"number": 7, "pull_request": {"number": 7,
			"base": {"sha": "` + base + `", "ref": "main", "repo": {"full_name": "octo/models", "fork": false}},
			"head": {"sha": "` + head + `", "ref": "feature", "repo": {"full_name": "` + headRepo + `", "fork": ` + map[bool]string{true: "true", false: "false"}[fork] + `}}},
			"repository": {"full_name": "octo/models"}}`
	}
	tests := []struct {
		name, event, payload string
		env                  map[string]string
		want                 Event
	}{
		{name: "push", event: "push", payload: `{"before": "` + base + `", "after": "` + head + `", "ref": "refs/heads/main"}`,
			env:  map[string]string{"GITHUB_SHA": head, "GITHUB_REF": "refs/heads/main"},
			want: Event{Name: "push", Owner: "octo", Repo: "models", SHA: head, Ref: "refs/heads/main", DiffRange: base + ".." + head}},
		{name: "push creating a branch", event: "push", payload: `{"before": "` + zeroSHA + `", "after": "` + head + `"}`,
			env:  map[string]string{"GITHUB_SHA": head, "GITHUB_REF": "refs/heads/new"},
			want: Event{Name: "push", Owner: "octo", Repo: "models", SHA: head, Ref: "refs/heads/new", NoDiffReason: "the push creates a branch, so there is no earlier commit to compare with"}},
		{name: "pull_request", event: "pull_request", payload: pr("octo/models", false),
			env:  map[string]string{"GITHUB_SHA": merge, "GITHUB_REF": "refs/pull/7/merge"},
			want: Event{Name: "pull_request", Owner: "octo", Repo: "models", SHA: merge, Ref: "refs/pull/7/merge", PullRequest: 7, DiffRange: base + "..." + head}},
		{name: "pull_request from a fork", event: "pull_request", payload: pr("mallory/models", true),
			env:  map[string]string{"GITHUB_SHA": merge, "GITHUB_REF": "refs/pull/7/merge"},
			want: Event{Name: "pull_request", Owner: "octo", Repo: "models", SHA: merge, Ref: "refs/pull/7/merge", PullRequest: 7, Fork: true, DiffRange: base + "..." + head}},
		{name: "pull_request_target analyses the head", event: "pull_request_target", payload: pr("mallory/models", true),
			env:  map[string]string{"GITHUB_SHA": base, "GITHUB_REF": "refs/heads/main"},
			want: Event{Name: "pull_request_target", Owner: "octo", Repo: "models", SHA: head, Ref: "refs/pull/7/head", PullRequest: 7, Fork: true, DiffRange: base + "..." + head}},
		{name: "workflow_dispatch", event: "workflow_dispatch", payload: `{"inputs": {}, "ref": "refs/heads/main"}`,
			env:  map[string]string{"GITHUB_SHA": head, "GITHUB_REF": "refs/heads/main"},
			want: Event{Name: "workflow_dispatch", Owner: "octo", Repo: "models", SHA: head, Ref: "refs/heads/main", NoDiffReason: "a workflow_dispatch event has no base commit to compare with"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRunner(t)
			f.event(tt.event, tt.payload)
			for k, v := range tt.env {
				f.env[k] = v
			}
			gc, err := f.action().Context()
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseEvent(gc)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseEventPullRequestWithoutPayload(t *testing.T) {
	f := newFakeRunner(t)
	f.event("pull_request", `{}`)
	gc, err := f.action().Context()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseEvent(gc); err == nil || !strings.Contains(err.Error(), "pull_request object") {
		t.Fatalf("err = %v, want a missing pull_request object", err)
	}
}
