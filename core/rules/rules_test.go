package rules

import (
	"regexp"
	"testing"
)

// TestCatalogueComplete guards what `modelgate rules`, SARIF rule metadata
// and fix hints rely on: every rule is fully documented and ids are well formed.
func TestCatalogueComplete(t *testing.T) {
	// Three digits per family (MG1xx pickle ... MG9xx not scanned); the
	// model-directory family is MG10xx.
	id := regexp.MustCompile(`^MG[1-9][0-9]{2,3}$`)
	name := regexp.MustCompile(`^[A-Z][A-Za-z0-9]+$`)
	all := Default().All()
	if len(all) == 0 {
		t.Fatal("empty catalogue")
	}
	names := map[string]string{}
	for _, r := range all {
		if !id.MatchString(r.ID) {
			t.Errorf("%s: malformed id", r.ID)
		}
		if !name.MatchString(r.Name) {
			t.Errorf("%s: name %q is not CamelCase", r.ID, r.Name)
		}
		if prev, dup := names[r.Name]; dup {
			t.Errorf("%s: name %q already used by %s", r.ID, r.Name, prev)
		}
		names[r.Name] = r.ID
		for field, v := range map[string]string{"Title": r.Title, "What": r.What, "Why": r.Why, "Fix": r.Fix} {
			if v == "" {
				t.Errorf("%s: empty %s", r.ID, field)
			}
		}
		if r.Severity == 0 {
			t.Errorf("%s: no severity", r.ID)
		}
	}
}
