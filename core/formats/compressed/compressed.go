// Package compressed unwraps single-stream compression (gzip, bzip2, xz,
// legacy lzma, zstd, zlib, lz4) and hands the decompressed content back to
// the engine, which sniffs it like any other input. joblib and plain
// pickle.dump-through-a-compressor files are the main users: joblib.load
// accepts every one of these wrappers around a pickle.
//
// Each compression is its own Format so reports name what was found. All
// decompression goes through env.RecurseStream, which enforces the bomb
// limits (MaxDecompressedBytes, MaxRatio) and reports MG203.
package compressed

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"path"
	"strings"

	"github.com/pierrec/lz4/v4"

	"github.com/modelgate/modelgate/core/engine"
)

// All returns every format in this package, in an order where no earlier
// one can claim another's content.
func All() []engine.Format {
	return []engine.Format{Gzip{}, Bzip2{}, XZ{}, Zstd{}, LZ4{}, LZMA{}, Zlib{}, JoblibZFile{}}
}

// Gzip is RFC 1952 gzip, including concatenated members (read as one
// stream, as Python's gzip module does).
type Gzip struct{}

// Name implements engine.Format.
func (Gzip) Name() string { return "gzip" }

// Version implements engine.Versioned.
func (Gzip) Version() string { return FormatVersion }

// Match implements engine.Format: the magic plus method 8 (deflate) and no
// reserved flag bits.
func (Gzip) Match(in *engine.Input) bool {
	h := in.Head
	return len(h) >= 10 && h[0] == 0x1f && h[1] == 0x8b && h[2] == 8 && h[3]&0xe0 == 0
}

// Scan implements engine.Format.
func (Gzip) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	return scan(ctx, in, env, "gzip", NewGzipReader)
}

// Bzip2 is a bzip2 stream (or several concatenated).
type Bzip2 struct{}

// Name implements engine.Format.
func (Bzip2) Name() string { return "bzip2" }

// Version implements engine.Versioned.
func (Bzip2) Version() string { return FormatVersion }

// Match implements engine.Format: "BZh", a block size digit, then the
// magic of a first block or of the end of an empty stream.
func (Bzip2) Match(in *engine.Input) bool {
	h := in.Head
	if len(h) < 10 || !bytes.HasPrefix(h, []byte("BZh")) || h[3] < '1' || h[3] > '9' {
		return false
	}
	return bytes.Equal(h[4:10], []byte("1AY&SY")) || bytes.Equal(h[4:10], []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90})
}

// Scan implements engine.Format.
func (Bzip2) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	return scan(ctx, in, env, "bzip2", func(r io.Reader) (io.ReadCloser, error) {
		return io.NopCloser(newBzip2Reader(ctx, r, in.R, in.Size)), nil
	})
}

// XZ is the .xz container.
type XZ struct{}

// Name implements engine.Format.
func (XZ) Name() string { return "xz" }

// Version implements engine.Versioned.
func (XZ) Version() string { return FormatVersion }

// Match implements engine.Format.
func (XZ) Match(in *engine.Input) bool {
	return bytes.HasPrefix(in.Head, []byte("\xfd7zXZ\x00"))
}

// Scan implements engine.Format.
func (XZ) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	return scan(ctx, in, env, "xz", func(r io.Reader) (io.ReadCloser, error) {
		zr, err := newXZWindowReader(ctx, r, in.R, in.Size)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(zr), nil
	})
}

// LZMA is the legacy .lzma ("alone") format, which has no magic number:
// Match is deliberately strict (see MatchLZMAHeader).
type LZMA struct{}

// Name implements engine.Format.
func (LZMA) Name() string { return "lzma" }

// Version implements engine.Versioned.
func (LZMA) Version() string { return FormatVersion }

// Match implements engine.Format.
func (LZMA) Match(in *engine.Input) bool { return MatchLZMAHeader(in.Head) }

