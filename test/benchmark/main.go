//go:build benchmark

// Command benchmark generates a scanning corpus and runs a modelgate binary
// over each part of it, printing wall time, throughput (MB/s, files/s) and
// the child's peak resident memory. It is the one documented command for
// performance figures (see README "Performance"); it is never run by tests.
// The build tag keeps it out of `go install ./...`, which is how the
// pre-commit framework installs this repository's hook: only modelgate
// belongs on the hook's PATH.
//
//	go build -o /tmp/modelgate ./cmd/modelgate
//	go run -tags benchmark ./test/benchmark -bin /tmp/modelgate [-dir DIR] [-torch-gb 5] [-pickle-mb 1024] [-dense]
//
// The corpus:
//   - a PyTorch zip checkpoint of -torch-gb GiB: a real state_dict data.pkl
//     shape plus large tensor storages (sparse zeros unless -dense), to show
//     that only pickle members are read;
//   - a plain pickle of -pickle-mb MiB of numeric data in the opcode-densest
//     form pickle writes (a list of floats, protocol 4, framed);
//   - a pickle whose bulk is one large bytes object (numpy arrays pickled
//     with protocol 4/5);
//   - many small real model files (copies of the benign fixtures), for files/s.
package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "", "modelgate binary to measure (required)")
	dir := flag.String("dir", "", "corpus directory (default: a temp dir, removed afterwards)")
	torchGB := flag.Float64("torch-gb", 5, "size of the PyTorch zip checkpoint in GiB")
	pickleMB := flag.Int("pickle-mb", 1024, "size of the numeric pickles in MiB")
	dense := flag.Bool("dense", false, "write real (random) tensor bytes instead of sparse zeros")
	small := flag.Int("small", 2000, "number of small model files")
	fixtures := flag.String("fixtures", "test/fixtures/benign", "where the small real model files come from")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "benchmark: -bin is required")
		os.Exit(2)
	}
	if err := run(*bin, *dir, *torchGB, *pickleMB, *dense, *small, *fixtures); err != nil {
		fmt.Fprintln(os.Stderr, "benchmark:", err)
		os.Exit(1)
	}
}

func run(bin, dir string, torchGB float64, pickleMB int, dense bool, small int, fixtures string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "modelgate-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	type part struct {
		name string
		path string
		make func(string) error
	}
	parts := []part{
		{fmt.Sprintf("pytorch zip checkpoint %.1f GiB", torchGB), filepath.Join(dir, "checkpoint.pt"),
			func(p string) error { return writeTorchZip(p, int64(torchGB*(1<<30)), dense) }},
		{fmt.Sprintf("numeric pickle (list of floats) %d MiB", pickleMB), filepath.Join(dir, "floats.pkl"),
			func(p string) error { return writeFloatPickle(p, int64(pickleMB)<<20) }},
		{fmt.Sprintf("bytes pickle (one large bytes object) %d MiB", pickleMB), filepath.Join(dir, "blob.pkl"),
			func(p string) error { return writeBytesPickle(p, int64(pickleMB)<<20) }},
		{fmt.Sprintf("%d small real model files", small), filepath.Join(dir, "small"),
			func(p string) error { return copySmall(p, fixtures, small) }},
	}
	fmt.Printf("%-46s %8s %10s %9s %10s %10s %5s\n", "corpus", "files", "MiB", "seconds", "MB/s", "files/s", "RSS")
	for _, pt := range parts {
		if err := pt.make(pt.path); err != nil {
			return fmt.Errorf("make %s: %w", pt.name, err)
		}
		files, size, err := measure(pt.path)
		if err != nil {
			return err
		}
		start := time.Now()
		cmd := exec.Command(bin, "scan", "--format", "json", "-o", os.DevNull, pt.path)
		cmd.Stderr = os.Stderr
		err = cmd.Run()
		wall := time.Since(start)
		var ee *exec.ExitError
		// Exit 1 (findings) and 2 (unscanned content) are verdicts, not
		// failures of the measurement.
		if err != nil && !(errorsAs(err, &ee) && ee.ExitCode() <= 2) {
			return fmt.Errorf("scan %s: %w", pt.name, err)
		}
		rss := int64(0)
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss << 10 // kilobytes on Linux
		}
		secs := wall.Seconds()
		fmt.Printf("%-46s %8d %10.0f %9.3f %10.1f %10.1f %4dM\n", pt.name, files, float64(size)/(1<<20), secs,
			float64(size)/1e6/secs, float64(files)/secs, rss>>20)
		if err := os.RemoveAll(pt.path); err != nil {
			return err
		}
	}
	return nil
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

func measure(p string) (files int, size int64, err error) {
	err = filepath.Walk(p, func(_ string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			files++
			size += fi.Size()
		}
		return nil
	})
	return files, size, err
}

// sparseWriter turns all-zero writes into seeks so a multi-GB checkpoint of
// zero tensors costs no disk; the file reads back exactly the same.
type sparseWriter struct {
	f   *os.File
	off int64
}

