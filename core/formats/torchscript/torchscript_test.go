package torchscript

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/modelgate/modelgate/core/finding"
)

func summarize(fs []finding.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+":"+f.Severity.String()+":"+f.Global)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// linearSrc is the code member torch.jit.save writes for nn.Linear.
const linearSrc = `class Linear(Module):
  __parameters__ = ["weight", "bias", ]
  __buffers__ = []
  weight : Tensor
  bias : Tensor
  training : bool
  def forward(self: __torch__.torch.nn.modules.linear.Linear,
    input: Tensor) -> Tensor:
    weight = self.weight
    bias = self.bias
    return torch.linear(input, weight, bias)
`

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"linear", linearSrc, ""},
		{"raise with builtins string", "def f(x: Tensor) -> Tensor:\n  ops.prim.RaiseException(\"builtins.RuntimeError: os.system(open())\", \"builtins.RuntimeError\")\n  return x\n", ""},
		{"comment", "def f(x: Tensor) -> Tensor:\n  # os.system('x') open(y)\n  return x\n", ""},
		{"triple string", "def f(x: Tensor) -> Tensor:\n  s = '''\nimport os\nos.system(1)\n'''\n  return x\n", ""},
		{"imports", "import __torch__.torch.nn.modules.linear\nfrom typing import List\n", ""},
		{"standard ops", "def f(x: Tensor) -> Tensor:\n  return torch.ops.aten.relu(ops.quantized.linear(ops.prim.NumToTensor(1)))\n", ""},
		{"setstate save", "class M(Module):\n  def __setstate__(self: M, state: Tuple[Tensor, bool]) -> NoneType:\n    self.w = (state)[0]\n    torch.save((state)[0], \"x\")\n    return None\n  def forward(self: M, x: Tensor) -> Tensor:\n    return x\n",
			"MG801:critical:torch.save"},
		{"forward from_file", "class M(Module):\n  def forward(self: M, x: Tensor) -> Tensor:\n    _1 = torch.from_file(\"/etc/passwd\", None, 1, dtype=0)\n    return x\n",
			"MG801:high:torch.from_file"},
		{"aten save op", "def f(x: Tensor) -> NoneType:\n  ops.aten.save(x, \"/tmp/y\")\n", "MG801:high:ops.aten.save"},
		{"after setstate", "class M(Module):\n  def __setstate__(self: M, s: int) -> NoneType:\n    return None\n  def forward(self: M, x: Tensor) -> Tensor:\n    torch.save(x, \"y\")\n    return x\n",
			"MG801:high:torch.save"},
		{"custom op", "def f(x: Tensor) -> Tensor:\n  return ops.mg_native.run(x)\n", "MG802:high:ops.mg_native.run"},
		{"custom class", "class M(Module):\n  p : __torch__.torch.classes.evil.Loader\n", "MG802:high:torch.classes.evil"},
		{"vendor op", "def f(x: Tensor, b: Tensor) -> Tensor:\n  return ops.torchvision.nms(x, b, 0.5)\n", "MG803:low:ops.torchvision"},
		{"quantized class", "class M(Module):\n  p : __torch__.torch.classes.quantized.LinearPackedParamsBase\n", ""},
		{"os system", "import os\ndef f(x: Tensor) -> Tensor:\n  os.system('id')\n  return x\n", "MG804:high:os,MG804:high:os.system"},
		{"open call", "def f(x: Tensor) -> Tensor:\n  open('/tmp/x', 'w')\n  return x\n", "MG804:high:open"},
		{"attribute named open", "def f(self: M) -> Tensor:\n  return self.open(1)\n", ""},
		{"eval via prefix string", "def f(x: Tensor) -> Tensor:\n  s = rb'eval(1)'\n  return x\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refs, trunc := lex([]byte(tt.src))
			if trunc {
				t.Fatal("truncated")
			}
			if got := summarize(Analyze(refs)); got != tt.want {
				t.Fatalf("got %q, want %q (refs %+v)", got, tt.want, refs)
			}
		})
	}
}

func TestLexLinesAndScopes(t *testing.T) {
	refs, _ := lex([]byte("class A(Module):\n  def forward(self,\n      x):\n    return torch.add(x, 1)\n  def g(self):\n    return ops.aten.save\n"))
	var found bool
	for _, r := range refs {
		if r.name == "torch.add" {
			found = true
			if r.line != 4 || r.fn != "forward" || !r.call {
				t.Fatalf("torch.add ref %+v", r)
			}
		}
		if r.name == "ops.aten.save" && (r.fn != "g" || r.call) {
			t.Fatalf("ops.aten.save ref %+v", r)
		}
	}
	if !found {
		t.Fatalf("no torch.add in %+v", refs)
	}
}

// FuzzLex checks the tokenizer and analysis never panic or loop on
// arbitrary input.
func FuzzLex(f *testing.F) {
	f.Add([]byte(linearSrc))
	seeds, _ := filepath.Glob("testdata/*.txt")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("def f():\n  s = '''unterminated\n"))
	f.Add([]byte("x = r'\\\n' \"\\\" ops.\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		refs, _ := lex(data)
		_ = Analyze(refs)
	})
}
