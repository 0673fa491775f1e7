package policy

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/pickle"
	"github.com/modelgate/modelgate/core/rules"
)

// TestBudgetsAreNotFindings: a benign pickle that outgrows a resource
// budget is reported as not fully scanned, naming the budget, while input
// shaped like an attack (memo expansion, nesting no pickler writes) still
// is a finding.
func TestBudgetsAreNotFindings(t *testing.T) {
	var records bytes.Buffer
	records.WriteString("\x80\x04]\x94(")
	for i := 0; i < 2000; i++ {
		records.WriteString("}\x94(\x8c\x02id\x94K\x01\x8c\x04name\x94\x8c\x03abc\x94u")
	}
	records.WriteString("e.")
	// A million reads of one entry: what expands in recursive consumers.
	bomb := "\x80\x04]\x94" + strings.Repeat("h\x000", 1100000) + "."
	for _, tc := range []struct {
		name       string
		data       string
		limits     pickle.Limits
		unscanned  string // substring of the not-scanned reason, "" for none
		limitFound bool   // an MG111 finding
	}{
		{"opcodes", records.String(), pickle.Limits{MaxOpcodes: 1000}, "max_opcodes 1000", false},
		{"memo", records.String(), pickle.Limits{MaxMemo: 100}, "max_memo 100", false},
		{"stack", records.String(), pickle.Limits{MaxStack: 5}, "max_stack 5", false},
		{"nesting", strings.Repeat("(", 10001), pickle.Limits{}, "", true},
		{"memo-expansion", bomb, pickle.Limits{}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := pickle.Run(context.Background(), strings.NewReader(tc.data), 0, int64(len(tc.data)), pickle.Options{Limits: tc.limits})
			if err != nil {
				t.Fatal(err)
			}
			v := Default().JudgePickle(tr, "")
			limit := false
			for _, f := range v.Findings {
				if f.RuleID == rules.PickleLimit {
					limit = true
				}
			}
			if limit != tc.limitFound {
				t.Errorf("MG111 reported: %v, want %v (findings %+v)", limit, tc.limitFound, v.Findings)
			}
			got := strings.Join(v.Unscanned, "; ")
			if (tc.unscanned == "") != (got == "") || !strings.Contains(got, tc.unscanned) {
				t.Errorf("not scanned: %q, want one naming %q", got, tc.unscanned)
			}
		})
	}
}
