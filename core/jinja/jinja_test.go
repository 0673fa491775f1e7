package jinja

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/finding"
)

// severity resolves an issue's severity the way the rules catalogue does.
func severity(is Issue) finding.Severity {
	if is.Severity != finding.SeverityNone {
		return is.Severity
	}
	switch is.RuleID {
	case RuleSandboxEscape:
		return finding.SeverityCritical
	case RuleDangerousRef, RuleComputedAttr, RuleObfuscated:
		return finding.SeverityHigh
	case RuleTemplateLoad:
		return finding.SeverityMedium
	}
	return finding.SeverityLow
}

func worst(res Result) (finding.Severity, []string) {
	w := finding.SeverityNone
	var rules []string
	for _, is := range res.Issues {
		if s := severity(is); s > w {
			w = s
		}
		rules = append(rules, is.RuleID+": "+is.Message)
	}
	return w, rules
}

func corpus(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.jinja"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates in testdata/%s: %v", dir, err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(b)
	}
	return out
}

// TestPublishedTemplatesQuiet: chat templates published with real models
// (test/gen_gguf_fixtures.py renders each in jinja2's sandbox) must not
// produce anything at medium or above.
func TestPublishedTemplatesQuiet(t *testing.T) {
	for name, src := range corpus(t, "benign") {
		res := Check(context.Background(), src, DefaultLimits())
		if w, rules := worst(res); w >= finding.SeverityMedium || res.Incomplete != "" {
			t.Errorf("%s: worst %s, incomplete %q: %v", name, w, res.Incomplete, rules)
		}
	}
}

// TestPayloadsFound: every payload the generator proved live with a
// non-sandboxed jinja2.Environment is found at high or above.
func TestPayloadsFound(t *testing.T) {
	for name, src := range corpus(t, "malicious") {
		res := Check(context.Background(), src, DefaultLimits())
		if w, rules := worst(res); w < finding.SeverityHigh {
			t.Errorf("%s: worst %s: %v", name, w, rules)
		}
	}
}

