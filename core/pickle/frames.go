package pickle

import (
	"bytes"
	"fmt"
)

// FrameView selects how reads that cross the end of a FRAME are emulated.
// CPython's C unpickler buffers each frame. Reading from bytes (loads) or a
// peekable file it continues contiguously past the frame's end; reading from
// a file object without peek (io.BytesIO, which torch.load uses for a zip
// checkpoint's data.pkl) it drops the rest of the frame and reads fresh bytes
// after it, except for BINBYTES-style payloads, which it reads into place. A
// pickler never splits an argument across frames, so a straddle is hostile:
// the two loaders run different opcodes.
type FrameView int

// Frame views.
const (
	// FramesBoth traces the contiguous view and, if any read straddles a
	// frame end, also the buffered view, merging both traces.
	FramesBoth FrameView = iota
	// FramesContiguous is pickle.loads' view.
	FramesContiguous
	// FramesBuffered is pickle.load(io.BytesIO(...))'s view.
	FramesBuffered
)

// straddle handles a buffered read of n bytes (CPython's _Unpickler_Read or
// _Unpickler_Readline) that starts inside the frame buffer and ends past it.
func (m *machine) straddle(n int64) error {
	cur := m.rd.Offset()
	if m.frameEnd <= cur || cur+n <= m.frameEnd {
		return nil
	}
	m.straddles++
	if m.straddles == 1 {
		m.event(EvFrameStraddle, fmt.Sprintf("a %d-byte read at offset %d crosses the FRAME end at %d", n, cur, m.frameEnd), unknownValue, unknownValue)
	}
	end := m.frameEnd
	m.frameEnd = 0
	if m.view == FramesBuffered {
		// The remainder of the frame is dropped; the read starts after it.
		return m.rd.skip(end - cur)
	}
	return nil
}

// frameRead is FRAME's own read of the frame into the buffer.
func (m *machine) frameRead(n int64) error { return m.straddle(n) }

func (m *machine) fixed(n int) ([]byte, error) {
	// The fast path is the common case of numeric pickles (a BINFLOAT per
	// element): the bytes are buffered and the read does not cross a
	// frame end, so straddle would do nothing.
	if r := m.rd; r.end-r.pos >= n {
		if cur := r.base + int64(r.pos); m.frameEnd <= cur || cur+int64(n) <= m.frameEnd {
			b := r.buf[r.pos : r.pos+n]
			r.pos += n
			return b, nil
		}
	}
	return m.fixedSlow(n)
}

func (m *machine) fixedSlow(n int) ([]byte, error) {
	if err := m.straddle(int64(n)); err != nil {
		return nil, errTruncated
	}
	return m.rd.fixed(n)
}

// data reads a counted payload. into is true for the opcodes CPython reads
// with _Unpickler_ReadInto (BINBYTES and friends), which copy the rest of
// the buffer and continue contiguously in every view.
func (m *machine) data(n int64, into bool) (string, int64, error) {
	if into {
		if cur := m.rd.Offset(); m.frameEnd > cur && cur+n > m.frameEnd {
			m.frameEnd = 0
		}
	} else if err := m.straddle(n); err != nil {
		return "", m.rd.Offset(), errTruncated
	}
	return m.rd.data(n)
}

// dataObject is data for payloads that become values.
func (m *machine) dataObject(n int64, into bool) (*Object, error) {
	if into {
		if cur := m.rd.Offset(); m.frameEnd > cur && cur+n > m.frameEnd {
			m.frameEnd = 0
		}
	} else if err := m.straddle(n); err != nil {
		return nil, errTruncated
	}
	return m.rd.dataObject(n, &m.pools)
}

// line reads a text argument. CPython's readline looks for the newline in
// its buffer; when the frame holds none, it reads a whole new line after
// the frame.
func (m *machine) line() (string, error) {
	cur := m.rd.Offset()
	if m.frameEnd > cur {
		found, err := m.rd.hasByte('\n', m.frameEnd)
		if err != nil {
			return "", err
		}
		if !found {
			if err := m.straddle(m.frameEnd - cur + 1); err != nil {
				return "", err
			}
		}
	}
	return m.rd.line()
}

// hasByte reports whether c occurs between the current offset and end.
func (r *reader) hasByte(c byte, end int64) (bool, error) {
	var chunk [4096]byte
	for off := r.Offset(); off < end; {
		n := int64(len(chunk))
		if end-off < n {
			n = end - off
		}
		got, err := r.r.ReadAt(chunk[:n], off)
		if bytes.IndexByte(chunk[:got], c) >= 0 {
			return true, nil
		}
		if got == 0 {
			if err == nil {
				err = errTruncated
			}
			return false, err
		}
		off += int64(got)
	}
	return false, nil
}
