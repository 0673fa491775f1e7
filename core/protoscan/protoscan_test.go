package protoscan

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func tag(n protowire.Number, t protowire.Type) []byte { return protowire.AppendTag(nil, n, t) }

func bytesField(n protowire.Number, b []byte) []byte {
	return protowire.AppendBytes(tag(n, protowire.BytesType), b)
}

func varintField(n protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(tag(n, protowire.VarintType), v)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// walkAll visits every field, descending into every length-delimited field
// that parses as a message, and returns the visited field numbers.
func walkAll(t *testing.T, data []byte, lim Limits) ([]protowire.Number, error) {
	t.Helper()
	p := New(bytes.NewReader(data), int64(len(data)), lim)
	var nums []protowire.Number
	var walk func(off, n int64, depth int) error
	walk = func(off, n int64, depth int) error {
		return p.Walk(context.Background(), off, n, depth, func(f Field) error {
			nums = append(nums, f.Num)
			if f.IsBytes() && f.Num >= 10 {
				return walk(f.Off, f.Len, depth+1)
			}
			return nil
		})
	}
	return nums, walk(0, int64(len(data)), 0)
}

func TestWalk(t *testing.T) {
	nested := cat(varintField(1, 7), bytesField(2, []byte("x")))
	group := cat(tag(5, protowire.StartGroupType), varintField(1, 1), tag(5, protowire.EndGroupType))
	deep := nested
	for i := 0; i < 5; i++ {
		deep = bytesField(10, deep)
	}
	tests := []struct {
		name    string
		data    []byte
		lim     Limits
		want    []protowire.Number
		wantErr error
	}{
		{"empty", nil, Limits{}, nil, nil},
		{"scalars", cat(varintField(1, 150), protowire.AppendFixed32(tag(2, protowire.Fixed32Type), 9),
			protowire.AppendFixed64(tag(3, protowire.Fixed64Type), 9)), Limits{}, []protowire.Number{1, 2, 3}, nil},
		{"nested message", bytesField(10, nested), Limits{}, []protowire.Number{10, 1, 2}, nil},
		{"group skipped", cat(group, varintField(1, 1)), Limits{}, []protowire.Number{1}, nil},
		{"truncated varint", []byte{0x08, 0x80}, Limits{}, nil, ErrMalformed},
		{"length past end", []byte{0x12, 0x05, 'a'}, Limits{}, nil, ErrMalformed},
		{"bad wire type", []byte{0x0f}, Limits{}, nil, ErrMalformed},
		{"end group outside group", tag(1, protowire.EndGroupType), Limits{}, nil, ErrMalformed},
		{"unterminated group", tag(1, protowire.StartGroupType), Limits{}, nil, ErrMalformed},
		{"mismatched group", cat(tag(1, protowire.StartGroupType), tag(2, protowire.EndGroupType)), Limits{}, nil, ErrMalformed},
		{"field limit", cat(varintField(1, 1), varintField(1, 1), varintField(1, 1)), Limits{MaxFields: 2}, nil, ErrLimit},
		{"depth limit", deep, Limits{MaxDepth: 1}, nil, ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := walkAll(t, tt.data, tt.lim)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("fields %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("fields %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestBytesTruncates(t *testing.T) {
	data := bytesField(1, []byte("hello world"))
	p := New(bytes.NewReader(data), int64(len(data)), Limits{})
	var f Field
	if err := p.Walk(context.Background(), 0, int64(len(data)), 0, func(g Field) error { f = g; return nil }); err != nil {
		t.Fatal(err)
	}
	b, trunc, err := p.Bytes(f, 5)
	if err != nil || !trunc || string(b) != "hello" {
		t.Fatalf("Bytes = %q %v %v", b, trunc, err)
	}
	if s, err := p.String(f, 100); err != nil || s != "hello world" {
		t.Fatalf("String = %q %v", s, err)
	}
}

func TestCancelled(t *testing.T) {
	var data []byte
	for i := 0; i < 5000; i++ {
		data = append(data, varintField(1, 1)...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := New(bytes.NewReader(data), int64(len(data)), Limits{})
	err := p.Walk(ctx, 0, int64(len(data)), 0, func(Field) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// FuzzWalk feeds arbitrary bytes through a recursive walk that treats every
// length-delimited field as a possible message.
func FuzzWalk(f *testing.F) {
	f.Add(cat(varintField(1, 8), bytesField(7, cat(bytesField(1, bytesField(4, []byte("Relu")))))))
	f.Add(cat(tag(5, protowire.StartGroupType), varintField(1, 1), tag(5, protowire.EndGroupType)))
	f.Add([]byte{0x12, 0x05, 'a'})
	f.Fuzz(func(t *testing.T, data []byte) {
		p := New(bytes.NewReader(data), int64(len(data)), Limits{MaxDepth: 20, MaxFields: 100000})
		var walk func(off, n int64, depth int) error
		walk = func(off, n int64, depth int) error {
			return p.Walk(context.Background(), off, n, depth, func(f Field) error {
				if f.IsBytes() {
					_, _, _ = p.Bytes(f, 64)
					_ = walk(f.Off, f.Len, depth+1)
				}
				return nil
			})
		}
		_ = walk(0, int64(len(data)), 0)
	})
}