func TestCheckTable(t *testing.T) {
	cases := []struct {
		name string
		src  string
		rule string // expected rule among the issues; "" means no issue >= low
	}{
		{"plain text", "hello {{ name }}", ""},
		{"namespace holder", "{% set ns = namespace(found=false, system='') %}{% set ns.found = true %}{{ ns.system }}", ""},
		{"loop and filters", "{% for m in messages %}{{ m['content']|trim }}{{ loop.index0 }}{% endfor %}", ""},
		{"method calls", "{{ content.split('</think>')[-1].strip() }}{{ x.startswith('a') }}", ""},
		{"dict literal in braces", "{{ {'a': {'b': 1}}|tojson }}", ""},
		{"raw block hides nothing", "{% raw %}{{ cycler.__init__ }}{% endraw %}", ""},
		{"comment hides nothing", "{# cycler.__init__.__globals__ #}hi", ""},
		{"string containing end delimiter", "{{ '}}' ~ '%}' }}", ""},
		{"dunder walk", "{{ cycler.__init__.__globals__.os }}", RuleSandboxEscape},
		{"item walk", "{{ joiner['__init__']['__globals__'] }}", RuleSandboxEscape},
		{"format spec", "{{ '{0.__class__}'.format(x) }}", RuleSandboxEscape},
		{"attr concat", "{{ x|attr('__cl' ~ 'ass__') }}", RuleSandboxEscape},
		{"attr computed", "{{ x|attr(name) }}", RuleComputedAttr},
		{"percent c", "{{ x|attr('%c%cclass%c%c' % (95, 95, 95, 95)) }}", RuleSandboxEscape},
		{"brace format c", "{{ x|attr('{:c}{:c}class{:c}{:c}'.format(95, 95, 95, 95)) }}", RuleSandboxEscape},
		{"octal escape", "{{ x['\\137\\137class\\137\\137'] }}", RuleSandboxEscape},
		{"unicode name escape", "{{ x['\\N{LOW LINE}\\N{LOW LINE}class\\N{LOW LINE}\\N{LOW LINE}'] }}", RuleSandboxEscape},
		{"set variable", "{% set a = '__glo' %}{% set b = a ~ 'bals__' %}{{ f|attr(b) }}", RuleSandboxEscape},
		{"map attr", "{{ xs|map(attribute='__class__')|list }}", RuleSandboxEscape},
		{"map attr filter", "{{ xs|map('attr', '__class__')|list }}", RuleSandboxEscape},
		{"selectattr dotted", "{{ xs|selectattr('__class__.__name__')|list }}", RuleSandboxEscape},
		{"private attr of self", "{{ self._TemplateReference__context }}", RuleDangerousRef},
		{"os name", "{{ os.popen('id') }}", RuleDangerousRef},
		{"popen attribute", "{{ x.popen('id').read() }}", RuleDangerousRef},
		{"dict kw trick", "{{ dict(__class__=1)|first }}", RuleObfuscated},
		{"escaped literal", "{{ '\\x5f\\x5fclass\\x5f\\x5f' }}", RuleObfuscated},
		{"include", "{% include 'x.j2' %}", RuleTemplateLoad},
		{"unterminated", "{{ 'abc }}", RuleTemplateInvalid},
		{"unparsable with payload", "{{ ( }} __globals__", RuleDangerousRef},
		{"computed item on gadget", "{{ lipsum[k] }}", RuleComputedAttr},
		{"sys as a variable name", "{% set sys = messages[0] %}{{ sys.content.strip() }}{{ ns.system }}{{ m.tool_calls[0].function.name }}", ""},
		{"private variable name", "{% set _args = tc.arguments or {} %}{% for k, v in _args.items() %}{{ k }}{% endfor %}", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Check(context.Background(), tc.src, DefaultLimits())
			_, rules := worst(res)
			if tc.rule == "" {
				if len(res.Issues) > 0 {
					t.Fatalf("want no issue, got %v", rules)
				}
				return
			}
			for _, is := range res.Issues {
				if is.RuleID == tc.rule {
					return
				}
			}
			t.Fatalf("want %s, got %v", tc.rule, rules)
		})
	}
}

func TestLexMatchesJinja(t *testing.T) {
	cases := []struct {
		src   string
		want  string // space-separated token values of tags
		valid bool
	}{
		{"{{ a.b }}", "a . b", true},
		{"{{ 1.5 + 2 }}", "1.5 + 2", true},
		{"{{ x.0.1 }}", "x . 0 . 1", true},
		{"{{ 'a\\'b' }}", "a'b", true},
		{"{{ 'a\\\\' }}", "a\\", true},
		{"{{ {'a': 1} }}", "{ a : 1 }", true},
		{"{%- if x -%}y{%- endif %}", "if x endif", true},
		{"{{ a }", "", false},
		{"{{ a ! b }}", "", false},
		{"{{ ) }}", "", false},
	}
	for _, tc := range cases {
		toks, err := lex(tc.src, 1000)
		if (err == nil) != tc.valid {
			t.Errorf("%q: err %v, want valid=%v", tc.src, err, tc.valid)
			continue
		}
		if !tc.valid {
			continue
		}
		var got []string
		for _, tk := range toks {
			switch tk.kind {
			case tName, tString, tInt, tFloat, tOp:
				got = append(got, tk.val)
			}
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%q: tokens %q, want %q", tc.src, strings.Join(got, " "), tc.want)
		}
	}
}

func TestLimits(t *testing.T) {
	deep := strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000)
	res := Check(context.Background(), "{{ "+deep+" }}", DefaultLimits())
	if res.Incomplete == "" {
		t.Fatalf("deep nesting not reported as incomplete: %+v", res)
	}
	big := strings.Repeat("{{ a }}", 10)
	res = Check(context.Background(), big, Limits{MaxBytes: 20, MaxTokens: 100, MaxDepth: 10, MaxNodes: 100})
	if res.Incomplete == "" {
		t.Fatal("truncation not reported")
	}
}
