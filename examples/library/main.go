// Command library shows modelgate as a Go library: it builds a model tree in
// memory (as an MLflow artifact download or an S3 listing would arrive),
// scans it with one call and acts on the typed verdict.
//
//	go run ./examples/library
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing/fstest"

	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/report/text"
	"github.com/modelgate/modelgate/core/scan"
)

func main() {
	outcome, err := run(context.Background(), os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "library example:", err)
		os.Exit(2)
	}
	os.Exit(outcome.ExitCode())
}

// evilPickle is `pickle.dumps` of an object whose __reduce__ returns
// (os.system, ("echo pwned",)), protocol 2, written out by hand so the
// example needs no fixture files.
var evilPickle = []byte("\x80\x02cposix\nsystem\nq\x00X\n\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03.")

// plainPickle is `pickle.dumps({"weights": [1.0, 2.0]}, protocol=2)`.
var plainPickle = []byte("\x80\x02}q\x00X\x07\x00\x00\x00weightsq\x01]q\x02(G?\xf0\x00\x00\x00\x00\x00\x00G@\x00\x00\x00\x00\x00\x00\x00es.")

func run(ctx context.Context, w io.Writer) (report.Outcome, error) {
	tree := fstest.MapFS{
		"churn/model.pkl":   {Data: plainPickle},
		"fraud/model.pkl":   {Data: evilPickle},
		"fraud/README.md":   {Data: []byte("# fraud model\n")},
		"fraud/params.json": {Data: []byte(`{"threshold": 0.7}`)},
	}
	rep, err := scan.Run(ctx, scan.FS(tree, "models"), scan.Options{FailOn: "high"})
	if err != nil {
		return "", err
	}
	if err := text.New(text.Options{}).Write(ctx, w, rep); err != nil {
		return "", err
	}
	switch rep.Outcome {
	case report.OutcomePass:
		fmt.Fprintln(w, "deploy")
	case report.OutcomeFailFindings:
		fmt.Fprintf(w, "blocked: %d finding(s)\n", rep.Summary.Findings)
	case report.OutcomeFailUnscanned:
		fmt.Fprintln(w, "blocked: could not scan everything")
	}
	return rep.Outcome, nil
}