// MatchLZMAHeader reports whether head starts a legacy .lzma stream as
// written by xz-utils and Python's lzma module: the default properties byte
// 0x5d (lc=3 lp=0 pb=2), a dictionary size of 2^n or 2^n+2^(n-1) between 4
// KiB and 1.5 GiB, a plausible uncompressed size (unknown, or under 2^48)
// and the range coder's first byte, which is always 0.
func MatchLZMAHeader(head []byte) bool {
	if len(head) < LZMAHeaderLen+1 || head[0] != 0x5d || head[LZMAHeaderLen] != 0 {
		return false
	}
	dict := binary.LittleEndian.Uint32(head[1:])
	if dict < 4<<10 || dict > 3<<29 {
		return false
	}
	if bits.OnesCount32(dict) == 2 {
		// 2^n + 2^(n-1): the two set bits are adjacent.
		if dict&(dict>>1) == 0 {
			return false
		}
	} else if bits.OnesCount32(dict) != 1 {
		return false
	}
	size := binary.LittleEndian.Uint64(head[5:])
	return size == ^uint64(0) || size < 1<<48
}

// Scan implements engine.Format.
func (LZMA) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	return scan(ctx, in, env, "lzma", func(r io.Reader) (io.ReadCloser, error) {
		zr, err := newLZMAWindowReader(ctx, r, in.R, in.Size)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(zr), nil
	})
}

// Zstd is a zstd stream (one or more frames).
type Zstd struct{}

// Name implements engine.Format.
func (Zstd) Name() string { return "zstd" }

// Version implements engine.Versioned.
func (Zstd) Version() string { return FormatVersion }

// Match implements engine.Format.
func (Zstd) Match(in *engine.Input) bool {
	return bytes.HasPrefix(in.Head, []byte{0x28, 0xb5, 0x2f, 0xfd})
}

// Scan implements engine.Format.
func (Zstd) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	return scan(ctx, in, env, "zstd", NewZstdReader)
}

// LZ4 is the LZ4 frame format (as written by the lz4 CLI and joblib).
type LZ4 struct{}

// Name implements engine.Format.
func (LZ4) Name() string { return "lz4" }

// Version implements engine.Versioned.
func (LZ4) Version() string { return FormatVersion }

// Match implements engine.Format.
func (LZ4) Match(in *engine.Input) bool {
	return bytes.HasPrefix(in.Head, []byte{0x04, 0x22, 0x4d, 0x18})
}

// Scan implements engine.Format.
func (LZ4) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	return scan(ctx, in, env, "lz4", func(r io.Reader) (io.ReadCloser, error) {
		return io.NopCloser(lz4.NewReader(r)), nil
	})
}

// Zlib is a raw RFC 1950 zlib stream, which joblib writes for
// compress='zlib'. Its two-byte header is weak, so Match also requires the
// start of the stream to inflate.
type Zlib struct{}

// Name implements engine.Format.
func (Zlib) Name() string { return "zlib" }

// Version implements engine.Versioned.
func (Zlib) Version() string { return FormatVersion }

// Match implements engine.Format: CMF 0x78 (deflate, 32 KiB window), a
// valid FCHECK, no preset dictionary, and the head inflating without error
// to at least one byte.
func (Zlib) Match(in *engine.Input) bool {
	h := in.Head
	if len(h) < 3 || h[0] != 0x78 || (uint16(h[0])<<8|uint16(h[1]))%31 != 0 || h[1]&0x20 != 0 {
		return false
	}
	fr := NewFlateReader(bytes.NewReader(h[2:]))
	defer fr.Close()
	var buf [512]byte
	n, err := io.ReadFull(fr, buf[:])
	if n == 0 {
		return false
	}
	return err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// Scan implements engine.Format.
func (Zlib) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	return scan(ctx, in, env, "zlib", NewZlibReader)
}

// JoblibZFile is the "Z-file" of joblib before 0.10: "ZF", the
// uncompressed length in hex padded with spaces to 19 characters (one more
// space up to joblib 0.8.4), then a zlib stream. joblib.load still reads
// these: the main pickle (often named .gz) and every array beside it
// (.npy.z) are Z-files.
type JoblibZFile struct{}

// Name implements engine.Format.
func (JoblibZFile) Name() string { return "joblib-zfile" }

