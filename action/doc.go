// Package action is modelgate's GitHub Action: a thin adapter that reads
// the action's inputs and the triggering event, builds a scan.Source (the
// paths and globs of the `path` input, or the files a pull request or push
// changed), calls scan.Run, and renders the report the ways GitHub shows
// it: step outputs, a job summary, annotations on the files, a SARIF
// upload to code scanning and one sticky pull-request comment.
//
// It never scans anything itself; the verdict is the core's. action.yml at
// the repository root runs it as `modelgate action`.
package action
