// Package benchdata writes the generated inputs benchmarks share. Nothing
// here is used by modelgate itself; the content is made at bench time and
// never committed.
package benchdata

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"math"
	"os"
)

// WriteFloatPickle streams what pickle.dumps([0.0, 0.25, ...], protocol=4)
// writes for a list of size bytes: frames of about 64 KiB, each holding
// MARK, 1000 BINFLOATs and APPENDS.
func WriteFloatPickle(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	var frame bytes.Buffer
	flush := func() error {
		var hdr [9]byte
		hdr[0] = 0x95 // FRAME
		binary.LittleEndian.PutUint64(hdr[1:], uint64(frame.Len()))
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		_, err := w.Write(frame.Bytes())
		frame.Reset()
		return err
	}
	if _, err := w.Write([]byte("\x80\x04")); err != nil { // PROTO 4
		return err
	}
	frame.WriteString("]\x94(") // EMPTY_LIST, MEMOIZE, MARK
	var written int64
	for i := 0; written < size; i++ {
		var g [9]byte
		g[0] = 'G' // BINFLOAT
		binary.BigEndian.PutUint64(g[1:], math.Float64bits(float64(i)*0.25))
		frame.Write(g[:])
		if i%1000 == 999 {
			frame.WriteByte('e') // APPENDS
			if frame.Len() >= 64<<10 {
				written += int64(frame.Len()) + 9
				if err := flush(); err != nil {
					return err
				}
			}
			frame.WriteByte('(')
		}
	}
	frame.WriteString("e.") // APPENDS, STOP
	if err := flush(); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
