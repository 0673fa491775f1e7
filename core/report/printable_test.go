package report

import "testing"

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain/path.pkl", "plain/path.pkl"},
		{"модель ü 模型.pt", "модель ü 模型.pt"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"line\nbreak\ttab", `line\nbreak\ttab`},
		{"bidi\u202eexe.pkl", `bidi\u202eexe.pkl`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"real \ufffd kept", "real \ufffd kept"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
