package policy

import (
	"regexp"
	"strings"
	"testing"
)

// isSHA256Pin accepts exactly what the documented pattern does.
func TestSHA256PinMatchesItsPattern(t *testing.T) {
	re := regexp.MustCompile(`^(sha256:)?[0-9a-fA-F]{64}$`)
	hex := strings.Repeat("0123456789abcdefABCDEF", 3)[:64]
	for _, s := range []string{"", hex, "sha256:" + hex, "SHA256:" + hex, "sha256:sha256:" + hex, hex[:63], hex + "0",
		"sha256:" + hex[:63] + "g", " " + hex, "sha256:", strings.Repeat("f", 64), strings.Repeat("g", 64)} {
		if got, want := isSHA256Pin(s), re.MatchString(s); got != want {
			t.Errorf("isSHA256Pin(%q) = %v, pattern says %v", s, got, want)
		}
	}
}
