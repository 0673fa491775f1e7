package pickle

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestOnBuildCallee: the hook sees only BUILDs on results of the calls
// its filter accepts, and every BUILD without a filter.
func TestOnBuildCallee(t *testing.T) {
	data := []byte("\x80\x02cmod\nA\n)\x81}bcmod\nB\n)\x81}b\x86.")
	for _, tc := range []struct {
		filter func(module, name string) bool
		want   string
	}{
		{nil, "mod.A mod.B"},
		{func(module, name string) bool { return name == "B" }, "mod.B"},
	} {
		var seen []string
		_, err := Run(context.Background(), bytes.NewReader(data), 0, int64(len(data)), Options{
			OnBuild: func(target, _ Value, _ *Stream) error {
				g := target.O.Call.Callee.O
				seen = append(seen, g.Module+"."+g.Name)
				return nil
			},
			OnBuildCallee: tc.filter,
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(seen, " "); got != tc.want {
			t.Errorf("hook saw %q, want %q", got, tc.want)
		}
	}
}
