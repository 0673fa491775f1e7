package cyclonedx

import (
	"crypto/rand"
	"crypto/sha256"
)

// randomSerial is a random (version 4) UUID URN, as CycloneDX recommends
// for every new BOM.
func randomSerial() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; fall back
		// to a digest of nothing rather than panicking in a report.
		b = sha256.Sum256(nil)
	}
	return uuidURN(b, 4)
}
