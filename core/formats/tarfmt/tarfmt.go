// Package tarfmt scans tar archives (ustar, GNU, PAX and old v7 headers)
// and PyTorch's oldest checkpoint format, a tar whose "storages",
// "tensors" and "pickle" members torch.load still tries before anything
// else. Every regular member goes back through the engine; member names
// and link targets that escape the extraction directory are reported.
// Compressed tars reach this package already decompressed by
// core/formats/compressed.
package tarfmt

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/zipfmt"
	"github.com/modelgate/modelgate/core/rules"
)

const (
	blockSize = 512
	// matchMembers bounds the headers Match reads to tell a PyTorch tar
	// from another tar: torch.save wrote four members.
	matchMembers = 16
	// maxSpecialCopies bounds how many copies of one torch member name are
	// remembered; further copies but the last are scanned as plain members.
	maxSpecialCopies = 64
)

// Tar is every tar archive that is not a PyTorch checkpoint.
type Tar struct{}

// TorchTar is PyTorch's pre-0.4 tar checkpoint: members "sys_info",
// "pickle", "tensors" and "storages".
type TorchTar struct{}

// Name implements engine.Format.
func (Tar) Name() string { return "tar" }

// Version implements engine.Versioned.
func (Tar) Version() string { return FormatVersion }

// Name implements engine.Format.
func (TorchTar) Name() string { return "pytorch-tar" }

// Version implements engine.Versioned.
func (TorchTar) Version() string { return FormatVersion }

// Match implements engine.Format.
func (Tar) Match(in *engine.Input) bool { return ValidHeader(in.Head) }

// Match implements engine.Format.
func (TorchTar) Match(in *engine.Input) bool {
	if !ValidHeader(in.Head) {
		return false
	}
	tr := tar.NewReader(io.NewSectionReader(in.R, 0, in.Size))
	for i := 0; i < matchMembers; i++ {
		h, err := tr.Next()
		if err != nil {
			return false
		}
		if h.Name == "storages" {
			return true
		}
	}
	return false
}

// Scan implements engine.Format.
func (Tar) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	return scan(ctx, in, env)
}

// Scan implements engine.Format. Archives that Match missed (the member
// "storages" placed late) are handled the same way by Tar.
func (TorchTar) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	return scan(ctx, in, env)
}

// ValidHeader reports whether b starts with a tar header block whose
// checksum is right (unsigned or, as some old writers made it, signed) and
// whose numeric fields are well formed. This accepts ustar, GNU, PAX and
// v7 headers, as Python's tarfile does.
func ValidHeader(b []byte) bool {
	if len(b) < blockSize {
		return false
	}
	b = b[:blockSize]
	want, ok := octal(b[148:156])
	if !ok {
		return false
	}
	var unsigned, signed int64
	for i, c := range b {
		if i >= 148 && i < 156 {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	if want != unsigned && want != signed {
		return false
	}
	magic := b[257:265]
	if bytes.HasPrefix(magic, []byte("ustar")) {
		return true
	}
	// v7: no magic, so also insist on a plausible type and octal sizes.
	if b[0] == 0 {
		return false
	}
	if t := b[156]; t != 0 && (t < '0' || t > '7') {
		return false
	}
	_, okSize := octal(b[124:136])
	_, okMode := octal(b[100:108])
	return okSize && okMode
}

// octal parses a NUL- or space-terminated octal field with optional
// leading spaces.
func octal(f []byte) (int64, bool) {
	s := strings.TrimLeft(string(f), " ")
	if i := strings.IndexAny(s, " \x00"); i >= 0 {
		if strings.Trim(s[i:], " \x00") != "" {
			return 0, false
		}
		s = s[:i]
	}
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 8, 64)
	return n, err == nil
}

// torchMembers are the names torch's legacy_load extracts, in the order
// it reads them.
var torchMembers = []string{"storages", "tensors", "pickle"}

// region is one member's data, contiguous in the archive.
type region struct {
	member string
	off    int64
	size   int64
}

// scanner holds the state of one archive scan.
type scanner struct {
	in      *engine.Input
	env     *engine.Env
	seen    map[[16]byte]int
	special map[string][]region
	// copies counts every copy of each special name, remembered or not.
	copies  map[string]int
	members int
}

func scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	s := &scanner{in: in, env: env, seen: map[[16]byte]int{}, special: map[string][]region{}, copies: map[string]int{}}
	werr := s.walk(ctx)
	if errors.Is(werr, context.Canceled) || errors.Is(werr, context.DeadlineExceeded) {
		return werr
	}
	if err := s.finish(ctx); err != nil {
		return err
	}
	return werr
}

