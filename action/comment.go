package action

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"
)

// maxCommentBytes keeps a comment under GitHub's 65536-character body
// limit, leaving room for the marker.
const maxCommentBytes = 60000

// Marker is the hidden line that finds the action's comment again; one per
// category, so two gates in one workflow keep two comments.
func Marker(category string) string {
	return fmt.Sprintf("<!-- modelgate:sticky-comment category=%s -->", strings.NewReplacer("-->", "", "\n", " ").Replace(category))
}

// Commenter keeps one sticky comment on a pull request.
type Commenter struct {
	Client      *github.Client
	Owner, Repo string
}

// Upsert edits the comment that carries the marker, or creates it. With
// createIfMissing false it only edits an existing one (a gate that passes
// now updates its old failure comment but does not start a new thread).
// It returns the comment's URL, or "" when nothing was written.
func (c *Commenter) Upsert(ctx context.Context, pr int, marker, body string, createIfMissing bool) (string, error) {
	if len(body) > maxCommentBytes {
		body = body[:maxCommentBytes] + "\n\n(cut: the full report is in the job summary)\n"
	}
	body = marker + "\n" + body
	existing, err := c.find(ctx, pr, marker)
	if err != nil {
		return "", err
	}
	if existing != nil {
		got, _, err := c.Client.Issues.EditComment(ctx, c.Owner, c.Repo, existing.GetID(), &github.IssueComment{Body: github.String(body)})
		if err != nil {
			return "", fmt.Errorf("edit comment %d: %w", existing.GetID(), err)
		}
		return got.GetHTMLURL(), nil
	}
	if !createIfMissing {
		return "", nil
	}
	got, _, err := c.Client.Issues.CreateComment(ctx, c.Owner, c.Repo, pr, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return "", fmt.Errorf("comment on pull request %d: %w", pr, err)
	}
	return got.GetHTMLURL(), nil
}

// find pages through the pull request's comments for the marker. Only
// comments whose body starts with it count: anyone can quote the marker
// in a comment of their own further down.
func (c *Commenter) find(ctx context.Context, pr int, marker string) (*github.IssueComment, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		comments, resp, err := c.Client.Issues.ListComments(ctx, c.Owner, c.Repo, pr, opts)
		if err != nil {
			return nil, fmt.Errorf("list comments of pull request %d: %w", pr, err)
		}
		for _, cm := range comments {
			if strings.HasPrefix(cm.GetBody(), marker) && isBot(cm.GetUser()) {
				return cm, nil
			}
		}
		if resp == nil || resp.NextPage == 0 {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}

// isBot accepts the comment author the action writes as: the
// github-actions bot for GITHUB_TOKEN, or any Bot account (an app token);
// a user who pastes the marker cannot have their comment overwritten.
func isBot(u *github.User) bool {
	if u == nil {
		return false
	}
	return u.GetType() == "Bot" || u.GetLogin() == "github-actions[bot]"
}
