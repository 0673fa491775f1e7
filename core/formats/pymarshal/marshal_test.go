package pymarshal

import (
	"bytes"
	"encoding/binary"
	"os"
	"slices"
	"testing"
)

// py38Code builds a code object in the 3.8-3.10 layout (six leading
// integers, lnotab at the end) by hand, since only one Python is installed.
func py38Code() []byte {
	var b bytes.Buffer
	i32 := func(v int32) { _ = binary.Write(&b, binary.LittleEndian, v) }
	str := func(s string) { b.WriteByte('z'); b.WriteByte(byte(len(s))); b.WriteString(s) }
	b.WriteByte('c' | flagRef)
	for _, v := range []int32{1, 0, 0, 1, 2, 0x43} {
		i32(v)
	}
	b.WriteByte('s')
	i32(2)
	b.WriteString("\x64\x00")
	b.WriteByte(')')
	b.WriteByte(2)
	b.WriteByte('N')
	str("rm -rf /tmp/x")
	b.WriteByte(')')
	b.WriteByte(2)
	str("os")
	str("system")
	b.WriteByte(')' | flagRef) // varnames
	b.WriteByte(1)
	str("x")
	b.WriteByte('r') // freevars: a back-reference to varnames' tuple
	i32(1)
	b.WriteByte('(')
	i32(0)
	str("<stdin>")
	str("<lambda>")
	i32(1)
	b.WriteByte('s')
	i32(0)
	return b.Bytes()
}

func TestDecode(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name        string
		data        []byte
		layout      string
		wantNames   []string
		wantStrings []string
		wantFuncs   int
	}{
		{"cpython module code", read("module_open_marker.marshal"), "3.11+",
			[]string{"open", "__import__", "environ", "get", "close"}, []string{"os", "MODELGATE_MARKER"}, 1},
		{"cpython lambda", read("lambda_arith.marshal"), "3.11+", nil, nil, 1},
		{"cpython nested function", read("nested_os_system.marshal"), "3.11+",
			[]string{"os", "system"}, []string{"true"}, 2},
		{"3.8 layout", py38Code(), "3.8-3.10", []string{"os", "system"}, []string{"rm -rf /tmp/x"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Decode(tc.data, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if c.Layout != tc.layout {
				t.Errorf("layout %q, want %q", c.Layout, tc.layout)
			}
			for _, n := range tc.wantNames {
				if !slices.Contains(c.Names, n) {
					t.Errorf("names %q lack %q", c.Names, n)
				}
			}
			if tc.wantNames == nil && len(c.Names) != 0 {
				t.Errorf("names %q, want none", c.Names)
			}
			for _, s := range tc.wantStrings {
				if !slices.Contains(c.Strings, s) {
					t.Errorf("strings %q lack %q", c.Strings, s)
				}
			}
			if len(c.Functions) != tc.wantFuncs {
				t.Errorf("functions %q, want %d", c.Functions, tc.wantFuncs)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := map[string][]byte{
		"empty":           nil,
		"not code":        []byte("z\x02hi"),
		"unknown type":    []byte("?"),
		"bad reference":   []byte("r\x05\x00\x00\x00"),
		"huge length":     []byte("s\xff\xff\xff\x7f"),
		"negative length": []byte("(\xff\xff\xff\xff"),
		"deep nesting":    bytes.Repeat([]byte(")\x01"), 1000),
		"truncated code":  []byte("c\x01\x00\x00\x00"),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(data, DefaultLimits()); err == nil {
				t.Fatal("decoded without error")
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, n := range []string{"module_open_marker.marshal", "lambda_arith.marshal", "nested_os_system.marshal"} {
		b, err := os.ReadFile("testdata/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(py38Code())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b, Limits{MaxDepth: 50, MaxObjects: 10000})
		if err == nil && c == nil {
			t.Fatal("nil code without error")
		}
	})
}
