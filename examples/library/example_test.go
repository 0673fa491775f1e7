package library_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/scan"
)

// evilPickle is what CPython's pickle.dumps writes (protocol 2) for an
// object whose __reduce__ returns (os.system, ("echo pwned",)).
var evilPickle = []byte("\x80\x02cposix\nsystem\nq\x00X\n\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03.")

// plainPickle is pickle.dumps({"weights": [1.0, 2.0]}, protocol=2).
var plainPickle = []byte("\x80\x02}q\x00X\x07\x00\x00\x00weightsq\x01]q\x02(G?\xf0\x00\x00\x00\x00\x00\x00G@\x00\x00\x00\x00\x00\x00\x00es.")

// Example scans a tree that never touches the disk and decides on the
// typed outcome, as every adapter does.
func Example() {
	tree := fstest.MapFS{
		"churn/model.pkl":   {Data: plainPickle},
		"fraud/model.pkl":   {Data: evilPickle},
		"fraud/README.md":   {Data: []byte("# fraud model\n")},
		"fraud/params.json": {Data: []byte(`{"threshold": 0.7}`)},
	}
	rep, err := scan.Run(context.Background(), scan.FS(tree, "models"), scan.Options{FailOn: "high"})
	if err != nil {
		fmt.Println("scan failed:", err)
		return
	}
	for _, f := range rep.Findings() {
		fmt.Printf("%s: %s %s %s\n", f.Path, f.RuleID, f.Severity, f.Call)
	}
	switch rep.Outcome {
	case report.OutcomePass:
		fmt.Println("deploy")
	case report.OutcomeFailFindings:
		fmt.Printf("blocked: %d finding(s)\n", rep.Summary.Findings)
	case report.OutcomeFailUnscanned:
		fmt.Println("blocked: could not scan everything")
	}
	// Output:
	// models/fraud/model.pkl: MG101 critical posix.system("echo pwned")
	// blocked: 1 finding(s)
}
