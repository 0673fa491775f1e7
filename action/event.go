package action

import (
	"fmt"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// Event is what the action needs to know about the run's trigger.
type Event struct {
	// Name is GITHUB_EVENT_NAME: push, pull_request, workflow_dispatch ...
	Name string
	// Owner and Repo name the repository the workflow runs in.
	Owner, Repo string
	// SHA and Ref are the commit and ref an analysis belongs to: for a
	// pull request the merge commit and refs/pull/N/merge, for a push the
	// pushed commit and its branch.
	SHA, Ref string
	// PullRequest is the pull request number (0 when not a pull request).
	PullRequest int
	// Fork is true for a pull request from another repository: its token
	// is read-only, so nothing can be uploaded or commented.
	Fork bool
	// DiffRange is the revision range changed-only scans, or "" when the
	// event has none (workflow_dispatch, a new branch).
	DiffRange string
	// NoDiffReason says why DiffRange is empty.
	NoDiffReason string
}

// zeroSHA is the "before" of a push that creates a branch.
const zeroSHA = "0000000000000000000000000000000000000000"

// ParseEvent reads the event from the run's context (GITHUB_* variables
// and the event payload at GITHUB_EVENT_PATH).
func ParseEvent(gc *githubactions.GitHubContext) (Event, error) {
	ev := Event{Name: gc.EventName, SHA: gc.SHA, Ref: gc.Ref}
	ev.Owner, ev.Repo = gc.Repo()
	payload := gc.Event
	switch gc.EventName {
	case "pull_request", "pull_request_target":
		pr, _ := payload["pull_request"].(map[string]any)
		if pr == nil {
			return ev, fmt.Errorf("%s event without a pull_request object in %s", gc.EventName, gc.EventPath)
		}
		n, _ := pr["number"].(float64)
		if n == 0 {
			n, _ = payload["number"].(float64)
		}
		ev.PullRequest = int(n)
		base, head := str(pr, "base", "sha"), str(pr, "head", "sha")
		baseRepo, headRepo := str(pr, "base", "repo", "full_name"), str(pr, "head", "repo", "full_name")
		ev.Fork = headRepo != "" && !strings.EqualFold(headRepo, baseRepo)
		if forked, ok := dig(pr, "head", "repo", "fork").(bool); ok && forked && headRepo != baseRepo {
			ev.Fork = true
		}
		if base != "" && head != "" {
			// Three dots: what the pull request adds since it branched,
			// not what the base gained meanwhile.
			ev.DiffRange = base + "..." + head
		} else {
			ev.NoDiffReason = "the pull_request event has no base or head sha"
		}
		if gc.EventName == "pull_request_target" && head != "" {
			// The run's own SHA and ref are the base branch's; the
			// analysis is about the pull request's head.
			ev.SHA = head
			ev.Ref = fmt.Sprintf("refs/pull/%d/head", ev.PullRequest)
		}
	case "push":
		before, after := str(payload, "before"), str(payload, "after")
		switch {
		case after == "" || after == zeroSHA:
			ev.NoDiffReason = "the push deletes its branch"
		case before == "" || before == zeroSHA:
			ev.NoDiffReason = "the push creates a branch, so there is no earlier commit to compare with"
		default:
			ev.DiffRange = before + ".." + after
		}
		if after != "" && after != zeroSHA {
			ev.SHA = after
		}
	default:
		ev.NoDiffReason = fmt.Sprintf("a %s event has no base commit to compare with", orUnknown(gc.EventName))
	}
	if ev.Owner == "" || ev.Repo == "" {
		if name, _ := dig(payload, "repository", "full_name").(string); name != "" {
			ev.Owner, ev.Repo, _ = strings.Cut(name, "/")
		}
	}
	return ev, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "manual (no GITHUB_EVENT_NAME)"
	}
	return s
}

// dig walks nested JSON objects.
func dig(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[k]
	}
	return v
}

func str(m map[string]any, keys ...string) string {
	s, _ := dig(m, keys...).(string)
	return s
}
