package compressed

import (
	"bytes"
	"compress/bzip2"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand"
	"os/exec"
	"testing"
)

// compressWithPython compresses data with CPython's own bz2 or lzma
// module, the writers joblib and pickle users go through.
func compressWithPython(t *testing.T, module string, data []byte) []byte {
	t.Helper()
	if module == "xz-blocks" {
		// xz-utils with blocks writes block headers that carry both
		// sizes, and several blocks, as multi-threaded xz does.
		xz, err := exec.LookPath("xz")
		if err != nil {
			t.Skip("xz not available")
		}
		cmd := exec.Command(xz, "-c", "--block-size=300KiB")
		cmd.Stdin = bytes.NewReader(data)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("xz: %v", err)
		}
		return out
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not available")
	}
	script := map[string]string{
		"bz2":  "import bz2,sys; sys.stdout.buffer.write(bz2.compress(sys.stdin.buffer.read(), 9))",
		"lzma": "import lzma,sys; sys.stdout.buffer.write(lzma.compress(sys.stdin.buffer.read(), format=lzma.FORMAT_ALONE))",
		"xz":   "import lzma,sys; sys.stdout.buffer.write(lzma.compress(sys.stdin.buffer.read(), format=lzma.FORMAT_XZ))",
	}[module]
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 %s: %v", module, err)
	}
	return out
}

// payload is text that compresses moderately and whose matches reach far
// back: words drawn from a vocabulary, with long repeated passages.
func payload(size int) []byte {
	rng := rand.New(rand.NewSource(1))
	var b bytes.Buffer
	for b.Len() < size {
		if b.Len() > 200<<10 && rng.Intn(50) == 0 {
			// A passage from far back: an LZMA match longer than the
			// small dictionary reaches.
			start := rng.Intn(b.Len() - 150<<10)
			b.Write(append([]byte(nil), b.Bytes()[start:start+300]...))
			continue
		}
		fmt.Fprintf(&b, "w%d ", rng.Intn(5000))
	}
	return b.Bytes()[:size]
}

// TestWindowRetrySameOutput holds the reduced-window decoders to their
// contract: whatever the stream, the output is the declared decoder's,
// whether the small window sufficed (small inputs) or the decode had to
// start over (a bzip2 block over 100 kB, LZMA matches beyond 64 KiB).
func TestWindowRetrySameOutput(t *testing.T) {
	for _, tc := range []struct {
		module string
		size   int
		retry  bool
	}{
		{"bz2", 10 << 10, false},
		{"bz2", 700 << 10, true},
		{"lzma", 10 << 10, false},
		{"lzma", 700 << 10, true},
		{"xz", 10 << 10, false},
		{"xz", 700 << 10, true},
		{"xz-blocks", 700 << 10, true},
	} {
		t.Run(fmt.Sprintf("%s-%d", tc.module, tc.size), func(t *testing.T) {
			data := payload(tc.size)
			comp := compressWithPython(t, tc.module, data)
			in := bytes.NewReader(comp)
			var got io.Reader
			var want io.Reader
			switch tc.module {
			case "bz2":
				got = newBzip2Reader(context.Background(), bytes.NewReader(comp), in, int64(len(comp)))
				want = bzip2.NewReader(bytes.NewReader(comp))
			case "xz", "xz-blocks":
				var err error
				if got, err = newXZWindowReader(context.Background(), bytes.NewReader(comp), in, int64(len(comp))); err != nil {
					t.Fatal(err)
				}
				if want, err = NewXZReader(bytes.NewReader(comp)); err != nil {
					t.Fatal(err)
				}
			default:
				var err error
				if got, err = newLZMAWindowReader(context.Background(), bytes.NewReader(comp), in, int64(len(comp))); err != nil {
					t.Fatal(err)
				}
				if want, err = NewLZMAReader(bytes.NewReader(comp)); err != nil {
					t.Fatal(err)
				}
			}
			g, gerr := io.ReadAll(got)
			w, werr := io.ReadAll(want)
			if gerr != nil || werr != nil {
				t.Fatalf("decode: reduced %v, declared %v", gerr, werr)
			}
			if !bytes.Equal(g, w) || !bytes.Equal(w, data) {
				t.Fatalf("reduced window decoded %d bytes, declared %d, input was %d", len(g), len(w), len(data))
			}
			wr, isRetry := got.(*windowRetry)
			if !isRetry {
				t.Fatalf("decoder is %T, want a reduced-window decoder", got)
			}
			if retried := wr.declared == nil; retried != tc.retry {
				t.Errorf("started over with the declared window: %v, want %v", retried, tc.retry)
			}
		})
	}
}

// TestWindowRetryCorrupt checks that a stream corrupt beyond repair fails
// with the declared decoder's error after the same output.
func TestWindowRetryCorrupt(t *testing.T) {
	data := payload(300 << 10)
	comp := compressWithPython(t, "bz2", data)
	bad := append([]byte(nil), comp...)
	for i := len(bad) / 2; i < len(bad)/2+64; i++ {
		bad[i] ^= 0x55
	}
	got, gerr := io.ReadAll(newBzip2Reader(context.Background(), bytes.NewReader(bad), bytes.NewReader(bad), int64(len(bad))))
	want, werr := io.ReadAll(bzip2.NewReader(bytes.NewReader(bad)))
	if gerr == nil || werr == nil {
		t.Fatalf("corrupt stream decoded: reduced %v, declared %v", gerr, werr)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("reduced window delivered %d bytes before failing, declared %d", len(got), len(want))
	}
}

// TestLowerXZDict checks which first-block dictionaries are lowered: ones
// larger than the small window and within MaxDict. Past MaxDict the block
// must reach the declared decoder, which refuses it.
func TestLowerXZDict(t *testing.T) {
	for _, tc := range []struct {
		prop  byte
		lower bool
	}{
		{8, false},  // 64 KiB: already small
		{22, true},  // 8 MiB, xz's default preset
		{29, true},  // 96 MiB
		{30, true},  // 128 MiB = MaxDict
		{31, false}, // 192 MiB: past MaxDict
		{40, false}, // 4 GiB - 1
		{41, false}, // invalid
	} {
		// Size byte (12 bytes: (2+1)*4), flags (one filter, no sizes),
		// LZMA2 filter flags, padding, CRC-32.
		h := []byte{2, 0, 0x21, 0x01, tc.prop, 0, 0, 0, 0, 0, 0, 0}
		binary.LittleEndian.PutUint32(h[8:], crc32.ChecksumIEEE(h[:8]))
		got := lowerXZDict(h)
		if got != tc.lower {
			t.Errorf("property %d: lowered %v, want %v", tc.prop, got, tc.lower)
		}
		if got && (h[4] != smallXZDictByte || binary.LittleEndian.Uint32(h[8:]) != crc32.ChecksumIEEE(h[:8])) {
			t.Errorf("property %d: header after lowering % x", tc.prop, h)
		}
	}
}
