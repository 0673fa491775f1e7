package zipfmt

import (
	"archive/zip"
	"bytes"
	"io"
	"math/rand"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
)

// locateByLastIndex is the end-record search as first written (backwards
// with bytes.LastIndex), kept as the reference for locate.
func locateByLastIndex(r io.ReaderAt, size int64) (*Archive, error) {
	if size < eocdLen {
		return nil, ErrNotZip
	}
	tailLen := min(size, int64(maxEOCDSearch))
	tail := make([]byte, tailLen)
	if n, _ := r.ReadAt(tail, size-tailLen); int64(n) != tailLen {
		return nil, ErrNotZip
	}
	sig := []byte{'P', 'K', 5, 6}
	end := len(tail)
	for {
		i := bytes.LastIndex(tail[:end], sig)
		if i < 0 {
			return nil, ErrNotZip
		}
		end = i + 3
		if len(tail)-i < eocdLen {
			continue
		}
		if a := tryEOCD(r, size, size-tailLen+int64(i), tail[i:i+eocdLen]); a != nil {
			return a, nil
		}
	}
}

// TestLocateMatchesReference runs locate and the reference over zips with
// prepended data and end-record look-alikes in comments and around them,
// from a reader and from memory: the same record must be chosen.
func TestLocateMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	sig := []byte("PK\x05\x06")
	for n := 0; n < 300; n++ {
		var b bytes.Buffer
		pre := make([]byte, rng.Intn(3000))
		rng.Read(pre)
		b.Write(pre)
		if n%3 != 0 {
			zw := zip.NewWriter(&b)
			w, _ := zw.Create("archive/data.pkl")
			_, _ = w.Write([]byte("\x80\x02}q\x00."))
			comment := ""
			if n%2 == 0 {
				comment = "x" + string(sig) + "y" + string(sig)
			}
			_ = zw.SetComment(comment)
			_ = zw.Close()
		}
		for k := rng.Intn(4); k > 0; k-- {
			junk := make([]byte, rng.Intn(40))
			rng.Read(junk)
			b.Write(sig)
			b.Write(junk)
		}
		data := b.Bytes()
		want, werr := locateByLastIndex(bytes.NewReader(data), int64(len(data)))
		for _, r := range []io.ReaderAt{bytes.NewReader(data), engine.Memory(data)} {
			got, gerr := locate(r, int64(len(data)))
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("case %d: errors differ: %v vs %v", n, werr, gerr)
			}
			if werr == nil && got.EOCDOffset != want.EOCDOffset {
				t.Fatalf("case %d: end record at %d, reference %d", n, got.EOCDOffset, want.EOCDOffset)
			}
		}
	}
}
