package hdf5

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

func open(t testing.TB, name string) (*File, []byte) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(bytes.NewReader(b), int64(len(b)), DefaultLimits())
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	return f, b
}

func byName(attrs []Attribute) map[string]Attribute {
	m := map[string]Attribute{}
	for _, a := range attrs {
		m[a.Name] = a
	}
	return m
}

const wantConfig = `{"class_name": "Sequential", "config": {"name": "seq", "layers": []}}`

// TestRootAttributes reads files h5py wrote (test/gen_keras_fixtures.py) in
// each superblock and object header layout Keras files can have.
func TestRootAttributes(t *testing.T) {
	tests := []struct {
		file       string
		superblock int
		sigOffset  int64
	}{
		{"v0_earliest.h5", 0, 0},
		{"v3_latest.h5", 3, 0},
		{"v0_userblock512.h5", 0, 512},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, _ := open(t, tc.file)
			if f.SuperblockVersion != tc.superblock || f.SignatureOffset != tc.sigOffset {
				t.Errorf("superblock v%d at %d, want v%d at %d", f.SuperblockVersion, f.SignatureOffset, tc.superblock, tc.sigOffset)
			}
			attrs, err := f.RootAttributes()
			if err != nil {
				t.Fatal(err)
			}
			m := byName(attrs)
			checks := []struct {
				name string
				want []string
			}{
				{"keras_version", []string{"2.11.0"}},
				{"model_config", []string{wantConfig}},
				{"layer_names", []string{"dense", "dense_1"}},
				{"names_vlen", []string{"a", "bc", ""}},
			}
			for _, c := range checks {
				a, ok := m[c.name]
				if !ok {
					t.Errorf("attribute %s missing; have %v", c.name, attrs)
					continue
				}
				if !a.IsString || !slices.Equal(a.Strings, c.want) {
					t.Errorf("%s = %q (string %v), want %q", c.name, a.Strings, a.IsString, c.want)
				}
			}
			if e, ok := m["epoch"]; !ok || e.IsString {
				t.Errorf("epoch: %+v", e)
			}
		})
	}
}

func TestContinuationBlocks(t *testing.T) {
	for _, name := range []string{"v0_continuation.h5", "v3_continuation.h5"} {
		t.Run(name, func(t *testing.T) {
			f, _ := open(t, name)
			attrs, err := f.RootAttributes()
			if err != nil {
				t.Fatal(err)
			}
			if got := byName(attrs)["model_config"].String(); got != wantConfig {
				t.Errorf("model_config %q after %d attributes", got, len(attrs))
			}
		})
	}
}

// TestDenseStorage reads attributes that h5py (libver="latest") moved to a
// fractal heap indexed by a v2 B-tree.
func TestDenseStorage(t *testing.T) {
	tests := []struct {
		file  string
		count int
		check func(m map[string]Attribute) error
	}{
		{"v3_dense_attrs.h5", 12, func(m map[string]Attribute) error {
			for i := 0; i < 12; i++ {
				name := fmt.Sprintf("a%02d", i)
				if got := m[name].String(); got != strings.Repeat("x", i) {
					return fmt.Errorf("%s = %q", name, got)
				}
			}
			return nil
		}},
		{"v3_dense_many.h5", 401, func(m map[string]Attribute) error {
			if got := m["attr399"].String(); got != "value 399" {
				return fmt.Errorf("attr399 = %q", got)
			}
			if got := m["model_config"].String(); got != wantConfig {
				return fmt.Errorf("model_config = %q", got)
			}
			return nil
		}},
		{"v3_dense_big.h5", 10, func(m map[string]Attribute) error {
			if got := strings.TrimRight(m["model_config"].String(), " "); got != wantConfig {
				return fmt.Errorf("model_config = %q", got)
			}
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, _ := open(t, tc.file)
			attrs, err := f.RootAttributes()
			if errors.Is(err, ErrUnsupported) {
				t.Skipf("layout not supported: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(attrs) != tc.count {
				t.Errorf("%d attributes, want %d", len(attrs), tc.count)
			}
			if err := tc.check(byName(attrs)); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	b, err := os.ReadFile("testdata/v0_continuation.h5")
	if err != nil {
		t.Fatal(err)
	}
	lim := DefaultLimits()
	lim.MaxAttributes = 5
	f, err := Open(bytes.NewReader(b), int64(len(b)), lim)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.RootAttributes(); err == nil {
		t.Error("more attributes than MaxAttributes read without error")
	}
}

func TestRejects(t *testing.T) {
	tests := map[string][]byte{
		"no signature":      []byte("not an hdf5 file at all"),
		"signature only":    Signature,
		"bad superblock":    append(append([]byte{}, Signature...), 9, 0, 0, 0),
		"bad offset size":   append(append([]byte{}, Signature...), 0, 0, 0, 0, 0, 3, 8, 0, 4, 0, 16, 0, 0, 0, 0, 0),
		"root outside file": append(append(append([]byte{}, Signature...), 2, 8, 8, 0), bytes.Repeat([]byte{0xee}, 40)...),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			f, err := Open(bytes.NewReader(b), int64(len(b)), DefaultLimits())
			if err == nil {
				_, err = f.RootAttributes()
			}
			if err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func FuzzRootAttributes(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if b, err := os.ReadFile("testdata/" + e.Name()); err == nil && !e.IsDir() {
			f.Add(b)
		}
	}
	lim := DefaultLimits()
	lim.MaxHeaderBytes = 1 << 20
	lim.MaxValueBytes = 1 << 20
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Open(bytes.NewReader(b), int64(len(b)), lim)
		if err != nil {
			return
		}
		attrs, _ := file.RootAttributes()
		if len(attrs) > lim.MaxAttributes {
			t.Fatalf("%d attributes over the limit", len(attrs))
		}
	})
}
