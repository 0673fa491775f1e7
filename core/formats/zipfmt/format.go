package zipfmt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"strings"
	"sync"

	"github.com/modelgate/modelgate/core/ctxio"
	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/limits"
	"github.com/modelgate/modelgate/core/pathcheck"
	"github.com/modelgate/modelgate/core/rules"
)

const (
	// crcVerifyMax bounds the stored members whose CRC is checked by an
	// extra read: checking is advisory (the content is scanned either way)
	// and must not make us read multi-GB tensor data in full.
	crcVerifyMax = 64 << 20
	// probeBytes is how much of a flagged-encrypted member is decompressed
	// to decide whether it is really encrypted.
	probeBytes = 1 << 20
	// matchMaxMembers bounds the central directory pass that Match makes to
	// tell torch archives from other zips; both formats use the same bound
	// so they never both claim (or both refuse) one archive.
	matchMaxMembers = 1 << 20
)

// PyTorchZip is the format of torch.save zip checkpoints and TorchScript
// archives: a zip whose members share a top directory holding data.pkl (or
// constants.pkl). Members under "<dir>/data/" are tensor storages and are
// scanned with engine.ContextTensorData.
type PyTorchZip struct{}

// Zip is every other zip archive (npz, keras, plain zips).
type Zip struct{}

// Name implements engine.Format.
func (PyTorchZip) Name() string { return "pytorch-zip" }

// Version implements engine.Versioned.
func (PyTorchZip) Version() string { return FormatVersion }

// Name implements engine.Format.
func (Zip) Name() string { return "zip" }

// Version implements engine.Versioned.
func (Zip) Version() string { return FormatVersion }

// Match implements engine.Format.
func (PyTorchZip) Match(in *engine.Input) bool {
	a := sniff(in)
	return a != nil && isTorchInput(in, a)
}

// Match implements engine.Format.
func (Zip) Match(in *engine.Input) bool {
	a := sniff(in)
	return a != nil && !isTorchInput(in, a)
}

func isTorchInput(in *engine.Input, a *Archive) bool {
	return in.Memo(isTorchKey{}, func() any { return isTorch(a) }).(bool)
}

// Scan implements engine.Format.
func (PyTorchZip) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	return scan(ctx, in, env, true)
}

// Scan implements engine.Format.
func (Zip) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	return scan(ctx, in, env, false)
}

// sniff returns the archive if the input is a zip: a local header at offset
// 0, or a valid end record near the end (the latter also catches archives
// with data prepended).
func sniff(in *engine.Input) *Archive {
	a, _ := in.Memo(sniffKey{}, func() any { return sniffArchive(in) }).(*Archive)
	return a
}

// sniffKey is sniff's engine.Input.Memo key: both zip formats match every
// file, and the end-record search reads up to 64 KiB of it.
type sniffKey struct{}

// isTorchKey memoizes isTorch, the central directory pass of both Matches.
type isTorchKey struct{}

func sniffArchive(in *engine.Input) *Archive {
	if bytes.HasPrefix(in.Head, []byte("PK\x03\x04")) {
		a, err := Open(in.R, in.Size)
		if err != nil {
			return nil
		}
		return a
	}
	a, err := locate(in.R, in.Size)
	if err != nil {
		return nil
	}
	return a
}

// isTorch reports whether the central directory names a "<dir>/data.pkl"
// or "<dir>/constants.pkl" record.
func isTorch(a *Archive) bool {
	if a.NoCentralDirectory {
		return false // torch.load cannot open it either
	}
	found := false
	_ = a.walkCentral(context.Background(), matchMaxMembers, false, func(e *Entry) error {
		if torchPrefix(e.Name) != "" {
			found = true
			return errStop
		}
		return nil
	})
	return found
}

var errStop = errors.New("stop")

// crcBufs recycles crcOf's read buffers: every stored member of every
// archive is read once more for its CRC.
var crcBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// torchPrefix returns "<dir>" for "<dir>/data.pkl" and "<dir>/constants.pkl".
func torchPrefix(name string) string {
	for _, s := range []string{"/data.pkl", "/constants.pkl"} {
		if p, ok := strings.CutSuffix(name, s); ok && p != "" {
			return p
		}
	}
	return ""
}

// scanner holds the state of one archive scan.
type scanner struct {
	in    *engine.Input
	env   *engine.Env
	arch  *Archive
	torch map[string]bool // "<dir>" of every "<dir>/data.pkl" or "<dir>/constants.pkl"
	seen  map[[16]byte]int
	// firstHeader is the lowest local header offset seen; what precedes it
	// is prepended data.
	firstHeader int64
	entries     int
}