// walk visits every header. Members torch reads specially are only
// remembered; everything else is scanned at once.
func (s *scanner) walk(ctx context.Context) error {
	sr := io.NewSectionReader(s.in.R, 0, s.in.Size)
	tr := tar.NewReader(sr)
	maxMembers := s.env.Limits.WithDefaults().MaxMembers
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			s.env.NotScanned(rules.NotScannedError, "", fmt.Sprintf("tar header after %d members is unreadable (%v); anything after it was not scanned", s.members, err))
			return nil
		}
		s.members++
		if s.members > maxMembers {
			s.env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("more than max_members %d members; the rest were not scanned", maxMembers))
			return nil
		}
		member := s.memberName(h.Name)
		s.checkPath(h, member)
		if !isRegular(h) {
			continue
		}
		if isSparse(h) {
			// Holes are expanded by the reader; stream it within the
			// decompression limits. h.Size is the expanded size, which a
			// header may set at will: the ratio limit is taken against the
			// archive, which holds every stored byte of the member.
			if err := s.memberErr(member, s.env.RecurseStream(ctx, member, tr, min(h.Size, s.in.Size), "")); err != nil {
				return err
			}
			continue
		}
		off, err := sr.Seek(0, io.SeekCurrent)
		if err != nil {
			return fmt.Errorf("tar: %w", err)
		}
		r := region{member: member, off: off, size: h.Size}
		if avail := s.in.Size - off; r.size > avail {
			s.env.NotScanned(rules.NotScannedError, member, fmt.Sprintf("member data (%d bytes at offset %d) runs past the end of the archive; the %d bytes present are scanned", h.Size, off, max(avail, 0)))
			r.size = max(avail, 0)
		}
		if isTorchName(h.Name) {
			if err := s.remember(ctx, h.Name, r); err != nil {
				return err
			}
			continue
		}
		if err := s.recurse(ctx, r); err != nil {
			return err
		}
	}
}

// remember keeps a copy of a member torch reads specially for finish. Past
// maxSpecialCopies the copy kept last so far is scanned as a plain member
// and r takes its place: torch.load reads the last copy, so that one must
// always reach finish.
func (s *scanner) remember(ctx context.Context, name string, r region) error {
	s.copies[name]++
	copies := s.special[name]
	if len(copies) < maxSpecialCopies {
		s.special[name] = append(copies, r)
		return nil
	}
	last := &copies[len(copies)-1]
	if err := s.recurse(ctx, *last); err != nil {
		return err
	}
	*last = r
	return nil
}

// finish scans the members torch reads specially: when "storages" exists
// torch.load parses the last copy of each in its legacy layout; every
// other copy, and all of them in a tar torch would not load, are scanned
// as plain members.
func (s *scanner) finish(ctx context.Context) error {
	torch := len(s.special["storages"]) > 0
	for _, name := range torchMembers {
		copies := s.special[name]
		if len(copies) == 0 {
			continue
		}
		last := copies[len(copies)-1]
		if torch {
			copies = copies[:len(copies)-1]
			if len(copies) > 0 {
				s.env.Report(finding.Finding{RuleID: rules.TorchTarLayout, Member: last.member, Offset: -1,
					Message:  fmt.Sprintf("member %q appears %d times; torch.load reads the last copy, every copy is scanned", name, s.copies[name]),
					Evidence: fmt.Sprintf("last copy at offset %d", last.off)})
			}
		}
		for _, r := range copies {
			if err := s.recurse(ctx, r); err != nil {
				return err
			}
		}
		if torch {
			if err := s.memberErr(last.member, s.torchMember(ctx, name, last)); err != nil {
				return err
			}
		}
	}
	return nil
}

