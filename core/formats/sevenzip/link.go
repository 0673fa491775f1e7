package sevenzip

import (
	"path"
	"strings"

	"github.com/modelgate/modelgate/core/formats/zipfmt"
)

// linkEscapes returns why a symbolic link named name with the given target
// resolves outside the extraction directory ("" if it stays inside).
func linkEscapes(name, target string) string {
	target = strings.ReplaceAll(target, "\\", "/")
	if why := zipfmt.PathEscapes(target); strings.HasPrefix(why, "is an absolute") {
		return why
	}
	p := path.Join(path.Dir(strings.ReplaceAll(name, "\\", "/")), target)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "resolves outside the archive root"
	}
	return ""
}
