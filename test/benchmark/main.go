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
//	    [-records-mb 100,1024] [-only records,small]
//
// The corpus:
//   - a PyTorch zip checkpoint of -torch-gb GiB: a real state_dict data.pkl
//     shape plus large tensor storages (sparse zeros unless -dense), to show
//     that only pickle members are read;
//   - a plain pickle of -pickle-mb MiB of numeric data in the opcode-densest
//     form pickle writes (a list of floats, protocol 4, framed);
//   - a pickle whose bulk is one large bytes object (numpy arrays pickled
//     with protocol 4/5);
//   - object-heavy pickles of -records-mb MiB each: a list of records (dicts
//     with datetime, Decimal, tuples and strings; the shape of pandas object
//     columns and record caches), written by CPython's own pickle module;
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
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/modelgate/modelgate/internal/benchdata"
)

func main() {
	bin := flag.String("bin", "", "modelgate binary to measure (required); several, comma-separated, are measured on the same corpus (before/after)")
	dir := flag.String("dir", "", "corpus directory (default: a temp dir, removed afterwards)")
	torchGB := flag.Float64("torch-gb", 5, "size of the PyTorch zip checkpoint in GiB")
	pickleMB := flag.Int("pickle-mb", 1024, "size of the numeric pickles in MiB")
	dense := flag.Bool("dense", false, "write real (random) tensor bytes instead of sparse zeros")
	small := flag.Int("small", 2000, "number of small model files")
	fixtures := flag.String("fixtures", "test/fixtures/benign", "where the small real model files come from")
	recordsMB := flag.String("records-mb", "100,1024", "sizes in MiB of the object-heavy record pickles (comma-separated)")
	only := flag.String("only", "", "run only these parts (comma-separated: torch, floats, bytes, records, small)")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "benchmark: -bin is required")
		os.Exit(2)
	}
	var records []int
	for _, f := range strings.Split(*recordsMB, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "benchmark: -records-mb: bad size %q\n", f)
			os.Exit(2)
		}
		records = append(records, n)
	}
	cfg := config{torchGB: *torchGB, pickleMB: *pickleMB, dense: *dense, small: *small, fixtures: *fixtures, recordsMB: records}
	if *only != "" {
		cfg.only = map[string]bool{}
		for _, o := range strings.Split(*only, ",") {
			cfg.only[strings.TrimSpace(o)] = true
		}
	}
	if err := run(*bin, *dir, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "benchmark:", err)
		os.Exit(1)
	}
}

type config struct {
	torchGB   float64
	pickleMB  int
	dense     bool
	small     int
	fixtures  string
	recordsMB []int
	only      map[string]bool // nil: every part
}

func run(bin, dir string, cfg config) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "modelgate-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	type part struct {
		kind string
		name string
		path string
		make func(string) error
	}
	torchGB, pickleMB := cfg.torchGB, cfg.pickleMB
	parts := []part{
		{"torch", fmt.Sprintf("pytorch zip checkpoint %.1f GiB", torchGB), filepath.Join(dir, "checkpoint.pt"),
			func(p string) error { return writeTorchZip(p, int64(torchGB*(1<<30)), cfg.dense) }},
		{"floats", fmt.Sprintf("numeric pickle (list of floats) %d MiB", pickleMB), filepath.Join(dir, "floats.pkl"),
			func(p string) error { return benchdata.WriteFloatPickle(p, int64(pickleMB)<<20) }},
		{"bytes", fmt.Sprintf("bytes pickle (one large bytes object) %d MiB", pickleMB), filepath.Join(dir, "blob.pkl"),
			func(p string) error { return writeBytesPickle(p, int64(pickleMB)<<20) }},
	}
	for _, mb := range cfg.recordsMB {
		mb := mb
		parts = append(parts, part{"records", fmt.Sprintf("object-heavy pickle (records) %d MiB", mb), filepath.Join(dir, fmt.Sprintf("records-%d.pkl", mb)),
			func(p string) error { return writeRecordPickle(p, int64(mb)<<20) }})
	}
	parts = append(parts, part{"small", fmt.Sprintf("%d small real model files", cfg.small), filepath.Join(dir, "small"),
		func(p string) error { return copySmall(p, cfg.fixtures, cfg.small) }})
	// CPU seconds (user+sys of the scan) are printed beside wall time: on a
	// shared machine they are the steadier figure.
	fmt.Printf("%-46s %8s %10s %9s %9s %10s %10s %5s\n", "corpus", "files", "MiB", "seconds", "cpu s", "MB/s", "files/s", "RSS")
	for _, pt := range parts {
		if cfg.only != nil && !cfg.only[pt.kind] {
			continue
		}
		if err := pt.make(pt.path); err != nil {
			return fmt.Errorf("make %s: %w", pt.name, err)
		}
		files, size, err := measure(pt.path)
		if err != nil {
			return err
		}
		for _, b := range strings.Split(bin, ",") {
			name := pt.name
			if strings.Contains(bin, ",") {
				name = filepath.Base(b) + ": " + name
			}
			if err := scanOnce(b, name, pt.path, files, size); err != nil {
				return err
			}
		}
		if err := os.RemoveAll(pt.path); err != nil {
			return err
		}
	}
	return nil
}

