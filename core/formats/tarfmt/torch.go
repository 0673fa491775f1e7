package tarfmt

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/formats/picklefmt"
	"github.com/modelgate/modelgate/core/pickle"
	"github.com/modelgate/modelgate/core/rules"
)

// storageSizes are the element sizes of torch's legacy typed storage
// classes (torch._utils._element_size of their dtype).
var storageSizes = map[string]int64{
	"DoubleStorage": 8, "FloatStorage": 4, "HalfStorage": 2, "LongStorage": 8,
	"IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1,
	"BoolStorage": 1, "BFloat16Storage": 2, "ComplexDoubleStorage": 16,
	"ComplexFloatStorage": 8, "QUInt8Storage": 1, "QInt8Storage": 1,
	"QInt32Storage": 4, "QUInt4x2Storage": 1, "QUInt2x4Storage": 1,
}

// legacyKind is the policy context for pickles of torch's legacy formats.
const legacyKind = "pytorch-legacy"

// torchReader walks one member in torch's legacy_load layout: pickles
// read one load() at a time with raw bytes between them.
type torchReader struct {
	s      *scanner
	r      io.ReaderAt
	member string
	pos    int64
	end    int64
}

// torchMember scans one of "storages", "tensors" or "pickle" exactly as
// legacy_load in torch/serialization.py reads it.
func (s *scanner) torchMember(ctx context.Context, name string, reg region) error {
	t := &torchReader{s: s, r: io.NewSectionReader(s.in.R, reg.off, reg.size), member: reg.member, end: reg.size}
	switch name {
	case "storages":
		return t.storages(ctx)
	case "tensors":
		return t.tensors(ctx)
	}
	// The main object: one unpickler.load(); the rest is never read.
	_, err := t.load(ctx)
	return err
}

// load runs one pickle.load at the current position. It returns
// errStopped when the loader would raise there, which ends torch's
// reading of the member.
func (t *torchReader) load(ctx context.Context) (pickle.Value, error) {
	tr, err := picklefmt.ScanRegion(ctx, t.s.env, t.r, t.member, t.pos, t.end, 1, legacyKind)
	if err != nil {
		return pickle.Value{}, err
	}
	if len(tr.Results) != 1 {
		return pickle.Value{}, errStopped
	}
	t.pos = tr.End
	return tr.Results[0], nil
}

// errStopped marks the point where torch.load itself would raise (the
// malformed record was already reported by the pickle scan).
var errStopped = fmt.Errorf("torch.load stops here")

// count reads a record count pickled as an int.
func (t *torchReader) count(ctx context.Context) (int64, error) {
	v, err := t.load(ctx)
	if err != nil {
		return 0, err
	}
	switch v.Kind {
	case pickle.KInt, pickle.KBool:
	case pickle.KCall, pickle.KUnknown, pickle.KPersistent:
		t.unfollowable(fmt.Sprintf("record count before offset %d is computed at load time (%s)", t.pos, v))
		return 0, errStopped
	default:
		return 0, errStopped // range() of a non-integer raises
	}
	return v.N, nil
}

// storages: num_storages, then per storage a (key, location, storage_type)
// pickle followed by an int64 element count and the raw elements, then
// one pickle of storage views.
func (t *torchReader) storages(ctx context.Context) error {
	n, err := t.count(ctx)
	if err != nil {
		return t.stop(err)
	}
	for i := int64(0); i < n; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		args, err := t.load(ctx)
		if err != nil {
			return t.stop(err)
		}
		size, ok := storageElementSize(args)
		if !ok {
			t.unfollowable(fmt.Sprintf("storage record %d names storage type %s, whose element size is unknown, so the raw bytes after it cannot be skipped", i, describeStorageType(args)))
			return nil
		}
		numel, err := t.int64At()
		if err != nil {
			return t.stop(err)
		}
		if numel < 0 || numel > math.MaxInt64/size {
			t.truncated(fmt.Sprintf("storage record %d declares %d elements", i, numel))
			return nil
		}
		if err := t.skip(numel * size); err != nil {
			return t.stop(err)
		}
	}
	_, err = t.load(ctx) // storage views
	return t.stop(err)
}

// tensors: num_tensors, then per tensor a (key, storage_id, type) pickle
// followed by int32 ndim, 4 padding bytes, ndim sizes, ndim strides and
// a storage offset, all int64.
func (t *torchReader) tensors(ctx context.Context) error {
	n, err := t.count(ctx)
	if err != nil {
		return t.stop(err)
	}
	for i := int64(0); i < n; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := t.load(ctx); err != nil {
			return t.stop(err)
		}
		var b [4]byte
		if err := t.read(b[:]); err != nil {
			return t.stop(err)
		}
		ndim := int64(int32(binary.LittleEndian.Uint32(b[:])))
		if ndim < 0 {
			t.truncated(fmt.Sprintf("tensor record %d declares %d dimensions", i, ndim))
			return nil
		}
		if err := t.skip(4 + 16*ndim + 8); err != nil {
			return t.stop(err)
		}
	}
	return nil
}

// stop turns "torch.load would raise here" into a normal end.
func (t *torchReader) stop(err error) error {
	if err == errStopped {
		return nil
	}
	return err
}

func (t *torchReader) read(b []byte) error {
	if t.end-t.pos < int64(len(b)) {
		t.truncated(fmt.Sprintf("record at offset %d needs %d bytes", t.pos, len(b)))
		return errStopped
	}
	if n, err := t.r.ReadAt(b, t.pos); n < len(b) {
		return fmt.Errorf("read %s: %w", t.member, err)
	}
	t.pos += int64(len(b))
	return nil
}

func (t *torchReader) int64At() (int64, error) {
	var b [8]byte
	if err := t.read(b[:]); err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(b[:])), nil
}

func (t *torchReader) skip(n int64) error {
	if n < 0 || t.end-t.pos < n {
		t.truncated(fmt.Sprintf("raw data at offset %d needs %d bytes", t.pos, n))
		return errStopped
	}
	t.pos += n
	return nil
}

// truncated reports a record that runs past the member: torch.load raises
// there, so nothing after it is ever unpickled.
func (t *torchReader) truncated(why string) {
	t.s.env.Report(finding.Finding{RuleID: rules.TorchTarLayout, Member: t.member, Offset: t.pos,
		Message:  fmt.Sprintf("%s but the member has only %d bytes left; torch.load fails here", why, max(t.end-t.pos, 0)),
		Evidence: fmt.Sprintf("member of %d bytes", t.end)})
}

// unfollowable reports a layout modelgate cannot follow further; what
// comes after is not scanned.
func (t *torchReader) unfollowable(why string) {
	t.s.env.NotScanned(rules.NotScannedError, t.member, why+"; the rest of the member was not scanned")
}

// storageElementSize reads storage_type from (key, location, storage_type).
func storageElementSize(args pickle.Value) (int64, bool) {
	if args.Kind != pickle.KTuple || len(args.O.Items) != 3 {
		return 0, false
	}
	g := args.O.Items[2]
	if g.Kind != pickle.KGlobal || (g.O.Module != "torch" && g.O.Module != "torch.cuda") {
		return 0, false
	}
	n, ok := storageSizes[g.O.Name]
	return n, ok
}

func describeStorageType(args pickle.Value) string {
	if args.Kind == pickle.KTuple && len(args.O.Items) == 3 {
		return args.O.Items[2].String()
	}
	return args.String()
}
