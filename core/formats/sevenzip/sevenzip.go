// Package sevenzip scans 7z archives. Decoding uses
// github.com/bodgit/sevenzip after a bounded walk of the archive header
// (see preflight); every member is decompressed within the engine's bomb
// limits and scanned by content. Encrypted members and headers are
// reported as not scanned.
package sevenzip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	sz "github.com/bodgit/sevenzip"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/zipfmt"
	"github.com/modelgate/modelgate/core/limits"
	"github.com/modelgate/modelgate/core/rules"
)

// magic starts every 7z archive.
var magic = []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}

// maxLinkTarget bounds the bytes read from a symbolic link member (its
// content is the target path).
const maxLinkTarget = 4096

// SevenZip is the 7z archive format.
type SevenZip struct{}

// Name implements engine.Format.
func (SevenZip) Name() string { return "7z" }

// Version implements engine.Versioned.
func (SevenZip) Version() string { return FormatVersion }

// Match implements engine.Format.
func (SevenZip) Match(in *engine.Input) bool { return bytes.HasPrefix(in.Head, magic) }

// Scan implements engine.Format.
func (SevenZip) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	lim := env.Limits.WithDefaults()
	if in.Size < signatureLen {
		return fmt.Errorf("7z: %d bytes is too short for the signature header", in.Size)
	}
	encrypted, err := preflight(in.R, in.Size, uint64(lim.MaxMembers))
	if err != nil {
		var le *limitError
		switch {
		case errors.Is(err, errEncrypted):
			env.NotScanned(rules.NotScannedEncrypted, "", "7z header is encrypted (7z -mhe): member names and contents are unreadable")
			return nil
		case errors.As(err, &le):
			env.NotScanned(rules.NotScannedLimit, "", le.Error())
			return nil
		}
		return err
	}
	a, err := openArchive(in.R, in.Size)
	if err != nil {
		var re *sz.ReadError
		if errors.As(err, &re) && re.Encrypted {
			env.NotScanned(rules.NotScannedEncrypted, "", fmt.Sprintf("7z header is encrypted: %v", err))
			return nil
		}
		return fmt.Errorf("7z: %w", err)
	}
	budget := archiveBudget(lim, in.Size)
	for i, f := range a.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if i >= lim.MaxMembers {
			env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("more than max_members %d members; the rest were not scanned", lim.MaxMembers))
			return nil
		}
		checkName(env, f)
		if encrypted[f.Stream] && !f.Mode().IsDir() && f.UncompressedSize > 0 {
			env.NotScanned(rules.NotScannedEncrypted, memberName(f), "member is encrypted (7z AES)")
			continue
		}
		if err := scanMember(ctx, env, f, in.Size, &budget); err != nil {
			return err
		}
	}
	return nil
}

// archiveBudget is how many decompressed bytes all members together may
// produce: solid archives decompress one stream for many members, so the
// per-stream limits alone would let each member expand to the limit.
func archiveBudget(lim limits.Limits, compressed int64) int64 {
	b := int64(float64(compressed) * lim.MaxRatio)
	if b < limits.RatioFloorBytes {
		b = limits.RatioFloorBytes
	}
	return min(b, lim.MaxDecompressedBytes)
}

func scanMember(ctx context.Context, env *engine.Env, f *sz.File, archiveSize int64, budget *int64) error {
	name := f.Name
	member := memberName(f)
	mode := f.Mode()
	if mode.IsDir() {
		return nil
	}
	link := mode&fs.ModeSymlink != 0
	if !link && *budget <= 0 {
		// Opening would make the decoder skip through the rest of the
		// previous member first, outside any limit.
		env.Report(finding.Finding{RuleID: rules.DecompressBomb, Member: member, Offset: -1,
			Message: "the archive's members together expand past the decompression limits; this member was not scanned"})
		return nil
	}
	rc, err := openMember(f)
	if err != nil {
		return memberError(env, member, err, 0)
	}
	defer closeMember(rc)
	if link {
		return checkLink(env, member, name, &cutReader{r: rc, left: maxLinkTarget})
	}
	cr := &cutReader{r: rc, left: *budget}
	err = env.RecurseStream(ctx, member, cr, archiveSize, "")
	*budget -= cr.n
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		env.NotScanned(rules.NotScannedError, member, err.Error())
		return nil
	}
	switch {
	case cr.err != nil:
		return memberError(env, member, cr.err, cr.n)
	case cr.exhausted:
		env.Report(finding.Finding{RuleID: rules.DecompressBomb, Member: member, Offset: -1,
			Message: fmt.Sprintf("the archive's members together expand past the decompression limits; scanning stopped after %d bytes of this member", cr.n)})
	}
	return nil
}

