// Package sdk is what a third-party detector plugin for modelgate is written
// against. A plugin is its own executable: it implements Detector and calls
// Serve from main.
//
//	func main() { sdk.Serve(myDetector{}) }
//
// modelgate starts the plugin once per scan (hashicorp/go-plugin over gRPC,
// with mutual TLS and an empty environment), asks it to Describe itself
// once, matches the declared Claims against every file and container member
// locally, and calls Scan only for content a claim matches. The content is
// served on demand: Input.R reads from the host, so a plugin reads only the
// bytes it needs and multi-gigabyte files never cross the socket whole.
//
// The protocol is versioned (ProtocolVersion); a host and a plugin built
// against different major protocol versions refuse each other at start.
package sdk

import (
	"context"
	"io"
)

// ProtocolVersion is the plugin protocol this SDK speaks. It changes only
// when a host or plugin of the previous version would misread messages.
const ProtocolVersion = 1

// HeadSize is the most bytes a Magic entry may reach: claims are matched on
// the first HeadSize bytes of the content.
const HeadSize = 4096

// Severity of a rule or a finding.
type Severity int

// Severities. SeverityDefault on a finding means its rule's severity.
const (
	SeverityDefault Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

// Rule documents one kind of finding, as `modelgate rules` and SARIF show
// it. IDs must not start with "MG" (modelgate's own range) and must be
// unique across the plugins of one scan; keep them stable.
type Rule struct {
	ID       string
	Name     string // CamelCase, the SARIF rule name
	Severity Severity
	Title    string // one line
	What     string
	Why      string
	Fix      string
	Tags     []string
}

// Magic is a byte string at a fixed offset; Offset+len(Bytes) must not
// exceed HeadSize.
type Magic struct {
	Offset int
	Bytes  []byte
}

// Claim declares content the plugin scans. It matches when every Magic
// entry matches and, when NamePatterns is not empty, the base name matches
// one of them (path.Match syntax, case-insensitive). A claim without Magic
// claims by name alone, which modelgate's own formats never do: use it only
// for formats that really have no signature.
type Claim struct {
	Magic        []Magic
	NamePatterns []string
}

// Description is what a plugin says about itself when it starts.
type Description struct {
	Name           string // stable, e.g. "tflite"
	Version        string // changes whenever findings for the same bytes change
	InformationURI string
	Rules          []Rule
	Claims         []Claim
}

// Input is one file or container member to scan.
type Input struct {
	// Path is the top-level file as the report shows it; Member locates the
	// content inside containers ("" for the file itself); Name is the
	// innermost name. Names are hints: decide by content.
	Path, Member, Name string
	// Size is the content's length in bytes.
	Size int64
	// Depth is the container nesting depth (0 for a top-level file).
	Depth int
	// Head holds the first bytes of the content (up to 64 KiB).
	Head []byte
	// R reads the content from the host. Reads past Size return io.EOF.
	R io.ReaderAt
}

// Finding is one instance of a rule firing.
type Finding struct {
	RuleID string
	// Severity overrides the rule's default when set.
	Severity Severity
	// Member is relative to the input ("" for the input itself).
	Member string
	// Offset is a byte offset in the input (0 <= Offset < Size), or -1.
	Offset int64
	// Global names the callable or operator involved; policy suppressions
	// can match it.
	Global   string
	Message  string
	Evidence string
}

// NotScannedKind says why content could not be scanned.
type NotScannedKind int

// Kinds; each maps to one of modelgate's MG9xx rules.
const (
	NotScannedError         NotScannedKind = iota // MG905: could not be read or decoded
	NotScannedUnknownFormat                       // MG901
	NotScannedLimit                               // MG902: too large, too long
	NotScannedEncrypted                           // MG903
	NotScannedDepth                               // MG906
)

// NotScanned reports content the plugin could not scan completely.
type NotScanned struct {
	Kind   NotScannedKind
	Member string // relative to the input
	Reason string
}

// Result is what Scan found.
type Result struct {
	Findings   []Finding
	NotScanned []NotScanned
}

// Detector is a plugin's detection logic. Scan is called for every input a
// claim matches, possibly concurrently; it must not execute or deserialize
// the content, and should honour ctx. An error means the input could not be
// scanned completely: the host reports it as not scanned, together with any
// findings in the Result returned alongside it.
type Detector interface {
	Describe() Description
	Scan(ctx context.Context, in *Input) (*Result, error)
}
