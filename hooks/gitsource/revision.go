package gitsource

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// resolveCommit turns a revision into a commit as git rev-parse does for
// the forms a CI range uses: a ref or a full or abbreviated object id
// ("@" is HEAD), followed by any number of ~[n] and ^[n] steps. It works on
// the storage alone: go-git's repository layer would link its network
// transports, which modelgate never uses.
func resolveCommit(st *filesystem.Storage, rev string) (*object.Commit, error) {
	if strings.Contains(rev, "@{") || strings.ContainsAny(rev, ":{} ") {
		// Reflog (@{1}, @{yesterday}), path (:file) and peel (^{tree})
		// forms name no commit of a CI range; refuse them rather than
		// guess.
		return nil, fmt.Errorf("revision %q: only refs, object ids, ~n and ^n are supported", rev)
	}
	name, steps := rev, ""
	if i := strings.IndexAny(rev, "~^"); i >= 0 {
		name, steps = rev[:i], rev[i:]
	}
	if name == "" {
		return nil, fmt.Errorf("revision %q names no commit", rev)
	}
	if name == "@" {
		name = "HEAD"
	}
	c, err := refCommit(st, name)
	if err != nil {
		return nil, err
	}
	for steps != "" {
		op := steps[0]
		steps = steps[1:]
		n, digits := 1, 0
		for digits < len(steps) && steps[digits] >= '0' && steps[digits] <= '9' {
			digits++
		}
		if digits > 0 {
			if digits > 6 {
				return nil, fmt.Errorf("revision %q: step too large", rev)
			}
			n, _ = strconv.Atoi(steps[:digits])
			steps = steps[digits:]
		}
		switch {
		case op == '~':
			for range n {
				if c, err = nthParent(c, 1); err != nil {
					return nil, err
				}
			}
		case op == '^' && n > 0:
			if c, err = nthParent(c, n); err != nil {
				return nil, err
			}
		case op == '^':
			// ^0 is the commit itself.
		default:
			return nil, fmt.Errorf("revision %q: unsupported syntax", rev)
		}
		if steps != "" && steps[0] != '~' && steps[0] != '^' {
			return nil, fmt.Errorf("revision %q: unsupported syntax at %q", rev, steps)
		}
	}
	return c, nil
}

func nthParent(c *object.Commit, n int) (*object.Commit, error) {
	if c == nil {
		return nil, plumbing.ErrReferenceNotFound
	}
	if n > c.NumParents() {
		return nil, fmt.Errorf("commit %s has %d parent(s), not %d", c.Hash, c.NumParents(), n)
	}
	return c.Parent(n - 1)
}

// refCommit resolves a name: an object id (full or abbreviated) first, as
// git does, then a ref by git's lookup rules; tags are peeled to commits.
func refCommit(st *filesystem.Storage, name string) (*object.Commit, error) {
	candidates := hashCandidates(st, name)
	for _, full := range []string{name, "refs/" + name, "refs/tags/" + name, "refs/heads/" + name,
		"refs/remotes/" + name, "refs/remotes/" + name + "/HEAD"} {
		if ref, err := storer.ResolveReference(st, plumbing.ReferenceName(full)); err == nil {
			candidates = append(candidates, ref.Hash())
			break
		}
	}
	for _, h := range candidates {
		if c, err := object.GetCommit(st, h); err == nil {
			return c, nil
		}
		if t, err := object.GetTag(st, h); err == nil {
			return t.Commit()
		}
	}
	return nil, plumbing.ErrReferenceNotFound
}

// hashCandidates returns the objects whose id starts with s (4 to 40 hex
// digits).
func hashCandidates(st *filesystem.Storage, s string) []plumbing.Hash {
	if len(s) < 4 || len(s) > 40 || strings.Trim(strings.ToLower(s), "0123456789abcdef") != "" {
		return nil
	}
	if len(s) == 40 {
		return []plumbing.Hash{plumbing.NewHash(s)}
	}
	even, err := hex.DecodeString(s[:len(s)&^1])
	if err != nil {
		return nil
	}
	hashes, err := st.HashesWithPrefix(even)
	if err != nil && !errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil
	}
	var out []plumbing.Hash
	for _, h := range hashes {
		if strings.HasPrefix(h.String(), strings.ToLower(s)) {
			out = append(out, h)
		}
	}
	return out
}
