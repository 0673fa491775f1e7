package pickle

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestHostileIntegerText: INT and LONG lines of a million digits each are
// checked in linear time (big.Int parsing took seconds per line, so a
// pickle of a few dozen of them ran for minutes).
func TestHostileIntegerText(t *testing.T) {
	digits := strings.Repeat("9", maxInline)
	cases := []struct{ name, op, suffix string }{
		{"INT", "I", ""},
		{"LONG", "L", "L"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			for range 48 {
				b.WriteString(c.op + digits + c.suffix + "\n0") // push, POP
			}
			b.WriteString("N.")
			data := b.String()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			tr, err := Run(ctx, strings.NewReader(data), 0, int64(len(data)), Options{})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if ctx.Err() != nil {
				t.Fatal("Run needed more than a minute")
			}
			if m := malformed(tr); m != "" {
				t.Fatalf("digits rejected: %s", m)
			}
		})
	}
}

// TestTraceBoundsStopTheTrace: a trace holds at most maxTraceCalls calls
// and maxTraceEvents events. Padding a pickle past them (harmless calls,
// then the payload) once made the VM drop what came after, and the payload
// passed: reaching a bound must end the trace with a budget event (the
// file is then not completely scanned), never go on without recording.
func TestTraceBoundsStopTheTrace(t *testing.T) {
	payload := "cposix\nsystem\n(S'touch /tmp/x'\ntR."
	cases := []struct {
		name, head, pad string
		n               int
		want            string
	}{
		// A call-through callee is never counted as routine, so each
		// call is kept (torch's _rebuild_from_type_v2(OrderedDict, ...)).
		{"calls", "\x80\x02ctorch._tensor\n_rebuild_from_type_v2\nq\x00ccollections\nOrderedDict\nq\x0100",
			"h\x00(h\x01h\x01)}tR0", maxTraceCalls + 5, "calls"},
		// SETITEMS on a call result is an event each.
		{"events", "\x80\x02ccollections\nOrderedDict\n)Rq\x00", "h\x00(K\x01K\x02u0", maxTraceEvents + 5, "events"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := c.head + strings.Repeat(c.pad, c.n) + payload
			tr, err := Run(context.Background(), strings.NewReader(data), 0, int64(len(data)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var budget string
			for _, e := range tr.Events {
				if e.Kind == EvBudget {
					budget = e.Detail
				}
			}
			if !strings.Contains(budget, c.want) || tr.Complete {
				t.Fatalf("budget event %q, complete %v; want the trace stopped at its most %s", budget, tr.Complete, c.want)
			}
		})
	}
}

// TestImportsPastTheBoundKeepNewNames: past maxTraceGlobals imports the
// trace keeps each name it does not hold yet, so padding with one harmless
// import hides nothing; past maxTraceDistinctGlobals distinct names it is
// full.
func TestImportsPastTheBoundKeepNewNames(t *testing.T) {
	data := "\x80\x02" + strings.Repeat("ccollections\nOrderedDict\n0", maxTraceGlobals+5) + "cposix\nsystem\n(S'x'\ntR."
	tr, err := Run(context.Background(), strings.NewReader(data), 0, int64(len(data)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	last := tr.Globals[len(tr.Globals)-1]
	if len(tr.Globals) != maxTraceGlobals+1 || last.Module != "posix" || len(tr.Calls) != 1 || !tr.Complete {
		t.Fatalf("%d globals, last %s.%s, %d calls, complete %v; want the padding's first %d and posix.system, its call, a complete trace",
			len(tr.Globals), last.Module, last.Name, len(tr.Calls), tr.Complete, maxTraceGlobals)
	}
	var b strings.Builder
	b.WriteString("\x80\x02")
	for i := range maxTraceDistinctGlobals + 5 {
		fmt.Fprintf(&b, "cm%d\nf\n0", i)
	}
	b.WriteString("N.")
	data = b.String()
	tr, err = Run(context.Background(), strings.NewReader(data), 0, int64(len(data)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ev := tr.Events[len(tr.Events)-1]; ev.Kind != EvBudget || !strings.Contains(ev.Detail, "distinct globals") {
		t.Fatalf("last event %s %q, want the trace full of distinct globals", ev.Kind, ev.Detail)
	}
}

// TestEndingEventsSurviveAFullTrace: how a pickle ended (here max_opcodes)
// is recorded even when the trace already holds its most events.
func TestEndingEventsSurviveAFullTrace(t *testing.T) {
	// Persistent ids are informational and dropped past the bound, so
	// they fill the events without stopping the trace.
	data := "\x80\x02" + strings.Repeat("K\x01Q0", maxTraceEvents+10) + "N."
	tr, err := Run(context.Background(), strings.NewReader(data), 0, int64(len(data)), Options{Limits: Limits{MaxOpcodes: 3 * (maxTraceEvents + 5)}})
	if err != nil {
		t.Fatal(err)
	}
	last := tr.Events[len(tr.Events)-1]
	if last.Kind != EvBudget || !strings.Contains(last.Detail, "max_opcodes") {
		t.Fatalf("last event %s %q, want the max_opcodes budget", last.Kind, last.Detail)
	}
}
