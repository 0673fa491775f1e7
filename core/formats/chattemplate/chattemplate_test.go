package chattemplate

import (
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