// Version implements engine.Versioned.
func (JoblibZFile) Version() string { return FormatVersion }

// zfileHeader is len("ZF") + len("0x10000000000000000"), joblib's _MAX_LEN.
const zfileHeader = 2 + 19

// zfileStart returns where the zlib stream of a Z-file starts, or -1.
func zfileStart(h []byte) int {
	if len(h) < zfileHeader+3 || !bytes.HasPrefix(h, []byte("ZF0x")) {
		return -1
	}
	i := 4
	for i < zfileHeader && isHex(h[i]) {
		i++
	}
	if i == 4 {
		return -1
	}
	for ; i < zfileHeader; i++ {
		if h[i] != ' ' {
			return -1
		}
	}
	if h[i] == ' ' {
		i++ // joblib <= 0.8.4 wrote one more space; zlib data never starts with one
	}
	if h[i] != 0x78 || (uint16(h[i])<<8|uint16(h[i+1]))%31 != 0 {
		return -1
	}
	return i
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// Match implements engine.Format.
func (JoblibZFile) Match(in *engine.Input) bool { return zfileStart(in.Head) >= 0 }

// Scan implements engine.Format.
func (JoblibZFile) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	start := int64(zfileStart(in.Head))
	// joblib unpickles the main Z-file and reads the arrays beside it
	// (.npy.z) as raw bytes: decompressed content that is no pickle or
	// other format is array data.
	body := &engine.Input{Path: in.Path, Member: in.Member, Name: in.Name, R: io.NewSectionReader(in.R, start, in.Size-start), Size: in.Size - start, Depth: in.Depth, Context: engine.ContextRawData}
	return scan(ctx, body, env, "zlib", NewZlibReader)
}

// scan decompresses the whole input and passes the output to the engine as
// member "<name>". Output produced before a decoding error is still
// scanned (payloads usually sit at the start and loaders have executed them
// by the time they hit the error); the error is then returned so the input
// is recorded as not completely scanned.
func scan(ctx context.Context, in *engine.Input, env *engine.Env, name string, open func(io.Reader) (io.ReadCloser, error)) error {
	src, release := ByteSource(in.R, 0, in.Size)
	defer release()
	zr, err := open(src)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer zr.Close()
	er := &errToEOF{r: zr}
	if err := env.RecurseStream(ctx, "<"+name+">", er, in.Size, innerContext(in)); err != nil {
		return err
	}
	if er.err != nil {
		return fmt.Errorf("%s stream is corrupt after %d decompressed bytes (those were scanned): %w", name, er.n, er.err)
	}
	return nil
}

// innerContext judges decompressed content by the name it had before
// compression: data.json.gz, font.pfb.gz or face.dat (a bzip2 stream of
// pixels) hold data, so unrecognised binary in them is not an unscannable
// model; model.pkl.gz, or a bare model.gz whose inner name is unknown,
// still fails closed.
func innerContext(in *engine.Input) string {
	if in.Context == engine.ContextRawData {
		return engine.ContextRawData
	}
	name := in.Name
	if compressionExts[strings.ToLower(path.Ext(name))] {
		name = strings.TrimSuffix(name, path.Ext(name))
	}
	if path.Ext(name) == "" || (engine.IsModelLikeName(name) && !engine.IsWeakModelName(name)) {
		return ""
	}
	return engine.ContextRawData
}

var compressionExts = map[string]bool{
	".gz": true, ".gzip": true, ".bz2": true, ".xz": true, ".lzma": true, ".zst": true, ".zstd": true,
	".lz4": true, ".z": true, ".zlib": true,
}

// errToEOF ends the stream cleanly at a decoding error and keeps the error,
// so the engine's spool keeps (and scans) what was decoded before it.
type errToEOF struct {
	r   io.Reader
	n   int64
	err error
}

func (e *errToEOF) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, io.EOF
	}
	n, err := e.r.Read(p)
	e.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		e.err = err
		err = io.EOF
	}
	return n, err
}

// FormatVersion changes whenever this package reports differently for the
// same bytes; reports record it next to the format name.
const FormatVersion = "1.0.0"
