package pathcheck

import "testing"

func TestEscapes(t *testing.T) {
	tests := []struct {
		path   string
		escape bool
	}{
		{"", false},
		{"weights.bin", false},
		{"data/0", false},
		{"archive/data.pkl", false},
		{"a..b/c", false},
		{"..", true},
		{"../etc/passwd", true},
		{"data/../../x", true},
		{`..\..\x`, true},
		{"/etc/passwd", true},
		{`\\server\share\x`, true},
		{"C:/Windows/x", true},
		{`c:\x`, true},
		{"ok\x00/../", true},
	}
	for _, tt := range tests {
		if got := Escapes(tt.path) != ""; got != tt.escape {
			t.Errorf("Escapes(%q) = %q, want escape=%v", tt.path, Escapes(tt.path), tt.escape)
		}
	}
}