func isTorchName(name string) bool {
	for _, n := range torchMembers {
		if name == n {
			return true
		}
	}
	return false
}

// isRegular reports whether a member carries file data. Python's tarfile
// extracts members of unknown types as regular files (and extractfile
// reads them), so everything but links, directories, devices and global
// PAX records counts.
func isRegular(h *tar.Header) bool {
	switch h.Typeflag {
	case tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo, tar.TypeXGlobalHeader:
		return false
	}
	return true
}

func isSparse(h *tar.Header) bool {
	if h.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// memberName names the member in reports; later copies of a repeated
// name get "#<n>" so a suppression for one copy never covers another.
func (s *scanner) memberName(name string) string {
	if name == "" {
		name = fmt.Sprintf("<entry %d>", s.members)
	}
	sum := sha256.Sum256([]byte(name))
	key := [16]byte(sum[:16])
	s.seen[key]++
	if n := s.seen[key]; n > 1 {
		return fmt.Sprintf("%s#%d", name, n)
	}
	return name
}

// checkPath reports names and link targets that escape the extraction
// directory (archive slip, CVE-2007-4559 for Python's tarfile).
func (s *scanner) checkPath(h *tar.Header, member string) {
	if why := zipfmt.PathEscapes(h.Name); why != "" {
		s.env.Report(finding.Finding{RuleID: rules.ArchiveSlip, Member: member, Offset: -1,
			Message: fmt.Sprintf("member name %q %s", h.Name, why), Evidence: fmt.Sprintf("type %q", h.Typeflag)})
	}
	if why := LinkEscapes(h); why != "" {
		s.env.Report(finding.Finding{RuleID: rules.ArchiveSlip, Member: member, Offset: -1,
			Message:  fmt.Sprintf("member %q is a link whose target %q %s; extracting it lets later writes or reads leave the target directory", h.Name, h.Linkname, why),
			Evidence: fmt.Sprintf("type %q", h.Typeflag)})
	}
}

// LinkEscapes returns why a symbolic or hard link's target points outside
// the extraction directory ("" if it does not or h is not a link).
// Symbolic link targets are relative to the link's directory, hard link
// targets to the archive root.
func LinkEscapes(h *tar.Header) string {
	var target string
	switch h.Typeflag {
	case tar.TypeSymlink:
		target = h.Linkname
		if why := zipfmt.PathEscapes(target); strings.HasPrefix(why, "is an absolute") {
			return why
		}
		target = path.Join(path.Dir(strings.ReplaceAll(h.Name, "\\", "/")), strings.ReplaceAll(target, "\\", "/"))
	case tar.TypeLink:
		target = strings.ReplaceAll(h.Linkname, "\\", "/")
		if why := zipfmt.PathEscapes(target); why != "" {
			return why
		}
		target = path.Clean(target)
	default:
		return ""
	}
	if target == ".." || strings.HasPrefix(target, "../") || strings.HasPrefix(target, "/") {
		return "resolves outside the archive root"
	}
	return ""
}

// recurse passes a member to the engine; only cancellation aborts the
// archive.
func (s *scanner) recurse(ctx context.Context, r region) error {
	err := s.env.Recurse(ctx, r.member, io.NewSectionReader(s.in.R, r.off, r.size), r.size, "")
	return s.memberErr(r.member, err)
}

func (s *scanner) memberErr(member string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	s.env.NotScanned(rules.NotScannedError, member, err.Error())
	return nil
}

// FormatVersion changes whenever this package reports differently for the
// same bytes; reports record it next to the format name.
const FormatVersion = "1.0.0"
