package pickle

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"testing"
)

// numericPickle writes what pickle.dumps(list_of_floats, protocol=4) writes:
// framed BINFLOATs appended in batches of 1000, the opcode-heaviest shape a
// real numeric pickle takes.
func numericPickle(n int) []byte {
	// Like the pickler, frames end only between opcodes (here at batch
	// boundaries), so every frame holds whole opcodes.
	var out, frame bytes.Buffer
	flush := func() {
		out.WriteByte(0x95)
		_ = binary.Write(&out, binary.LittleEndian, uint64(frame.Len()))
		out.Write(frame.Bytes())
		frame.Reset()
	}
	out.WriteString("\x80\x04")
	frame.WriteString("]\x94(")
	for i := 0; i < n; i++ {
		frame.WriteByte('G')
		_ = binary.Write(&frame, binary.BigEndian, math.Float64bits(float64(i)*0.5))
		if i%1000 == 999 {
			frame.WriteString("e")
			if frame.Len() >= 64<<10 {
				flush()
			}
			frame.WriteString("(")
		}
	}
	frame.WriteString("e.")
	flush()
	return out.Bytes()
}

// stateDictPickle mimics a torch state_dict's data.pkl: an OrderedDict of
// _rebuild_tensor_v2 calls with persistent ids.
func stateDictPickle(tensors int) []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(")
	for i := 0; i < tensors; i++ {
		key := []byte("layer.weight")
		b.WriteByte('X')
		_ = binary.Write(&b, binary.LittleEndian, uint32(len(key)))
		b.Write(key)
		b.WriteString("ctorch._utils\n_rebuild_tensor_v2\nq\x02((X\x07\x00\x00\x00storageq\x03ctorch\nFloatStorage\nq\x04X\x01\x00\x00\x000q\x05X\x03\x00\x00\x00cpuq\x06M\x00\x01tq\x07QK\x00K\x10K\x10\x86q\x08K\x10K\x01\x86q\t\x89ccollections\nOrderedDict\nq\n)Rq\x0btq\x0cRq\r")
	}
	b.WriteString("u.")
	return b.Bytes()
}

// benchRun runs the VM over data; a trace that stopped early (a bound
// reached) would time only part of the work, so it fails the benchmark.
func benchRun(b *testing.B, data []byte, opts Options) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	r := bytes.NewReader(data)
	for b.Loop() {
		tr, err := Run(context.Background(), r, 0, int64(len(data)), opts)
		if err != nil {
			b.Fatal(err)
		}
		if !tr.Complete {
			b.Fatalf("trace incomplete after %d opcodes: %v", tr.Opcodes, tr.Events)
		}
	}
}

// BenchmarkNumericPickle measures raw VM throughput on opcode-dense input.
func BenchmarkNumericPickle(b *testing.B) { benchRun(b, numericPickle(1_000_000), Options{}) }

// BenchmarkStateDictPickle measures the call-heavy shape of checkpoints.
func BenchmarkStateDictPickle(b *testing.B) { benchRun(b, stateDictPickle(2000), Options{}) }

// BenchmarkBigBytes measures a pickle that is mostly one large BINBYTES8
// blob (numpy arrays pickled with protocol 4 or 5).
func BenchmarkBigBytes(b *testing.B) {
	blob := make([]byte, 64<<20)
	var p bytes.Buffer
	p.WriteString("\x80\x04\x8e")
	_ = binary.Write(&p, binary.LittleEndian, uint64(len(blob)))
	p.Write(blob)
	p.WriteString(".")
	benchRun(b, p.Bytes(), Options{})
}

// BenchmarkRecordsPickle measures the object-heavy shape (a list of dicts
// with datetime, Decimal and tuples, as pandas object columns and record
// caches pickle) on a file written by CPython's pickle; point
// MODELGATE_BENCH_RECORDS at one (the benchmark command writes them).
func BenchmarkRecordsPickle(b *testing.B) {
	p := os.Getenv("MODELGATE_BENCH_RECORDS")
	if p == "" {
		b.Skip("MODELGATE_BENCH_RECORDS is not set")
	}
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	// The policy counts these calls (routine); kept, the trace would be
	// full after 100,000 of them and the run would stop there.
	benchRun(b, data, Options{Routine: func(module, name string) bool { return module == "datetime" || module == "decimal" }})
}