func (s *sparseWriter) Write(p []byte) (int, error) {
	if len(p) >= 4096 && allZero(p) {
		s.off += int64(len(p))
		if _, err := s.f.Seek(s.off, io.SeekStart); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	n, err := s.f.Write(p)
	s.off += int64(n)
	return n, err
}

func allZero(p []byte) bool {
	for _, c := range p {
		if c != 0 {
			return false
		}
	}
	return true
}

// statePickle is the data.pkl of a state_dict with n float tensors whose
// storages are archive/data/<i>, written as torch.save does (protocol 2).
func statePickle(n int, numel int64) []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(")
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("layers.%d.weight", i)
		b.WriteByte('X')
		_ = binary.Write(&b, binary.LittleEndian, uint32(len(key)))
		b.WriteString(key)
		b.WriteString("ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n")
		id := fmt.Sprint(i)
		b.WriteByte('X')
		_ = binary.Write(&b, binary.LittleEndian, uint32(len(id)))
		b.WriteString(id)
		b.WriteString("X\x03\x00\x00\x00cpu")
		b.WriteByte('\x8a') // LONG1
		b.WriteByte(8)
		_ = binary.Write(&b, binary.LittleEndian, numel)
		b.WriteString("tQK\x00")
		b.WriteByte('\x8a')
		b.WriteByte(8)
		_ = binary.Write(&b, binary.LittleEndian, numel)
		b.WriteString("\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR")
	}
	b.WriteString("u.")
	return b.Bytes()
}

func writeTorchZip(p string, total int64, dense bool) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	defer f.Close()
	const storages = 20
	per := total / storages &^ 63
	zw := zip.NewWriter(&sparseWriter{f: f})
	add := func(name string, size int64, fill func(w io.Writer) error, crc uint32) error {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Store, CRC32: crc,
			CompressedSize64: uint64(size), UncompressedSize64: uint64(size)})
		if err != nil {
			return err
		}
		return fill(w)
	}
	small := func(name string, data []byte) error {
		return add(name, int64(len(data)), func(w io.Writer) error { _, err := w.Write(data); return err }, crc32.ChecksumIEEE(data))
	}
	if err := small("archive/data.pkl", statePickle(storages, per/4)); err != nil {
		return err
	}
	if err := small("archive/byteorder", []byte("little")); err != nil {
		return err
	}
	chunk := make([]byte, 1<<20)
	rng := rand.New(rand.NewSource(1))
	if dense {
		rng.Read(chunk)
	}
	crc := uint32(0)
	for n := per; n > 0; n -= int64(len(chunk)) {
		crc = crc32.Update(crc, crc32.IEEETable, chunk[:min(n, int64(len(chunk)))])
	}
	for i := 0; i < storages; i++ {
		err := add(fmt.Sprintf("archive/data/%d", i), per, func(w io.Writer) error {
			for n := per; n > 0; n -= int64(len(chunk)) {
				if _, err := w.Write(chunk[:min(n, int64(len(chunk)))]); err != nil {
					return err
				}
			}
			return nil
		}, crc)
		if err != nil {
			return err
		}
	}
	if err := small("archive/version", []byte("3\n")); err != nil {
		return err
	}
	return zw.Close()
}

// writeFloatPickle streams pickle.dumps([float, ...], protocol=4): frames of
// about 64 KiB holding batches of 1000 BINFLOATs.
func writeFloatPickle(p string, size int64) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	var frame bytes.Buffer
	flush := func() error {
		var hdr [9]byte
		hdr[0] = 0x95
		binary.LittleEndian.PutUint64(hdr[1:], uint64(frame.Len()))
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		_, err := w.Write(frame.Bytes())
		frame.Reset()
		return err
	}
	if _, err := w.Write([]byte("\x80\x04")); err != nil {
		return err
	}
	frame.WriteString("]\x94(")
	var written int64
	for i := 0; written < size; i++ {
		var g [9]byte
		g[0] = 'G'
		binary.BigEndian.PutUint64(g[1:], math.Float64bits(float64(i)*0.25))
		frame.Write(g[:])
		if i%1000 == 999 {
			frame.WriteByte('e')
			if frame.Len() >= 64<<10 {
				written += int64(frame.Len()) + 9
				if err := flush(); err != nil {
					return err
				}
			}
			frame.WriteByte('(')
		}
	}
	frame.WriteString("e.")
	if err := flush(); err != nil {
		return err
	}
	return w.Flush()
}

// writeBytesPickle writes pickle.dumps(b"..." * n, protocol=4) with random
// content: BINBYTES8 followed by STOP.
func writeBytesPickle(p string, size int64) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	var hdr [11]byte
	copy(hdr[:], "\x80\x04\x8e")
	binary.LittleEndian.PutUint64(hdr[3:], uint64(size))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	chunk := make([]byte, 1<<20)
	rand.New(rand.NewSource(2)).Read(chunk)
	for n := size; n > 0; n -= int64(len(chunk)) {
		if _, err := w.Write(chunk[:min(n, int64(len(chunk)))]); err != nil {
			return err
		}
	}
	if _, err := w.Write([]byte(".")); err != nil {
		return err
	}
	return w.Flush()
}

func copySmall(dst, src string, n int) error {
	var files []string
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && !strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no files under %s", src)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		src := files[i%len(files)]
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, fmt.Sprintf("%05d-%s", i, filepath.Base(src))), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
