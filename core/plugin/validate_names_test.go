package plugin

import (
	"regexp"
	"strings"
	"testing"
)

// The hand-written checks accept exactly what the documented patterns do.
func TestNameChecksMatchTheirPatterns(t *testing.T) {
	nameRE := regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	ruleIDRE := regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{1,63}$`)
	cases := []string{"", "a", "A", "0", "tflite", "my-plugin_2.0", "-x", ".x", "x-", "Ab", "A1", "a b", "TFL001",
		"é", "aé", "x\n", strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 65), "TF" + strings.Repeat("1", 62), "TF" + strings.Repeat("1", 63)}
	for c := byte(0); c < 128; c++ {
		cases = append(cases, "a"+string(c), string(c)+"a")
	}
	for _, s := range cases {
		if got, want := validName(s), nameRE.MatchString(s); got != want {
			t.Errorf("validName(%q) = %v, pattern says %v", s, got, want)
		}
		if got, want := validRuleID(s), ruleIDRE.MatchString(s); got != want {
			t.Errorf("validRuleID(%q) = %v, pattern says %v", s, got, want)
		}
	}
}