func scan(ctx context.Context, in *engine.Input, env *engine.Env, torch bool) error {
	a, err := Open(in.R, in.Size)
	if err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	lim := env.Limits.WithDefaults()
	s := &scanner{in: in, env: env, arch: a, seen: map[[16]byte]int{}, firstHeader: -1}
	s.impossibleDirectory()
	if torch {
		s.torch = torchStorageDirs(ctx, a, lim)
	}
	werr := a.Walk(ctx, lim, func(e *Entry) error { return s.entry(ctx, e) })
	if werr != nil && (errors.Is(werr, context.Canceled) || errors.Is(werr, context.DeadlineExceeded)) {
		return werr
	}
	if err := s.prepended(ctx); err != nil {
		return err
	}
	switch {
	case werr == nil:
		return nil
	case errors.Is(werr, ErrTooManyMembers):
		env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("%v; the remaining members were not scanned", werr))
		return nil
	}
	return werr
}

// torchStorageDirs collects "<dir>" for every "<dir>/data.pkl". All are
// kept (the walk is bounded by MaxMembers): torch.jit.load takes the
// directory from the first member, whatever it is, so a bound on the
// set would let decoy directories hide the real one's code/ from the
// TorchScript analysis.
func torchStorageDirs(ctx context.Context, a *Archive, lim limits.Limits) map[string]bool {
	dirs := map[string]bool{}
	_ = a.walkCentral(ctx, lim.MaxMembers, false, func(e *Entry) error {
		if p := torchPrefix(e.Name); p != "" {
			dirs[p] = true
		}
		return nil
	})
	return dirs
}

// underTorchDir reports whether name is "<dir>/<sub>/..." for a torch
// directory <dir>. It looks each "/<sub>/" of name up rather than
// scanning the set, so that many directories cost no more per member.
func (s *scanner) underTorchDir(name, sub string) bool {
	marker := "/" + sub + "/"
	for i := 0; ; {
		j := strings.Index(name[i:], marker)
		if j < 0 {
			return false
		}
		if s.torch[name[:i+j]] {
			return true
		}
		i += j + 1
	}
}

// prepended reports and scans bytes before the first member: torch.load
// unpickles such a prefix via its legacy path, so a pickle there runs.
func (s *scanner) prepended(ctx context.Context) error {
	first := s.firstHeader
	if s.entries == 0 {
		first = s.arch.CDStart
	}
	if first <= 0 {
		return nil
	}
	head := make([]byte, min(first, 16))
	n, _ := s.in.R.ReadAt(head, 0)
	s.env.Report(finding.Finding{
		RuleID:   rules.PrependedData,
		Offset:   0,
		Message:  fmt.Sprintf("%d bytes precede the zip archive; they are scanned as member <prepended>", first),
		Evidence: fmt.Sprintf("starts %x", head[:n]),
	})
	return s.recurse(ctx, "<prepended>", io.NewSectionReader(s.in.R, 0, first), first, "")
}

