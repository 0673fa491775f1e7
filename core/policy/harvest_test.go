package policy

import (
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// reviewedHarvest are harvested entries that the denylist also matches and
// that were reviewed; each needs a reason. Builtin value constructors
// (safeBuiltins) are reviewed as a list of their own.
var reviewedHarvest = map[string]string{
	"joblib.numpy_pickle.NumpyArrayWrapper":     "joblib's array record: reads the array that follows in the same file",
	"numpy.random._pickle.__bit_generator_ctor": "dunder name; judged through callThroughArgs (its argument is instantiated)",
	"numpy.random._pickle.__generator_ctor":     "dunder name; judged through callThroughArgs",
	"numpy.random._pickle.__randomstate_ctor":   "dunder name; judged through callThroughArgs",
	"uuid.UUID": "a value type in a denylisted module (uuid shells out only in private helpers)",
}

// TestHarvestNotDangerous fails when the harvest (test/harvest_globals.py,
// test/harvest_packages.py) allowlists or marks reference-safe a global that
// the denylist covers: the harvest must never shadow the denylist.
func TestHarvestNotDangerous(t *testing.T) {
	n := 0
	for line := range harvestLines {
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "?") || strings.HasPrefix(line, "=") {
			continue
		}
		f := strings.Split(strings.TrimPrefix(line, "&"), "\t")
		if len(f) < 2 {
			t.Errorf("malformed harvest line %q", line)
			continue
		}
		q := Canonical(f[0], f[1])
		n++
		if b, ok := strings.CutPrefix(q, "builtins."); ok && safeBuiltins[b] {
			continue
		}
		if DenylistClass(q) == Dangerous && reviewedHarvest[q] == "" {
			t.Errorf("harvested entry %s is on the denylist; fix the harvester's exclusions", q)
		}
	}
	if n < 2000 {
		t.Errorf("harvest has %d entries; the tables look truncated", n)
	}
}

// TestAliasesKeepDenylist checks that a re-exported spelling of a
// denylisted function is judged as the function.
func TestAliasesKeepDenylist(t *testing.T) {
	p := Default()
	for _, q := range []string{"torch.utils.model_zoo.load_url", "numpy.core.fromfile"} {
		if _, ok := aliasOf(q); !ok {
			t.Fatalf("alias table lacks %s", q)
		}
		if c := p.Classify(q); c != Dangerous {
			t.Errorf("Classify(%s) = %s, want dangerous", q, c)
		}
	}
}

func TestDecisionTable(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		use  Use
		want string
	}{
		{Config{}, Invoked, "high"}, {Config{}, Reconstructed, "medium"}, {Config{}, Referenced, "medium"},
		{Config{Mode: ModeStrict}, Referenced, "high"}, {Config{Strict: true}, Reconstructed, "high"},
		{Config{Mode: ModeLenient}, Invoked, "low"}, {Config{Mode: ModeLenient}, Referenced, "low"},
	} {
		p, err := New(tc.cfg, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.UnknownSeverity(tc.use).String(); got != tc.want {
			t.Errorf("mode %q, %s: got %s, want %s", p.Mode(), tc.use, got, tc.want)
		}
	}
	if _, err := New(Config{Mode: "paranoid"}, testNow); err == nil {
		t.Error("unknown mode accepted")
	}
	if _, err := New(Config{AllowCode: []string{"abc"}}, testNow); err == nil {
		t.Error("malformed allow_code_sha256 accepted")
	}
}

// TestDecisionTableMatchesPolicy keeps the documented table (modelgate
// rules, README) in step with what UnknownSeverity decides.
func TestDecisionTableMatchesPolicy(t *testing.T) {
	rows := DecisionTable()
	uses := map[string]Use{"invoked at load": Invoked, "instantiated through a standard reconstructor": Reconstructed, "only referenced": Referenced}
	seen := 0
	for _, r := range rows {
		if r.Rule != "MG103" {
			continue
		}
		var u Use = -1
		for k, v := range uses {
			if strings.Contains(r.What, k) {
				u = v
			}
		}
		if u < 0 {
			t.Fatalf("MG103 row %q names no use", r.What)
		}
		seen++
		for mode, want := range map[string]string{ModeDefault: r.Default, ModeStrict: r.Strict, ModeLenient: r.Lenient} {
			p, err := New(Config{Mode: mode}, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.UnknownSeverity(u).String(); got != want {
				t.Errorf("%s in %s mode: table says %s, policy decides %s", u, mode, want, got)
			}
		}
	}
	if seen != 3 {
		t.Errorf("%d MG103 rows, want 3", seen)
	}
}
