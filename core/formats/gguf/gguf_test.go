package gguf

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/engine/enginetest"
	"github.com/modelgate/modelgate/core/finding"
)

// builder writes GGUF v2/v3 (uint64 counts) or v1 (uint32 counts).
type builder struct {
	ver uint32
	b   bytes.Buffer
}

func (w *builder) u32(v uint32) { _ = binary.Write(&w.b, binary.LittleEndian, v) }
func (w *builder) u64(v uint64) { _ = binary.Write(&w.b, binary.LittleEndian, v) }
func (w *builder) cnt(v uint64) {
	if w.ver == 1 {
		w.u32(uint32(v))
	} else {
		w.u64(v)
	}
}
func (w *builder) str(s string) { w.cnt(uint64(len(s))); w.b.WriteString(s) }

func header(ver uint32, tensors, kvs uint64) *builder {
	w := &builder{ver: ver}
	w.b.WriteString("GGUF")
	w.u32(ver)
	w.cnt(tensors)
	w.cnt(kvs)
	return w
}

func (w *builder) kvString(k, v string) { w.str(k); w.u32(typeString); w.str(v) }

// tensorF32 writes a tensor info for an F32 vector of n elements.
func (w *builder) tensorF32(name string, n, offset uint64) {
	w.str(name)
	w.u32(1)
	w.cnt(n)
	w.u32(0)
	w.u64(offset)
}

func (w *builder) pad(align int) {
	for w.b.Len()%align != 0 {
		w.b.WriteByte(0)
	}
}

func TestParse(t *testing.T) {
	tpl := "{{ messages[0]['content'] }}"
	cases := []struct {
		name      string
		build     func() []byte
		err       string // substring of the parse error
		problem   string // substring of a problem
		templates int
	}{
		{"v3 template and tensor", func() []byte {
			w := header(3, 1, 1)
			w.kvString("tokenizer.chat_template", tpl)
			w.tensorF32("a", 4, 0)
			w.pad(32)
			w.b.Write(make([]byte, 16))
			w.pad(32)
			return w.b.Bytes()
		}, "", "", 1},
		{"v1 counts are uint32", func() []byte {
			w := header(1, 0, 1)
			w.kvString("tokenizer.chat_template", tpl)
			return w.b.Bytes()
		}, "", "", 1},
		{"nested array with template", func() []byte {
			w := header(2, 0, 1)
			w.str("x")
			w.u32(typeArray)
			w.u32(typeArray)
			w.cnt(1)
			w.u32(typeString)
			w.cnt(1)
			w.str(tpl)
			return w.b.Bytes()
		}, "", "", 1},
		{"unknown type", func() []byte {
			w := header(3, 0, 1)
			w.str("x")
			w.u32(99)
			return w.b.Bytes()
		}, "unknown value type", "", 0},
		{"count beyond limit and file", func() []byte { return header(3, 0, 1<<40).b.Bytes() }, "impossible for the file size", "", 0},
		{"count beyond limit only", func() []byte {
			w := header(3, 0, 1<<21)
			w.b.Write(make([]byte, 30<<20))
			return w.b.Bytes()
		}, "exceeds the limit", "", 0},
		{"array impossibly longer than file", func() []byte {
			w := header(3, 0, 1)
			w.str("x")
			w.u32(typeArray)
			w.u32(typeUint32)
			w.cnt(1 << 60)
			return w.b.Bytes()
		}, "impossible for the file size", "", 0},
		{"array longer than file (truncated)", func() []byte {
			w := header(3, 0, 1)
			w.str("x")
			w.u32(typeArray)
			w.u32(typeUint32)
			w.cnt(1 << 20)
			return w.b.Bytes()
		}, "truncated", "", 0},
		{"string longer than file", func() []byte {
			w := header(3, 0, 1)
			w.str("x")
			w.u32(typeString)
			w.cnt(1 << 20)
			return w.b.Bytes()
		}, "truncated", "", 0},
		{"deep arrays", func() []byte {
			w := header(3, 0, 1)
			w.str("x")
			w.u32(typeArray)
			for i := 0; i < 20; i++ {
				w.u32(typeArray)
				w.cnt(1)
			}
			return w.b.Bytes()
		}, "nested deeper", "", 0},
		{"duplicate key", func() []byte {
			w := header(3, 0, 2)
			w.kvString("k", "a")
			w.kvString("k", "b")
			return w.b.Bytes()
		}, "", "duplicate metadata key", 0},
		{"bad alignment", func() []byte {
			w := header(3, 0, 1)
			w.str("general.alignment")
			w.u32(typeUint32)
			w.u32(24)
			return w.b.Bytes()
		}, "", "not a power of two", 0},
		{"overlapping tensors", func() []byte {
			w := header(3, 2, 0)
			w.tensorF32("a", 16, 0)
			w.tensorF32("b", 8, 32)
			w.pad(32)
			w.b.Write(make([]byte, 96))
			return w.b.Bytes()
		}, "", "overlaps", 0},
		{"misaligned tensor", func() []byte {
			w := header(3, 1, 0)
			w.tensorF32("a", 4, 4)
			w.pad(32)
			w.b.Write(make([]byte, 64))
			return w.b.Bytes()
		}, "", "not a multiple of the alignment", 0},
		{"tensor outside file", func() []byte {
			w := header(3, 1, 0)
			w.tensorF32("a", 1024, 0)
			w.pad(32)
			return w.b.Bytes()
		}, "", "outside", 0},
		{"too many dims", func() []byte {
			w := header(3, 1, 0)
			w.str("a")
			w.u32(9)
			w.b.Write(make([]byte, 64))
			return w.b.Bytes()
		}, "dimensions", "", 0},
		{"truncated header", func() []byte { return []byte("GGUF\x03\x00\x00\x00\x01") }, "truncated", "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.build()
			f, err := Parse(context.Background(), bytes.NewReader(data), int64(len(data)), DefaultLimits())
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			var probs []string
			for _, p := range f.Problems {
				probs = append(probs, p.Msg)
			}
			all := strings.Join(probs, "; ")
			if tc.problem == "" && tc.err == "" && len(probs) > 0 {
				t.Fatalf("unexpected problems: %s", all)
			}
			if tc.problem != "" && !strings.Contains(all, tc.problem) {
				t.Fatalf("want problem %q, got %q", tc.problem, all)
			}
			if len(f.Templates) != tc.templates {
				t.Fatalf("%d templates, want %d", len(f.Templates), tc.templates)
			}
		})
	}
}