// recurse passes a member to the engine. Only cancellation aborts the
// archive; other failures are recorded for the member and the walk goes on.
func (s *scanner) recurse(ctx context.Context, member string, r io.ReaderAt, n int64, hint string) error {
	err := s.env.Recurse(ctx, member, r, n, hint)
	return s.memberErr(member, err)
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

func (s *scanner) report(rule, member, msg, evidence string) {
	s.env.Report(finding.Finding{RuleID: rule, Member: member, Offset: -1, Message: msg, Evidence: evidence})
}

// entry checks one member's metadata and scans its content.
func (s *scanner) entry(ctx context.Context, e *Entry) error {
	member, copyN := s.memberName(e)
	s.checkNames(e, member, copyN)
	if e.LocalErr != nil {
		s.env.NotScanned(rules.NotScannedError, member, fmt.Sprintf("local header unreadable, no loader can read this member: %v", e.LocalErr))
		return nil
	}
	s.entries++
	if s.firstHeader < 0 || e.HeaderOffset < s.firstHeader {
		s.firstHeader = e.HeaderOffset
	}
	if e.IsDir() && !e.IsSymlink {
		return nil
	}
	s.impossibleSizes(e, member)
	if e.Truncated() {
		s.env.NotScanned(rules.NotScannedError, member, fmt.Sprintf("member data (%d bytes at offset %d) runs past the end of the file; the part present is scanned", e.CompressedSize, e.DataOffset))
	}
	skip, err := s.checkFlags(ctx, e, member)
	if err != nil || skip {
		return err
	}
	if e.Method == MethodStore && e.CompressedSize != e.UncompressedSize {
		s.report(rules.ZipTamper, member,
			fmt.Sprintf("stored member %q records compressed size %d but uncompressed size %d; readers disagree on its extent, so the larger is scanned", e.Name, e.CompressedSize, e.UncompressedSize),
			fmt.Sprintf("local header at offset %d", e.HeaderOffset))
	}
	hint := ""
	switch {
	case s.isTensorData(e.Name):
		hint = engine.ContextTensorData
	case s.isTorchCode(e.Name):
		hint = ContextTorchScriptCode
	}
	if e.Method == MethodStore {
		return s.scanStored(ctx, e, member, hint)
	}
	return s.scanCompressed(ctx, e, member, hint)
}

// memberName names the member in reports. Second and later copies of a
// duplicated name get "#<n>" so a suppression for one copy never covers
// another.
// Names are remembered by a 128-bit hash so memory stays small however long
// the names are.
func (s *scanner) memberName(e *Entry) (string, int) {
	name := e.Name
	if name == "" {
		name = fmt.Sprintf("<entry %d>", e.Index)
	}
	sum := sha256.Sum256([]byte(e.Name))
	key := [16]byte(sum[:16])
	s.seen[key]++
	n := s.seen[key]
	if n > 1 {
		return fmt.Sprintf("%s#%d", name, n), n
	}
	return name, n
}

func (s *scanner) checkNames(e *Entry, member string, n int) {
	if n > 1 {
		s.report(rules.DuplicateMember, member,
			fmt.Sprintf("member name %q appears %d times so far; loaders pick different copies, every copy is scanned", e.Name, n),
			fmt.Sprintf("copy %d: local header at offset %d", n, e.HeaderOffset))
	}
	if e.LocalErr == nil && e.LocalName != e.Name {
		s.report(rules.ZipNameMismatch, member,
			fmt.Sprintf("central directory names the member %q but its local header names it %q; the data is scanned under the central name", e.Name, e.LocalName),
			fmt.Sprintf("local header at offset %d", e.HeaderOffset))
	}
	names := []string{e.Name}
	if e.LocalErr == nil && e.LocalName != e.Name {
		names = append(names, e.LocalName)
	}
	for _, n := range names {
		if why := PathEscapes(n); why != "" {
			s.report(rules.ArchiveSlip, member, fmt.Sprintf("member name %q %s", n, why), "")
		}
	}
	if e.IsSymlink {
		s.report(rules.ArchiveSlip, member,
			fmt.Sprintf("member %q is a symbolic link; extracting it can redirect later writes outside the target directory", e.Name),
			fmt.Sprintf("external attributes 0x%08x", e.ExternalAttrs))
	}
}

// PathEscapes returns why an archive member name would escape the
// extraction directory ("" if it does not): absolute paths (Unix, Windows
// drive or UNC) and ".." components, with either slash.
func PathEscapes(name string) string { return pathcheck.Escapes(name) }

// ContextTorchScriptCode marks the serialized TorchScript source members
// ("<dir>/code/**.py") of a torch archive, which torch.jit.load compiles.
const ContextTorchScriptCode = "torchscript-code"

// isTorchCode reports whether name is TorchScript source: a .py member
// under "<dir>/code/" of a torch archive.
func (s *scanner) isTorchCode(name string) bool {
	return strings.HasSuffix(name, ".py") && s.underTorchDir(name, "code")
}

func (s *scanner) isTensorData(name string) bool {
	return s.underTorchDir(name, "data")
}

// checkFlags reports unusual flag bits and decides whether a member that
// claims encryption really is encrypted (skip=true, reported not scanned).
// torch.load ignores the local flags entirely, so a flag alone must never
// stop the scan.
func (s *scanner) checkFlags(ctx context.Context, e *Entry, member string) (skip bool, err error) {
	claims := e.AnyFlags()&(FlagEncrypted|FlagStrongEncrypted) != 0 || e.Method == MethodAES
	unusual := e.UnusualFlags() &^ FlagStrongEncrypted
	evidence := fmt.Sprintf("central flags 0x%04x, local flags 0x%04x", e.Flags, e.LocalFlags)
	if claims {
		enc, err := reallyEncrypted(ctx, e)
		if err != nil {
			return true, err
		}
		if enc {
			s.env.NotScanned(rules.NotScannedEncrypted, member, fmt.Sprintf("member is encrypted (%s, method %d)", evidence, e.Method))
			return true, nil
		}
		s.report(rules.ZipTamper, member,
			fmt.Sprintf("member %q is flagged as encrypted but its data is not; readers that honour the flag skip it while torch.load reads it", e.Name),
			evidence)
		return false, nil
	}
	if unusual != 0 {
		s.report(rules.ZipTamper, member,
			fmt.Sprintf("member %q has unusual general-purpose flag bits 0x%04x", e.Name, unusual), evidence)
	}
	return false, nil
}

// reallyEncrypted tells encrypted data from a plain member with a forged
// flag. Stored data is plain if its CRC matches or its sizes agree (a
// ZipCrypto header adds 12 bytes); compressed data is plain if it
// decompresses.
func reallyEncrypted(ctx context.Context, e *Entry) (bool, error) {
	if e.Method == MethodAES {
		return true, nil
	}
	if e.Method == MethodStore {
		n := min(e.UncompressedSize, e.DataLen())
		sum, err := crcOf(ctx, section(e.r, e.DataOffset, n), n)
		if err != nil {
			return false, err
		}
		return sum != e.CRC32 && e.CompressedSize != e.UncompressedSize, nil
	}
	rc, err := e.Open()
	if errors.Is(err, ErrUnsupportedMethod) {
		return false, nil // reported as an unsupported method
	}
	if err != nil {
		return true, nil
	}
	defer rc.Close()
	h := crc32.NewIEEE()
	n, err := io.Copy(h, io.LimitReader(ctxio.NewReader(ctx, rc), probeBytes))
	if cerr := ctx.Err(); cerr != nil {
		return false, cerr
	}
	if err != nil {
		return true, nil
	}
	if n < probeBytes {
		// Random bytes occasionally inflate to a short clean stream; an
		// encrypted member then still fails both checks.
		return n != e.UncompressedSize && h.Sum32() != e.CRC32, nil
	}
	return false, nil
}

func (s *scanner) scanStored(ctx context.Context, e *Entry, member, hint string) error {
	n := e.DataLen()
	if err := s.recurse(ctx, member, section(e.r, e.DataOffset, n), n, hint); err != nil {
		return err
	}
	if hint == engine.ContextTensorData || n > crcVerifyMax {
		return nil
	}
	crcLen := min(e.UncompressedSize, n)
	sum, err := crcOf(ctx, section(e.r, e.DataOffset, crcLen), crcLen)
	if err != nil {
		return s.memberErr(member, err)
	}
	if sum != e.CRC32 && !e.Truncated() {
		s.reportCRC(e, member, sum)
	}
	return nil
}

func (s *scanner) scanCompressed(ctx context.Context, e *Entry, member, hint string) error {
	rc, err := e.Open()
	if errors.Is(err, ErrUnsupportedMethod) {
		s.env.NotScanned(rules.NotScannedUnknown, member, fmt.Sprintf("compression method %d is not supported", e.Method))
		return nil
	}
	if err != nil {
		return s.memberErr(member, err)
	}
	defer rc.Close()
	cr := &checkReader{r: rc, h: crc32.NewIEEE()}
	if err := s.env.RecurseStream(ctx, member, cr, e.CompressedSize, hint); err != nil {
		return s.memberErr(member, err)
	}
	switch {
	case cr.err != nil:
		s.env.NotScanned(rules.NotScannedError, member, fmt.Sprintf("decompression failed after %d bytes (those were scanned): %v", cr.n, cr.err))
	case cr.eof && cr.h.Sum32() != e.CRC32:
		s.reportCRC(e, member, cr.h.Sum32())
	}
	return nil
}

func (s *scanner) reportCRC(e *Entry, member string, got uint32) {
	s.report(rules.ZipTamper, member,
		fmt.Sprintf("member %q has CRC-32 %08x but its data hashes to %08x; torch.load ignores the mismatch while zipfile rejects it", e.Name, e.CRC32, got),
		fmt.Sprintf("local header at offset %d", e.HeaderOffset))
}

// checkReader hashes what is read and turns a decompression error into a
// clean end of stream, so the engine still scans the output produced before
// the error; the error is kept and reported separately.
type checkReader struct {
	r   io.Reader
	h   hash.Hash32
	n   int64
	err error
	eof bool
}

func (c *checkReader) Read(p []byte) (int, error) {
	if c.err != nil || c.eof {
		return 0, io.EOF
	}
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		c.eof = true
	default:
		c.err = err
		err = io.EOF
	}
	return n, err
}

