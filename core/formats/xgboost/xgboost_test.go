package xgboost

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
)

func header(obj, gbm string, nameLen uint64) []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	p := make([]byte, paramSize)
	binary.LittleEndian.PutUint32(p[4:], 4)
	binary.LittleEndian.PutUint32(p[20:], 1)
	b.Write(p)
	_ = binary.Write(&b, binary.LittleEndian, nameLen)
	b.WriteString(obj)
	_ = binary.Write(&b, binary.LittleEndian, uint64(len(gbm)))
	b.WriteString(gbm)
	return b.Bytes()
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"valid", header("binary:logistic", "gbtree", 15), ""},
		{"dart", header("reg:squarederror", "dart", 16), ""},
		{"truncated name", header("binary:logistic", "gbtree", 15)[:150], "bad name length"},
		{"truncated length", header("binary:logistic", "gbtree", 15)[:144], "truncated"},
		{"long name", header("binary:logistic", "gbtree", 1<<40), "bad name length"},
		{"not an objective", header("import os;x:y", "gbtree", 13), "not an XGBoost objective"},
		{"unknown booster", header("binary:logistic", "pickle", 15), "unknown booster"},
		{"short", []byte("binf"), "shorter than its header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(bytes.NewReader(tt.data), int64(len(tt.data)))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestRealModels parses files written by xgboost 1.7's Booster.save_raw
// (see test/gen_benign_corpus.py).
func TestRealModels(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bin")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in := &engine.Input{Head: data[:min(len(data), engine.HeadSize)]}
		if !(Binary{}).Match(in) {
			t.Errorf("%s: not matched", f)
		}
		h, err := Parse(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if h.Booster != "gbtree" || !strings.Contains(h.Objective, ":") || h.NumFeature != 4 {
			t.Errorf("%s: header %+v", f, h)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.bin")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add(header("binary:logistic", "gbtree", 15))
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &engine.Input{Head: data[:min(len(data), engine.HeadSize)]}
		_ = (Binary{}).Match(in)
		_, _ = Parse(bytes.NewReader(data), int64(len(data)))
	})
}
