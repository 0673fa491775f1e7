package pickle

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
)

// straddlePickle: a SHORT_BINUNICODE crosses the FRAME end. Read contiguously
// it swallows one byte after the frame and a BINBYTES then hides a GLOBAL;
// read with the frame rest dropped, the string is taken after the frame and
// the GLOBAL runs.
func straddlePickle() []byte {
	hidden := []byte("cposix\nsystem\n(X\x01\x00\x00\x00xtR0")
	framed := append([]byte("(\x8c\x0a"), bytes.Repeat([]byte("A"), 9)...)
	var b bytes.Buffer
	b.WriteString("\x80\x04\x95")
	binary.Write(&b, binary.LittleEndian, uint64(len(framed)))
	b.Write(framed)
	b.WriteString("ZB")
	binary.Write(&b, binary.LittleEndian, uint32(4+len(hidden)))
	b.WriteString("WXYZ")
	b.Write(hidden)
	b.WriteString("t.")
	return b.Bytes()
}

func TestFrameViews(t *testing.T) {
	data := straddlePickle()
	cases := []struct {
		view       FrameView
		wantGlobal bool
	}{
		{FramesContiguous, false},
		{FramesBuffered, true},
		{FramesBoth, true},
	}
	for _, c := range cases {
		tr, err := Run(context.Background(), bytes.NewReader(data), 0, int64(len(data)), Options{Frames: c.view})
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, g := range tr.Globals {
			got = got || (g.Module == "posix" && g.Name == "system")
		}
		straddle := false
		for _, ev := range tr.Events {
			straddle = straddle || ev.Kind == EvFrameStraddle
		}
		if got != c.wantGlobal || !straddle {
			t.Errorf("view %d: posix.system resolved=%v (want %v), straddle event=%v", c.view, got, c.wantGlobal, straddle)
		}
	}
}