// checkName reports a member name that escapes the extraction directory.
func checkName(env *engine.Env, f *sz.File) {
	if why := zipfmt.PathEscapes(f.Name); why != "" {
		env.Report(finding.Finding{RuleID: rules.ArchiveSlip, Member: memberName(f), Offset: -1,
			Message: fmt.Sprintf("member name %q %s", f.Name, why)})
	}
}

func memberName(f *sz.File) string {
	if f.Name == "" {
		return "<unnamed>"
	}
	return f.Name
}

// memberError records a member that could not be (fully) decompressed.
func memberError(env *engine.Env, member string, err error, read int64) error {
	var re *sz.ReadError
	if errors.As(err, &re) && re.Encrypted {
		env.NotScanned(rules.NotScannedEncrypted, member, "member is encrypted")
		return nil
	}
	if read > 0 {
		env.NotScanned(rules.NotScannedError, member, fmt.Sprintf("decompression failed after %d bytes (those were scanned): %v", read, err))
		return nil
	}
	env.NotScanned(rules.NotScannedError, member, fmt.Sprintf("cannot decompress: %v", err))
	return nil
}

// checkLink reports a symbolic link member (its content is the target)
// whose target leaves the extraction directory.
func checkLink(env *engine.Env, member, name string, cr *cutReader) error {
	target, _ := io.ReadAll(cr)
	if cr.err != nil {
		return memberError(env, member, cr.err, 0)
	}
	if why := linkEscapes(name, string(target)); why != "" {
		env.Report(finding.Finding{RuleID: rules.ArchiveSlip, Member: member, Offset: -1,
			Message: fmt.Sprintf("member %q is a symbolic link whose target %q %s; extracting it lets later writes or reads leave the target directory", name, target, why)})
	}
	return nil
}

// cutReader hands the engine what the decoder produced: a decoding error
// or the archive-wide budget ends the stream cleanly so that everything
// read so far is still scanned; the reason is kept for the report.
type cutReader struct {
	r         io.Reader
	left      int64
	n         int64
	err       error
	exhausted bool
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.err != nil || c.exhausted {
		return 0, io.EOF
	}
	if c.left <= 0 {
		c.exhausted = true
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := guardedRead(c.r, p)
	c.n += int64(n)
	c.left -= int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		c.err = err
		err = io.EOF
	}
	return n, err
}

// The decoder is a third-party library fed hostile bytes. A panic inside
// it is turned into an error for this archive or member (reported as not
// scanned) instead of taking the whole file's scan down.

func openArchive(r io.ReaderAt, size int64) (a *sz.Reader, err error) {
	defer recoverFault(&err)
	return sz.NewReader(r, size)
}

func openMember(f *sz.File) (rc io.ReadCloser, err error) {
	defer recoverFault(&err)
	return f.Open()
}

func closeMember(rc io.ReadCloser) {
	var err error
	defer recoverFault(&err)
	_ = rc.Close()
}

func guardedRead(r io.Reader, p []byte) (n int, err error) {
	defer recoverFault(&err)
	return r.Read(p)
}

func recoverFault(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("7z decoder fault on malformed data: %v", r)
	}
}

// FormatVersion changes whenever this package reports differently for the
// same bytes; reports record it next to the format name.
const FormatVersion = "1.0.0"
