package gitsource

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"
)

// v4Index is a version 4 index whose entries each keep the whole previous
// name and append one byte: n entries of about 65 bytes whose names total
// about n*first + n*n/2 bytes.
func v4Index(n, first int) []byte {
	var b bytes.Buffer
	b.WriteString("DIRC")
	b.Write(binary.BigEndian.AppendUint32(nil, 4))
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(n)))
	stat := make([]byte, 62)
	binary.BigEndian.PutUint32(stat[24:], 0o100644)
	for i := range n {
		b.Write(stat)
		b.WriteByte(0) // strip nothing from the previous name
		if i == 0 {
			b.Write(bytes.Repeat([]byte("d/"), first/2))
		} else {
			b.WriteByte('x')
		}
		b.WriteByte(0)
	}
	b.Write(make([]byte, 20))
	return b.Bytes()
}

// TestParseIndexBoundedNames: prefix-compressed names cannot expand a small
// index quadratically; a real-looking v4 index still parses.
func TestParseIndexBoundedNames(t *testing.T) {
	cases := []struct {
		name    string
		raw     []byte
		wantErr bool
	}{
		{"20000 growing 4 KiB names", v4Index(20000, 4096), true},
		{"1000 short names", v4Index(1000, 16), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			entries, _, err := parseIndex(tc.raw)
			runtime.ReadMemStats(&after)
			if (err != nil) != tc.wantErr {
				t.Fatalf("%d entries, err %v; want error %v", len(entries), err, tc.wantErr)
			}
			if d := after.TotalAlloc - before.TotalAlloc; d > 32*uint64(len(tc.raw))+(8<<20) {
				t.Errorf("allocated %d MiB from a %d KiB index", d>>20, len(tc.raw)>>10)
			}
		})
	}
}
