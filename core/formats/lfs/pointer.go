// Package lfs recognises Git LFS pointer files and, given a local object
// store, scans the object a pointer stands for instead of the pointer text.
//
// A pointer is what git stores for an LFS-tracked file: a few "key value"
// lines naming the object's SHA-256 and size (git-lfs docs/spec.md). A
// pre-commit scan of the index, or a CI job that skipped the LFS download,
// sees only the pointer; scanning its text would say nothing about the
// model, so the object is looked up and scanned, or the pointer is reported
// as not scanned (MG904).
package lfs

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxPointerSize is the size below which git-lfs considers a blob a pointer
// candidate; real pointers are around 130 bytes.
const MaxPointerSize = 1024

// Spec URLs accepted on the version line: the current one and the
// pre-release "hawser" one that git-lfs still reads.
var versions = []string{
	"https://git-lfs.github.com/spec/v1",
	"https://hawser.github.com/spec/v1",
}

// PointerInfo is a parsed pointer file.
type PointerInfo struct {
	// OID is the object's SHA-256 as 64 lowercase hex digits.
	OID string
	// Size is the object's size in bytes.
	Size int64
	// Extensions lists "ext-N-name" keys: the stored object is the output
	// of those clean filters, not the file users check out.
	Extensions []string
}

// ErrNotPointer is returned by ParsePointer for content that is not a
// well-formed pointer.
var ErrNotPointer = errors.New("not a Git LFS pointer")

// ParsePointer parses a pointer file. It is strict about what git-lfs
// needs (version first, a sha256 oid, a decimal size, key syntax) and
// tolerates a missing final newline and unknown keys, which the spec says
// must be preserved.
func ParsePointer(data []byte) (PointerInfo, error) {
	var p PointerInfo
	if len(data) == 0 || len(data) >= MaxPointerSize {
		return p, ErrNotPointer
	}
	text := string(bytes.TrimSuffix(data, []byte("\n")))
	lines := strings.Split(text, "\n")
	if len(lines) < 3 {
		return p, ErrNotPointer
	}
	version, ok := strings.CutPrefix(lines[0], "version ")
	if !ok || !knownVersion(version) {
		return p, ErrNotPointer
	}
	seen := map[string]bool{}
	haveOID, haveSize := false, false
	for _, line := range lines[1:] {
		key, value, ok := strings.Cut(line, " ")
		if !ok || !validKey(key) || value == "" || seen[key] {
			return p, ErrNotPointer
		}
		seen[key] = true
		switch {
		case key == "oid":
			hex, ok := strings.CutPrefix(value, "sha256:")
			if !ok || !isLowerHex(hex, 64) {
				return p, ErrNotPointer
			}
			p.OID, haveOID = hex, true
		case key == "size":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 || !isDigits(value) {
				return p, ErrNotPointer
			}
			p.Size, haveSize = n, true
		case key == "version":
			return p, ErrNotPointer
		case strings.HasPrefix(key, "ext-"):
			p.Extensions = append(p.Extensions, key)
		}
	}
	if !haveOID || !haveSize {
		return p, ErrNotPointer
	}
	return p, nil
}

func knownVersion(v string) bool {
	for _, k := range versions {
		if v == k {
			return true
		}
	}
	return false
}

// validKey follows the spec's key alphabet: [a-z0-9.-].
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// short abbreviates an oid for messages.
func short(oid string) string {
	if len(oid) > 12 {
		return oid[:12]
	}
	return oid
}

// describe renders a pointer for reasons and evidence.
func (p PointerInfo) describe() string {
	return fmt.Sprintf("oid sha256:%s, %d bytes", short(p.OID), p.Size)
}