func crcOf(ctx context.Context, r io.ReaderAt, n int64) (uint32, error) {
	if m, ok := r.(engine.Memory); ok && int64(len(m)) == n {
		return crc32.ChecksumIEEE(m), nil
	}
	h := crc32.NewIEEE()
	buf := crcBufs.Get().(*[]byte)
	defer crcBufs.Put(buf)
	if _, err := io.CopyBuffer(h, ctxio.NewReader(ctx, io.NewSectionReader(r, 0, n)), *buf); err != nil {
		return 0, fmt.Errorf("read for CRC: %w", err)
	}
	return h.Sum32(), nil
}

// section is r[off:off+n]: a slice of the bytes when the archive is in
// memory (engine.Memory, as small files and spooled members are), so that
// members are sniffed, parsed and checksummed in place.
func section(r io.ReaderAt, off, n int64) io.ReaderAt {
	if m, ok := r.(interface{ Bytes() []byte }); ok {
		if b := m.Bytes(); off >= 0 && n >= 0 && off <= int64(len(b)) && n <= int64(len(b))-off {
			return engine.Memory(b[off : off+n : off+n])
		}
	}
	return io.NewSectionReader(r, off, n)
}

// FormatVersion changes whenever this package reports differently for the
// same bytes; reports record it next to the format name.
const FormatVersion = "1.1.0"

