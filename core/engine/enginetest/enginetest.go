// Package enginetest holds the helpers that format tests share: an engine
// over a given format list, scanning bytes, and a compact view of which
// rules a result carries.
package enginetest

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
)

// New builds a single-job engine over formats (callers outside a format's
// own package usually pass list.Default()).
func New(t testing.TB, formats []engine.Format) *engine.Engine {
	t.Helper()
	eng, err := engine.New(engine.Options{Formats: formats, Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// ScanBytes scans data as a top-level file called name.
func ScanBytes(eng *engine.Engine, name string, data []byte) finding.FileResult {
	return eng.ScanReaderAt(context.Background(), name, bytes.NewReader(data), int64(len(data)))
}

// RuleIDs returns the distinct rule ids of the findings and of the
// not-scanned items, each sorted and comma-joined, for table tests.
func RuleIDs(res finding.FileResult) (findings, unscanned string) {
	var f, u []string
	for _, x := range res.Findings {
		f = append(f, x.RuleID)
	}
	for _, x := range res.Unscanned {
		u = append(u, x.RuleID)
	}
	slices.Sort(f)
	slices.Sort(u)
	return strings.Join(slices.Compact(f), ","), strings.Join(slices.Compact(u), ",")
}
