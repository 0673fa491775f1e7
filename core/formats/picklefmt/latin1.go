package picklefmt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// latin1Error means the text handed to _codecs.encode(text, "latin1") is
// not what a loader could turn into bytes, so its payload cannot be
// reproduced (and loading fails there).
type latin1Error struct {
	off int64
	why string
}

func (e *latin1Error) Error() string {
	return fmt.Sprintf("latin-1 payload text at byte %d %s; its bytes were not scanned", e.off, e.why)
}

// latin1Reader yields the bytes that _codecs.encode(text, "latin1") makes
// of UTF-8 text: each code point, all of them below 256, as one byte.
type latin1Reader struct {
	r   *bufio.Reader
	off int64
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c, size, err := l.r.ReadRune()
		if err != nil {
			if n > 0 && errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
		if c == utf8.RuneError && size == 1 {
			return n, &latin1Error{off: l.off, why: "is not UTF-8"}
		}
		if c > 0xff {
			return n, &latin1Error{off: l.off, why: fmt.Sprintf("holds %U, which latin-1 cannot encode", c)}
		}
		p[n] = byte(c)
		n++
		l.off += int64(size)
	}
	return n, nil
}