// minCentralEntry is the fixed part of a central directory entry.
const minCentralEntry = 46

// maxDeflateRatio is the most deflate (and deflate64) can expand: a
// 258-byte match per bit pair, about 1032:1.
const maxDeflateRatio = 1032

// impossibleDirectory reports an end record declaring an entry count or a
// directory size no file of this size could hold (limits.Impossible). Only
// ZIP64 records can: 16- and 32-bit fields stay below the floor.
func (s *scanner) impossibleDirectory() {
	a := s.arch
	if a.NoCentralDirectory {
		return
	}
	if need := float64(a.Count) * minCentralEntry; limits.Impossible(need, s.in.Size) {
		s.impossible("", fmt.Sprintf("end of central directory declares %d entries (at least %d bytes each) in a %d-byte file", a.Count, minCentralEntry, s.in.Size))
	}
	if limits.Impossible(float64(a.CDSize), s.in.Size) {
		s.impossible("", fmt.Sprintf("end of central directory declares a %d-byte directory in a %d-byte file", a.CDSize, s.in.Size))
	}
}

// impossibleSizes reports member sizes no file of this size could hold:
// compressed data past the file by orders of magnitude, or an uncompressed
// size that the compressed bytes could not produce (stored data is as long
// as it is; deflate expands at most maxDeflateRatio times, so 65536 times
// is beyond any real member). Other methods (bzip2, LZMA, zstd) can expand
// runs of zeros further and are left to the decompression limits.
func (s *scanner) impossibleSizes(e *Entry, member string) {
	left := max(s.in.Size-e.DataOffset, 0)
	switch {
	case limits.Impossible(float64(e.CompressedSize), left):
		s.impossible(member, fmt.Sprintf("member %q declares %d compressed bytes with %d left in the file", e.Name, e.CompressedSize, left))
	case e.Method == MethodStore && limits.Impossible(float64(e.UncompressedSize), left):
		s.impossible(member, fmt.Sprintf("stored member %q declares %d bytes with %d left in the file", e.Name, e.UncompressedSize, left))
	case (e.Method == MethodDeflate || e.Method == methodDeflate64) && limits.Impossible(float64(e.UncompressedSize), e.CompressedSize):
		s.impossible(member, fmt.Sprintf("deflated member %q declares %d uncompressed bytes from %d compressed (deflate expands at most %d times)", e.Name, e.UncompressedSize, e.CompressedSize, maxDeflateRatio))
	}
}

func (s *scanner) impossible(member, msg string) {
	s.env.Report(finding.Finding{RuleID: rules.ImpossibleSize, Severity: finding.SeverityHigh, Member: member, Offset: -1,
		Message: msg + ": impossible for the file size by orders of magnitude, a header aimed at readers' size arithmetic"})
}

// methodDeflate64 is PKWARE's enhanced deflate (method 9).
const methodDeflate64 = 9
