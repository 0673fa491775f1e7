package jsonkeys

import (
	"strings"
	"testing"
)

func TestHas(t *testing.T) {
	cases := []struct {
		doc  string
		want bool
	}{
		{`{"chat_template": "x"}`, true},
		{`  {"a": 1, "chat_template": "x"}`, true},
		{`{"a": "chat_template", "b": 1}`, false},
		{`{"a": {"chat_template": 1}, "b": [{"chat_template": 2}]}`, false},
		{`{"a": "\\\"", "chat_template": 1}`, true},
		{`{"a": "\"chat_template\": 1"}`, false},
		{`{"chat\u005ftemplate": 1}`, true},
		{`["chat_template"]`, false},
		{`{"a": 1} {"chat_template": 1}`, false},
		{`{"` + strings.Repeat("k", 2*MaxKeyBytes) + `": 1, "chat_template": 1}`, true},
		{`{"chat_template"`, true},
		{``, false},
		{"\n\t {\"chat_template\": 1}", true},
		{`x{"chat_template": 1}`, false},
	}
	for _, tc := range cases {
		if got := Has(strings.NewReader(tc.doc), "chat_template"); got != tc.want {
			t.Errorf("%.60s: %v, want %v", tc.doc, got, tc.want)
		}
	}
}
