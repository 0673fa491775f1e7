package action

import (
	"fmt"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/modelgate/modelgate/core/finding"
)

// Upload modes of the upload-sarif input.
const (
	UploadAuto  = "auto"
	UploadTrue  = "true"
	UploadFalse = "false"
)

// Comment modes of the comment input.
const (
	CommentOff       = "off"
	CommentOnFailure = "on-failure"
	CommentAlways    = "always"
)

// Inputs are the action's inputs. They are read the way go-githubactions'
// GetInput reads them (INPUT_ plus the upper-cased name, hyphens kept, e.g.
// INPUT_FAIL-ON), so the binary behaves the same whether a composite
// action maps them by hand (as action.yml does) or a runner sets them.
type Inputs struct {
	// Paths are files, directories or globs (filepath.Match syntax)
	// relative to the workspace; directories are scanned recursively.
	Paths []string
	// FailOn is the gate threshold: critical, high, medium, low or never.
	FailOn string
	// Policy is a policy file relative to the workspace ("" = built-in).
	Policy string
	// ChangedOnly scans only the files the pull request or push adds or
	// modifies.
	ChangedOnly bool
	// SARIFFile is where the SARIF log is written.
	SARIFFile string
	// JSONFile is where the JSON report is written ("" = RUNNER_TEMP).
	JSONFile string
	// CycloneDXFile, when set, is where a CycloneDX 1.6 ML-BOM of the
	// scanned models is written (for actions/upload-artifact).
	CycloneDXFile string
	// UploadSARIF is auto, true or false.
	UploadSARIF string
	// Category tells apart several analyses of one commit in code
	// scanning (runAutomationDetails.id) and several sticky comments.
	Category string
	// Comment is off, on-failure or always.
	Comment string
	// Token authenticates the API calls (upload, comment).
	Token string
}

// ReadInputs reads and validates the inputs; defaults are those of
// action.yml, so that the binary can run without it.
func ReadInputs(a *githubactions.Action) (Inputs, error) {
	in := Inputs{
		FailOn:        strings.ToLower(a.GetInput("fail-on")),
		Policy:        a.GetInput("policy"),
		SARIFFile:     a.GetInput("sarif-file"),
		JSONFile:      a.GetInput("json-file"),
		CycloneDXFile: a.GetInput("cyclonedx-file"),
		UploadSARIF:   strings.ToLower(a.GetInput("upload-sarif")),
		Category:      a.GetInput("category"),
		Comment:       strings.ToLower(a.GetInput("comment")),
		Token:         a.GetInput("token"),
	}
	for _, line := range strings.Split(a.GetInput("path"), "\n") {
		if p := strings.TrimSpace(line); p != "" && !strings.HasPrefix(p, "#") {
			in.Paths = append(in.Paths, p)
		}
	}
	if len(in.Paths) == 0 {
		in.Paths = []string{"."}
	}
	if in.FailOn == "" {
		in.FailOn = "high"
	}
	if _, err := finding.ParseSeverity(in.FailOn); err != nil {
		return in, fmt.Errorf("input fail-on: %w", err)
	}
	var err error
	if in.ChangedOnly, err = parseBool("changed-only", a.GetInput("changed-only")); err != nil {
		return in, err
	}
	if in.SARIFFile == "" {
		in.SARIFFile = "modelgate.sarif"
	}
	if in.UploadSARIF == "" {
		in.UploadSARIF = UploadAuto
	}
	switch in.UploadSARIF {
	case UploadAuto, UploadTrue, UploadFalse:
	default:
		return in, fmt.Errorf("input upload-sarif: %q is not auto, true or false", in.UploadSARIF)
	}
	if in.Category == "" {
		in.Category = "modelgate"
	}
	if in.Comment == "" {
		in.Comment = CommentOff
	}
	switch in.Comment {
	case CommentOff, CommentOnFailure, CommentAlways:
	default:
		return in, fmt.Errorf("input comment: %q is not off, on-failure or always", in.Comment)
	}
	return in, nil
}

func parseBool(name, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "false", "no", "0":
		return false, nil
	case "true", "yes", "1":
		return true, nil
	}
	return false, fmt.Errorf("input %s: %q is not true or false", name, v)
}
