// Package rules is the catalogue of every rule modelgate can report: a stable
// id, a default severity and the documentation shown by `modelgate rules`,
// in SARIF rule metadata and in fix hints.
package rules

import (
	"fmt"
	"sort"

	"github.com/modelgate/modelgate/core/finding"
)

// Rule is the advisory half of a finding: everything that does not depend on
// the file being scanned.
type Rule struct {
	ID       string
	Name     string // CamelCase, used as SARIF rule name
	Severity finding.Severity
	Title    string // one line
	What     string
	Why      string
	Fix      string
	Tags     []string
	// Unscanned marks rules that describe content that could not be scanned
	// rather than something found in it.
	Unscanned bool
	// Plugin names the out-of-process detector that registered the rule
	// ("" for built-in rules).
	Plugin string
}

// Rule ids. They are stable: never renumber, only add.
const (
	// Pickle behaviour.
	DangerousCall        = "MG101"
	DangerousImport      = "MG102"
	UnknownGlobal        = "MG103"
	ExtensionRegistry    = "MG104"
	NestedPickle         = "MG105"
	DynamicGlobal        = "MG106"
	MalformedPickle      = "MG107"
	StackedPickle        = "MG108"
	NonContainerMutation = "MG109"
	ObjectStatePatch     = "MG110"
	PickleLimit          = "MG111"
	WeightTampering      = "MG112"
	PickledFunction      = "MG113"

	// Containers and archives.
	ZipTamper       = "MG201"
	ArchiveSlip     = "MG202"
	DecompressBomb  = "MG203"
	PrependedData   = "MG204"
	DuplicateMember = "MG205"
	ZipNameMismatch = "MG206"
	NumpyDataSize   = "MG207"
	TorchTarLayout  = "MG208"
	// ImpossibleSize is a header size no file of its size could hold, in
	// formats with no malformed-header rule of their own (HDF5, ONNX, zip).
	ImpossibleSize = "MG209"

	// Could not be scanned.
	NotScannedUnknown   = "MG901"
	NotScannedLimit     = "MG902"
	NotScannedEncrypted = "MG903"
	NotScannedLFS       = "MG904"
	NotScannedError     = "MG905"
	NotScannedDepth     = "MG906"
)

// Catalogue holds every rule by id. It is immutable after construction.
type Catalogue struct {
	byID map[string]Rule
}

// Get returns the rule with the given id.
func (c *Catalogue) Get(id string) (Rule, bool) {
	r, ok := c.byID[id]
	return r, ok
}

// All returns every rule sorted by id.
func (c *Catalogue) All() []Rule {
	out := make([]Rule, 0, len(c.byID))
	for _, r := range c.byID {
		out = append(out, r)
	}
	// Ids have three or four digits; shorter ids sort first so MG1001
	// follows MG906 rather than MG100.
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].ID) != len(out[j].ID) {
			return len(out[i].ID) < len(out[j].ID)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// With returns a new catalogue holding c's rules and extra ones registered at
// run time (a detector plugin's, say). An id that is already taken, or an
// extra rule without an id or a severity, is an error: rule ids are stable
// and must never mean two things.
func (c *Catalogue) With(extra ...Rule) (*Catalogue, error) {
	out := &Catalogue{byID: make(map[string]Rule, len(c.byID)+len(extra))}
	for id, r := range c.byID {
		out.byID[id] = r
	}
	for _, r := range extra {
		if r.ID == "" {
			return nil, fmt.Errorf("rules: a rule without an id (%q)", r.Title)
		}
		if _, dup := out.byID[r.ID]; dup {
			return nil, fmt.Errorf("rules: rule id %s is already registered", r.ID)
		}
		if r.Severity == finding.SeverityNone && !r.Unscanned {
			return nil, fmt.Errorf("rules: rule %s has no severity", r.ID)
		}
		out.byID[r.ID] = r
	}
	return out, nil
}

// Default returns the built-in catalogue.
func Default() *Catalogue {
	// Each format family keeps its rules in its own file (and id range) so
	// detectors can be added without touching one another's entries.
	sets := [][]Rule{builtin, kerasRules, tensorflowRules, onnxRules, ggufRules, safetensorsRules, torchscriptRules, signingRules, modelDirRules}
	c := &Catalogue{byID: map[string]Rule{}}
	for _, set := range sets {
		for _, r := range set {
			if _, dup := c.byID[r.ID]; dup {
				panic("rules: duplicate rule id " + r.ID)
			}
			c.byID[r.ID] = r
		}
	}
	return c
}