// TestGeneratedFiles: files from test/gen_gguf_fixtures.py parse without
// problems, and the template found is the chat template.
func TestGeneratedFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.gguf")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(context.Background(), bytes.NewReader(data), int64(len(data)), DefaultLimits())
		if err != nil || len(f.Problems) > 0 {
			t.Errorf("%s: err %v problems %+v", p, err, f.Problems)
			continue
		}
		trailing := f.DataEnd < int64(len(data))
		if trailing != strings.Contains(p, "trailing") {
			t.Errorf("%s: DataEnd %d of %d bytes", p, f.DataEnd, len(data))
		}
		found := false
		for _, s := range f.Templates {
			found = found || s.Key == "tokenizer.chat_template"
		}
		if found == strings.Contains(p, "vocab_only") {
			t.Errorf("%s: chat template found=%v", p, found)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.gguf")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, _ := Parse(context.Background(), bytes.NewReader(data), int64(len(data)), DefaultLimits())
		for _, s := range g.Templates {
			if s.Offset < 0 || s.Offset+int64(len(s.Text)) > int64(len(data)) {
				t.Fatalf("template at %d+%d outside %d bytes", s.Offset, len(s.Text), len(data))
			}
		}
	})
}

// TestImpossibleCountsAreHigh: header counts that no file of the size
// could hold by orders of magnitude attack the loader (high); a merely
// truncated file stays at the rule's medium default.
func TestImpossibleCountsAreHigh(t *testing.T) {
	eng := enginetest.New(t, []engine.Format{Format{}})
	impossibleKV := header(3, 0, 1<<63).b.Bytes()
	impossibleArray := func() []byte {
		w := header(3, 0, 1)
		w.str("x")
		w.u32(typeArray)
		w.u32(typeUint8)
		w.cnt(1 << 61)
		return w.b.Bytes()
	}()
	truncatedArray := func() []byte {
		w := header(3, 0, 1)
		w.str("tokenizer.ggml.scores")
		w.u32(typeArray)
		w.u32(typeFloat32)
		w.cnt(150000)
		w.b.Write(make([]byte, 4096))
		return w.b.Bytes()
	}()
	for _, tc := range []struct {
		name string
		data []byte
		want finding.Severity
	}{
		{"2^63 metadata pairs", impossibleKV, finding.SeverityHigh},
		{"2^61-element array", impossibleArray, finding.SeverityHigh},
		{"vocabulary cut off", truncatedArray, finding.SeverityMedium},
	} {
		res := enginetest.ScanBytes(eng, "m.gguf", tc.data)
		var got *finding.Finding
		for i := range res.Findings {
			if res.Findings[i].RuleID == RuleMalformed {
				got = &res.Findings[i]
			}
		}
		if got == nil {
			t.Errorf("%s: no %s finding: %+v", tc.name, RuleMalformed, res)
			continue
		}
		sev := got.Severity
		if sev == finding.SeverityNone {
			sev = finding.SeverityMedium // the rule's default
		}
		if sev != tc.want {
			t.Errorf("%s: severity %q, want %q (%s)", tc.name, got.Severity, tc.want, got.Message)
		}
	}
}

// TestTemplatePaddingDoesNotHideTheChatTemplate: a file keeps at most
// maxTemplates template-like strings. Padding with harmless ones once
// pushed the chat template a loader renders out unchecked; it is now
// reported as not scanned.
func TestTemplatePaddingDoesNotHideTheChatTemplate(t *testing.T) {
	eng := enginetest.New(t, []engine.Format{Format{}})
	w := header(3, 0, maxTemplates+1)
	for i := range maxTemplates {
		w.kvString("general.note."+strconv.Itoa(i), "{{ harmless }}")
	}
	w.kvString("tokenizer.chat_template", "{{ ''.__class__.__mro__[1].__subclasses__() }}")
	res := enginetest.ScanBytes(eng, "m.gguf", w.b.Bytes())
	ok := false
	for _, u := range res.Unscanned {
		if u.RuleID == "MG902" && strings.Contains(u.Reason, "1 chat templates") {
			ok = true
		}
	}
	if !ok {
		t.Fatalf("padded chat template: unscanned %+v, findings %d; want MG902 for the template not checked", res.Unscanned, len(res.Findings))
	}
}
