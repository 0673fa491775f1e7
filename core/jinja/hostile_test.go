package jinja

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/modelgate/modelgate/core/finding"
)

// TestHostileFolding: constant folding must stay bounded in memory and
// never panic, whatever sizes and steps a template asks for.
func TestHostileFolding(t *testing.T) {
	cases := []struct{ name, src string }{
		{"repeat count overflows the length product", `{{ "abcd" * 4611686018427387904 }}`},
		{"slice step overflows the index", `{{ "ab"[1::9223372036854775807] }}`},
		{"list slice step overflows the index", `{{ [1, 2][1::9223372036854775807] }}`},
		{"replace with an empty needle", `{{ ("a" * 60000)|replace("", "b" * 60000) }}`},
		{"replace method grows quadratically", `{{ ("a" * 60000).replace("a", "b" * 60000) }}`},
		{"join filter grows quadratically", `{{ (("a" * 60000)|list)|join("b" * 60000) }}`},
		{"join method grows quadratically", `{{ ("b" * 60000).join(("a" * 60000)|list) }}`},
		{"join of a string", `{{ ("a" * 60000)|join("b" * 60000) }}`},
		{"filter name of 50000 dotted parts", "{{ x|a" + strings.Repeat(".a", 50000) + " }}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_ = Check(ctx, c.src, DefaultLimits())
			runtime.ReadMemStats(&after)
			if d := after.TotalAlloc - before.TotalAlloc; d > 256<<20 {
				t.Errorf("allocated %d MiB", d>>20)
			}
		})
	}
}

// TestPaddingKeepsWorstIssue: the analyser keeps a bounded number of
// issues, so padding a template with hundreds of low-severity oddities
// must not push the sandbox escape after them out of the result.
func TestPaddingKeepsWorstIssue(t *testing.T) {
	escape := `{{ ''.__class__.__mro__[1].__subclasses__() }}`
	cases := []struct{ name, pad string }{
		{"private attribute reads", `{{ x._p }}`},
		{"escaped literals", `{{ "\x61" }}`},
		{"dangerous references", `{{ x.__dict__ }}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Repeat(c.pad, 1000) + escape
			w, _ := worst(Check(context.Background(), src, DefaultLimits()))
			if w != finding.SeverityCritical {
				t.Errorf("worst severity %v after 1000 paddings, want critical", w)
			}
		})
	}
}
