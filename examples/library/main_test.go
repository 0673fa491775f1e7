package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/report"
)

func TestExampleBlocksTheUnsafeModel(t *testing.T) {
	var out bytes.Buffer
	outcome, err := run(context.Background(), &out)
	if err != nil {
		t.Fatal(err)
	}
	if outcome != report.OutcomeFailFindings {
		t.Fatalf("outcome %s\n%s", outcome, out.String())
	}
	for _, want := range []string{"models/fraud/model.pkl", "posix.system", "blocked: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "models/churn/model.pkl:") {
		t.Errorf("clean model reported:\n%s", out.String())
	}
}
