package compressed

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
)

// Inflaters are recycled: each holds a 32 KiB window and its Huffman
// tables (about 40 KiB), which a directory of small joblib or zip files
// would otherwise allocate and zero once per file or member. A recycled
// inflater is reset exactly as a new one is initialised; what it decoded
// before stays unreadable, because DEFLATE rejects references behind what
// the current stream has written. (LZMA dictionaries are not pooled: a
// pooled 8 MiB dictionary counts as live heap and raises the collector's
// target by several times its size, which costs more page faults than the
// allocation it saves.)
var (
	flatePool sync.Pool // io.ReadCloser that is a flate.Resetter
	zlibPool  sync.Pool // io.ReadCloser that is a zlib.Resetter
	gzipPool  sync.Pool // *gzip.Reader
	bufPool   sync.Pool // *bufio.Reader of bufSize
)

// bufSize is the read buffer in front of decoders whose input is not in
// memory.
const bufSize = 32 << 10

// noInput is what a pooled decoder reads from while it waits, so that it
// keeps no reference to the last stream's source.
type noInput struct{}

func (noInput) Read([]byte) (int, error) { return 0, io.EOF }
func (noInput) ReadByte() (byte, error)  { return 0, io.EOF }

// emptyZlib and emptyGzip are streams of no bytes (as Python's zlib and
// gzip modules write them). The zlib and gzip decoders reset their inflater
// only after a good header, so a waiting one is reset onto these.
var (
	emptyZlib = []byte("x\x9c\x03\x00\x00\x00\x00\x01")
	emptyGzip = []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00")
)

// pooled is a decoder on loan: Close hands it back, after which reads fail.
type pooled struct {
	r     io.Reader
	close func() error
}

var errClosed = errors.New("compressed: read after close")

func (p *pooled) Read(b []byte) (int, error) {
	if p.r == nil {
		return 0, errClosed
	}
	return p.r.Read(b)
}

func (p *pooled) Close() error {
	if p.close == nil {
		return nil
	}
	err := p.close()
	p.r, p.close = nil, nil
	return err
}

// NewFlateReader returns a raw DEFLATE (RFC 1951) decoder over r from a
// pool. Close returns it to the pool; r should be an io.ByteReader (a
// bytes.Reader or bufio.Reader) or the decoder buffers it itself.
func NewFlateReader(r io.Reader) io.ReadCloser {
	fr, _ := flatePool.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReader(r)
	} else if err := fr.(flate.Resetter).Reset(r, nil); err != nil {
		fr = flate.NewReader(r)
	}
	return &pooled{r: fr, close: func() error {
		err := fr.Close()
		_ = fr.(flate.Resetter).Reset(noInput{}, nil)
		flatePool.Put(fr)
		return err
	}}
}

// NewZlibReader returns a zlib (RFC 1950) decoder over r from a pool, as
// zlib.NewReader would; Close returns it to the pool.
func NewZlibReader(r io.Reader) (io.ReadCloser, error) {
	zr, _ := zlibPool.Get().(io.ReadCloser)
	var err error
	if zr == nil {
		if zr, err = zlib.NewReader(r); err != nil {
			return nil, err
		}
	} else if err = zr.(zlib.Resetter).Reset(r, nil); err != nil {
		zlibPool.Put(zr)
		return nil, err
	}
	return &pooled{r: zr, close: func() error {
		err := zr.Close()
		_ = zr.(zlib.Resetter).Reset(bytes.NewReader(emptyZlib), nil)
		zlibPool.Put(zr)
		return err
	}}, nil
}

// NewGzipReader returns a gzip (RFC 1952) decoder over r, reading
// concatenated members as one stream, from a pool; Close returns it.
func NewGzipReader(r io.Reader) (io.ReadCloser, error) {
	zr, _ := gzipPool.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		if zr, err = gzip.NewReader(r); err != nil {
			return nil, err
		}
	} else if err = zr.Reset(r); err != nil {
		gzipPool.Put(zr)
		return nil, err
	}
	return &pooled{r: zr, close: func() error {
		err := zr.Close()
		_ = zr.Reset(bytes.NewReader(emptyGzip))
		gzipPool.Put(zr)
		return err
	}}, nil
}

// ByteSource returns r[off:off+size] as a reader for a decoder: the bytes
// themselves when r holds them in memory (engine.Memory, possibly inside
// io.SectionReaders), else a pooled read buffer. Decoders read byte by byte
// from either without another copy. Call release once the decoder is done.
func ByteSource(r io.ReaderAt, off, size int64) (io.Reader, func()) {
	for {
		sr, ok := r.(*io.SectionReader)
		if !ok {
			break
		}
		outer, base, n := sr.Outer()
		if off < 0 || size < 0 || off+size > n {
			break
		}
		r, off = outer, base+off
	}
	if m, ok := r.(interface{ Bytes() []byte }); ok {
		if b := m.Bytes(); off >= 0 && size >= 0 && off+size <= int64(len(b)) {
			return bytes.NewReader(b[off : off+size]), func() {}
		}
	}
	src := io.NewSectionReader(r, off, size)
	br, _ := bufPool.Get().(*bufio.Reader)
	if br == nil {
		br = bufio.NewReaderSize(src, bufSize)
	} else {
		br.Reset(src)
	}
	return br, func() {
		br.Reset(noInput{})
		bufPool.Put(br)
	}
}
