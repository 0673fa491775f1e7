package plugin_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strconv"
)

func fileDigest(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func itoa(i int) string { return strconv.Itoa(i) }
