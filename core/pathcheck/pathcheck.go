// Package pathcheck decides whether a path taken from a model or archive
// (a member name, an external-data location, a constant file path) would
// leave the directory it is resolved against. Formats share it so that
// every one of them treats Windows drives, UNC paths and backslashes alike.
package pathcheck

import "strings"

// Escapes returns why p would escape its base directory, or "" if it stays
// inside: absolute POSIX, Windows drive and UNC paths, a NUL byte (which
// truncates the path in C code), and any ".." component, with either
// separator.
func Escapes(p string) string {
	n := strings.ReplaceAll(p, "\\", "/")
	switch {
	case n == "":
		return ""
	case strings.HasPrefix(n, "/"):
		return "is an absolute path"
	case len(n) >= 2 && n[1] == ':' && ('a' <= n[0]|0x20 && n[0]|0x20 <= 'z'):
		return "is an absolute Windows path"
	case strings.ContainsRune(n, 0):
		return "contains a NUL byte"
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "climbs out of its directory with '..'"
		}
	}
	return ""
}