// scanOnce runs one binary over one part and prints its row.
func scanOnce(bin, name, path string, files int, size int64) error {
	start := time.Now()
	cmd := exec.Command(bin, "scan", "--format", "json", "-o", os.DevNull, path)
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	// Exit 1 (findings) and 2 (unscanned content) are verdicts, not
	// failures of the measurement.
	if err != nil && !(errorsAs(err, &ee) && ee.ExitCode() <= 2) {
		return fmt.Errorf("scan %s: %w", name, err)
	}
	rss := int64(0)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss << 10 // kilobytes on Linux
	}
	cpu := (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	secs := wall.Seconds()
	fmt.Printf("%-46s %8d %10.0f %9.3f %9.3f %10.1f %10.1f %4dM\n", name, files, float64(size)/(1<<20), secs, cpu,
		float64(size)/1e6/secs, float64(files)/secs, rss>>20)
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

// recordScript writes pickle.dumps(records, protocol=4) for a list of
// records that grows while it is pickled, so that writing a GiB of them
// needs no GiB of live records: the pickler batches a list by index and
// follows its growth, and reducer_override (called for each datetime, one
// per record) appends the next records and forgets written ones. Records
// are new objects, so only the dict keys and the classes are ever read back
// from the pickler's memo; keeping just those changes no byte of output
// (the generator checks this against plain pickle.dumps at a small size).
const recordScript = `
import datetime, decimal, pickle, sys

base = datetime.datetime(2024, 1, 1)
KEYS = ("id", "ts", "amount", "pair", "name")

def record(i):
    return {"id": i, "ts": base + datetime.timedelta(seconds=i),
            "amount": decimal.Decimal("%d.%02d" % (i % 10000, i % 100)),
            "pair": (i % 7, "k%d" % (i % 13)), "name": "user%d" % i}

class Writer(pickle.Pickler):
    def __init__(self, f, size):
        super().__init__(f, protocol=4)
        self.f, self.size, self.done, self.freed, self.keep = f, size, 0, 0, None
        self.records = [record(i) for i in range(2000)]

    def reducer_override(self, obj):
        if type(obj) is datetime.datetime:
            self.done += 1
            if self.done % 1000 == 0:
                if self.keep is None:
                    self.keep = {k: v for k, v in self.memo.copy().items()
                                 if isinstance(v[1], type) or any(v[1] is key for key in KEYS)}
                self.memo = self.keep
                recs = self.records
                if self.f.tell() < self.size and len(recs) - self.done < 1500:
                    recs.extend(record(i) for i in range(len(recs), len(recs) + 1000))
                while self.freed < self.done - 1000:
                    recs[self.freed] = None
                    self.freed += 1
        return NotImplemented

def write(path, size):
    with open(path, "wb") as f:
        w = Writer(f, size)
        w.dump(w.records)

if __name__ == "__main__":
    path, size = sys.argv[1], int(sys.argv[2])
    import io
    probe = io.BytesIO()
    w = Writer(probe, 1 << 20)
    w.dump(w.records)
    n = len(pickle.loads(probe.getvalue()))
    if probe.getvalue() != pickle.dumps([record(i) for i in range(n)], protocol=4):
        sys.exit("record writer output differs from pickle.dumps")
    write(path, size)
`

// writeRecordPickle has CPython's pickle write about size bytes of records.
func writeRecordPickle(p string, size int64) error {
	py := "/usr/bin/python3" // the Debian interpreter the project's generators use
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			return fmt.Errorf("the record pickle is written by CPython: %w", err)
		}
	}
	cmd := exec.Command(py, "-c", recordScript, p, strconv.FormatInt(size, 10))
	cmd.Stderr = os.Stderr
	return cmd.Run()
}
