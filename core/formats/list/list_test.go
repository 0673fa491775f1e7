package list

import (
	"testing"

	"github.com/modelgate/modelgate/core/engine"
)

// TestEveryFormatIsVersioned: reports record each detector's version, so a
// built-in format without one would make results untraceable.
func TestEveryFormatIsVersioned(t *testing.T) {
	for _, f := range Default() {
		v, ok := f.(engine.Versioned)
		if !ok || v.Version() == "" {
			t.Errorf("format %s (%T) reports no version", f.Name(), f)
		}
	}
}
