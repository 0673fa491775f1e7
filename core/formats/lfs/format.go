package lfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/modelgate/modelgate/core/ctxio"
	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/rules"
)

// Pointer is the Git LFS pointer format. With a nil Store every pointer is
// reported as not scanned (MG904); with a Store the object is verified
// against the pointer and scanned in its place.
type Pointer struct {
	Store Store
}

// Name implements engine.Format.
func (Pointer) Name() string { return "lfs-pointer" }

// Version implements engine.Versioned.
func (Pointer) Version() string { return FormatVersion }

// Match implements engine.Format. Pointers are smaller than the head, so
// the whole content is at hand.
func (Pointer) Match(in *engine.Input) bool {
	if in.Size >= MaxPointerSize || int64(len(in.Head)) != in.Size {
		return false
	}
	_, err := ParsePointer(in.Head)
	return err == nil
}

// Scan implements engine.Format.
func (p Pointer) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	ptr, err := ParsePointer(in.Head)
	if err != nil {
		return fmt.Errorf("lfs pointer: %w", err)
	}
	if len(ptr.Extensions) > 0 {
		env.NotScannedByName(rules.NotScannedLFS, "", fmt.Sprintf(
			"Git LFS pointer (%s) uses extension(s) %s: the stored object is filtered and was not scanned",
			ptr.describe(), strings.Join(ptr.Extensions, ", ")))
		return nil
	}
	if p.Store == nil {
		env.NotScannedByName(rules.NotScannedLFS, "", fmt.Sprintf(
			"Git LFS pointer (%s): no LFS object store is available to this scan", ptr.describe()))
		return nil
	}
	obj, size, err := p.Store.Open(ptr.OID)
	if errors.Is(err, fs.ErrNotExist) {
		env.NotScannedByName(rules.NotScannedLFS, "", fmt.Sprintf(
			"Git LFS pointer (%s): the object is not in %s (run git lfs fetch)", ptr.describe(), p.Store))
		return nil
	}
	if err != nil {
		return err
	}
	defer obj.Close()
	if size > env.Limits.MaxFileBytes {
		env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf(
			"Git LFS object (%s) is %d bytes, larger than max_file_bytes %d", ptr.describe(), size, env.Limits.MaxFileBytes))
		return nil
	}
	if err := verify(ctx, env, ptr, obj, size); err != nil {
		return err
	}
	return env.Resolve(ctx, obj, size)
}

// verify reports an object whose size or digest differs from its pointer.
// The object is still scanned afterwards: a mismatch means the scan cannot
// vouch for what others will fetch, but a payload in it is worth naming.
func verify(ctx context.Context, env *engine.Env, ptr PointerInfo, obj io.ReaderAt, size int64) error {
	if size != ptr.Size {
		env.Report(finding.Finding{RuleID: rules.LFSObjectMismatch, Offset: -1,
			Message:  fmt.Sprintf("the local LFS object is %d bytes but the pointer says %d", size, ptr.Size),
			Evidence: "oid sha256:" + ptr.OID})
		return nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, ctxio.NewReader(ctx, io.NewSectionReader(obj, 0, size))); err != nil {
		return fmt.Errorf("hash LFS object %s: %w", short(ptr.OID), err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != ptr.OID {
		env.Report(finding.Finding{RuleID: rules.LFSObjectMismatch, Offset: -1,
			Message:  fmt.Sprintf("the local LFS object's SHA-256 is %s, not the pointer's oid %s", short(got), short(ptr.OID)),
			Evidence: "oid sha256:" + ptr.OID + ", content sha256:" + got})
	}
	return nil
}

// FormatVersion changes whenever this package reports differently for the
// same bytes; reports record it next to the format name.
const FormatVersion = "1.0.0"
