package chattemplate

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
)

func scan(t *testing.T, content string) finding.FileResult {
	t.Helper()
	eng, err := engine.New(engine.Options{Formats: []engine.Format{TokenizerConfig{}}})
	if err != nil {
		t.Fatal(err)
	}
	return eng.ScanReaderAt(context.Background(), "x.json", strings.NewReader(content), int64(len(content)))
}

func TestTokenizerConfig(t *testing.T) {
	payload := "{{ cycler.__init__.__globals__.os.popen('id').read() }}"
	benign := "{% for m in messages %}{{ m['content'] }}{% endfor %}"
	enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	cases := []struct {
		name    string
		content string
		claimed bool
		rule    string
	}{
		{"string template", enc(map[string]any{"chat_template": payload}), true, "MG601"},
		{"benign template", enc(map[string]any{"bos_token": "<s>", "chat_template": benign}), true, ""},
		{"named list", enc(map[string]any{"chat_template": []any{
			map[string]any{"name": "default", "template": benign},
			map[string]any{"name": "tool_use", "template": payload}}}), true, "MG601"},
		{"escaped key", `{"chat\u005ftemplate": ` + enc(payload) + `}`, true, "MG601"},
		{"nested key is not the config's", enc(map[string]any{"x": map[string]any{"chat_template": payload}}), true, ""},
		{"ordinary json", `{"hidden_size": 8, "model_type": "llama"}`, false, ""},
		{"json array", `[{"chat_template": "x"}]`, false, ""},
		{"not json", `{"chat_template": `, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := (TokenizerConfig{}).Match(&engine.Input{Head: []byte(tc.content), R: strings.NewReader(tc.content), Size: int64(len(tc.content))}); got != tc.claimed {
				t.Fatalf("Match = %v, want %v", got, tc.claimed)
			}
			res := scan(t, tc.content)
			var rules []string
			for _, f := range res.Findings {
				rules = append(rules, f.RuleID)
			}
			if tc.rule == "" && len(rules) > 0 {
				t.Fatalf("unexpected findings %v", rules)
			}
			if tc.rule != "" && !strings.Contains(strings.Join(rules, " "), tc.rule) {
				t.Fatalf("want %s, got %v", tc.rule, rules)
			}
		})
	}
}

// TestEscapesAloneDoNotClaim: JSON with \u escapes (translations, data)
// is not a tokenizer config; a chat_template key spelled with escapes is,
// also after a BOM.
func TestEscapesAloneDoNotClaim(t *testing.T) {
	for data, want := range map[string]bool{
		`{"greeting": "caf\u00e9", "nested": {"chat\u005ftemplate": 1}}`: false,
		`{"bos": "\u003cs\u003e", "chat\u005ftemplate": "{{ x }}"}`:      true,
		"\xef\xbb\xbf" + `{"chat\u005ftemplate": "{{ x }}"}`:             true,
	} {
		b := []byte(data)
		in := &engine.Input{Name: "x.json", R: bytes.NewReader(b), Size: int64(len(b)), Head: b}
		if got := (TokenizerConfig{}).Match(in); got != want {
			t.Errorf("%s: Match = %v, want %v", data, got, want)
		}
	}
}

// TestOversizedTokenizerConfig: transformers reads a tokenizer config of
// any size, so one larger than is decoded must still be claimed and
// reported as not scanned (MG902) rather than pass as plain text; other
// large JSON is left alone.
func TestOversizedTokenizerConfig(t *testing.T) {
	payload := "{{ cycler.__init__.__globals__.os.popen('id').read() }}"
	pad := `, "pad": "` + strings.Repeat("x", maxConfig) + `"}`
	cases := []struct {
		name, content string
		want          bool
	}{
		{"chat_template first", `{"chat_template": "` + payload + `"` + pad, true},
		{"escaped key after the padding", `{"pad": "` + strings.Repeat("x", maxConfig) + `", "chat\u005ftemplate": "` + payload + `"}`, true},
		{"no chat template", `{"vocab": {"a": 1}` + pad, false},
		{"chat_template only nested", `{"a": {"chat_template": "` + payload + `"}` + pad, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := scan(t, tc.content)
			var got []string
			for _, u := range r.Unscanned {
				got = append(got, u.RuleID)
			}
			if claimed := len(r.Findings) > 0 || strings.Contains(strings.Join(got, ","), "MG902"); claimed != tc.want {
				t.Fatalf("claimed %v, want %v: unscanned %v", claimed, tc.want, got)
			}
		})
	}
}
