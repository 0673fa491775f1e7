// Package sarif renders a report as a SARIF 2.1.0 log that GitHub code
// scanning accepts (see docs.github.com "SARIF support for code scanning").
//
// Mapping:
//
//   - One run. tool.driver is modelgate with version, semanticVersion (when
//     the version is semver) and informationUri; tool.extensions names every
//     detector (format or plugin) the scan ran, with its version.
//   - tool.driver.rules holds every finding rule of the catalogue (all
//     rules except the MG9xx "not scanned" ones), sorted by id, so that
//     ruleIndex values are the same in every log of one modelgate version.
//     Rules a finding uses that the catalogue lacks are appended.
//   - Each finding is one result with exactly one location: the scanned
//     file (uri relative to %SRCROOT%, percent-encoded), region startLine 1
//     because model files are binary. The container member and byte offset
//     are in the message and in result properties.
//   - Suppressed findings are results with a suppression of kind
//     "external", status "accepted", and the policy's reason as
//     justification. GitHub shows them as dismissed.
//   - Content that could not be scanned is not a result but a
//     toolExecutionNotification of invocations[0], with the MG9xx rule as
//     its descriptor (the MG9xx rules are tool.driver.notifications).
//   - Each detector plugin (report.Detectors entries with Plugin set) is a
//     tool.extensions entry with its name, version and the descriptors of
//     its rules (the catalogue rules whose Plugin names it). Its rules stay
//     in tool.driver.rules too, where GitHub looks them up, so ruleIndex
//     keeps pointing into the driver; results of plugin rules carry the
//     plugin's name in properties.detector.
//   - partialFingerprints.primaryLocationLineHash is a hash of rule id,
//     path, member and the finding's key (global, else call, else evidence,
//     else offset) plus ":1"; the same hash is also under "modelgate/v1".
//     Offsets change whenever a file is re-saved, so they are used only
//     when there is nothing better.
package sarif

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	gosarif "github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/report"
	"github.com/modelgate/modelgate/core/rules"
)

// SchemaURI is the $schema written into every log.
const SchemaURI = "https://json.schemastore.org/sarif-2.1.0.json"

// SrcRoot is the uriBaseId of every artifact location.
const SrcRoot = "%SRCROOT%"

// MaxResults is the most results GitHub accepts in one run. Beyond it the
// least severe findings are dropped and a notification says so.
const MaxResults = 25000

// FingerprintKey is the partialFingerprints key that carries modelgate's
// own fingerprint, which tools such as upload-sarif leave untouched.
const FingerprintKey = "modelgate/v1"

// DefaultInformationURI is used when the report's tool has no URI.
const DefaultInformationURI = "https://github.com/modelgate/modelgate"

// Options control the SARIF log.
type Options struct {
	// Category, when set, becomes runs[0].automationDetails.id as
	// "<category>/". GitHub uses it to tell apart several analyses of one
	// commit by the same tool. upload-sarif's category input overrides it.
	Category string
}

// Writer renders SARIF.
type Writer struct {
	opts Options
}

var _ report.Writer = (*Writer)(nil)

// New returns a SARIF writer.
func New(opts Options) *Writer { return &Writer{opts: opts} }

// Name implements report.Writer.
func (*Writer) Name() string { return "sarif" }

// Write implements report.Writer. The log is indented with two spaces and
// ends with a newline.
func (w *Writer) Write(ctx context.Context, out io.Writer, r *report.Report) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	log := Build(r, w.opts)
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(log)
}

// SecuritySeverity is the properties.security-severity GitHub reads to
// rank alerts; it must be a string holding a number.
func SecuritySeverity(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical:
		return "9.5"
	case finding.SeverityHigh:
		return "8.0"
	case finding.SeverityMedium:
		return "5.5"
	case finding.SeverityLow:
		return "2.0"
	}
	return ""
}

// Level maps a severity to a SARIF level.
func Level(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical, finding.SeverityHigh:
		return "error"
	case finding.SeverityMedium:
		return "warning"
	}
	return "note"
}

func problemSeverity(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical, finding.SeverityHigh:
		return "error"
	case finding.SeverityMedium:
		return "warning"
	}
	return "recommendation"
}

// precision says how often a rule's findings are true positives. Reading a
// pickle's opcodes is exact; what is uncertain is whether an unlisted
// global or a layout oddity is malicious.
func precision(id string) string {
	switch id {
	case rules.DangerousCall, rules.DangerousImport, rules.ExtensionRegistry, rules.DynamicGlobal,
		rules.ArchiveSlip, rules.ZipNameMismatch, rules.DuplicateMember:
		return "very-high"
	case rules.UnknownGlobal, rules.StackedPickle, rules.PrependedData, rules.MalformedPickle:
		return "medium"
	}
	return "high"
}

// Build converts r into a SARIF log. It does not modify r.
func Build(r *report.Report, opts Options) *gosarif.Report {
	cat := r.Catalogue()
	b := &builder{
		r:         r,
		cat:       cat,
		ruleIndex: map[string]int{},
		noteIndex: map[string]int{},
		seen:      map[string]int{},
	}
	b.driver()
	b.run = gosarif.NewRun(gosarif.Tool{Driver: b.drv, Extensions: b.extensions()})
	b.run.OriginalUriBaseIDs = map[string]*gosarif.ArtifactLocation{SrcRoot: rootLocation(r.Root)}
	if opts.Category != "" {
		b.run.AutomationDetails = gosarif.NewRunAutomationDetails().WithID(strings.TrimSuffix(opts.Category, "/") + "/")
	}
	b.results()
	b.invocation()
	return &gosarif.Report{
		Version: string(gosarif.Version210),
		Schema:  SchemaURI,
		Runs:    []*gosarif.Run{b.run},
	}
}

type builder struct {
	r         *report.Report
	cat       *rules.Catalogue
	drv       *gosarif.ToolComponent
	run       *gosarif.Run
	ruleIndex map[string]int // into drv.Rules
	noteIndex map[string]int // into drv.Notifications
	seen      map[string]int // fingerprint occurrences
	dropped   int
}

var semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

func (b *builder) driver() {
	t := b.r.Tool
	name := t.Name
	if name == "" {
		name = "modelgate"
	}
	uri := t.URI
	if uri == "" {
		uri = DefaultInformationURI
	}
	d := gosarif.NewDriver(name).WithInformationURI(uri)
	if t.Version != "" {
		d.WithVersion(t.Version)
		if v := strings.TrimPrefix(t.Version, "v"); semverRE.MatchString(v) {
			d.WithSemanticVersion(v)
		}
	}
	b.drv = d

	for _, rule := range b.cat.All() {
		if rule.Unscanned {
			b.addNotificationDescriptor(rule)
		} else {
			b.addRule(rule)
		}
	}
	// Rules used by findings that are not finding rules of the catalogue.
	for _, f := range b.r.Files {
		for _, fd := range f.Findings {
			if _, ok := b.ruleIndex[fd.RuleID]; ok {
				continue
			}
			rule, ok := b.cat.Get(fd.RuleID)
			if !ok {
				rule = unknownRule(fd.RuleID, fd.Severity)
			}
			b.addRule(rule)
		}
		for _, u := range f.Unscanned {
			if _, ok := b.noteIndex[u.RuleID]; !ok {
				rule, ok := b.cat.Get(u.RuleID)
				if !ok {
					rule = unknownRule(u.RuleID, finding.SeverityMedium)
					rule.Title = "Content could not be scanned"
				}
				b.addNotificationDescriptor(rule)
			}
		}
		if report.UnreportedError(&f) {
			if _, ok := b.noteIndex[rules.NotScannedError]; !ok {
				rule, ok := b.cat.Get(rules.NotScannedError)
				if !ok {
					rule = unknownRule(rules.NotScannedError, finding.SeverityMedium)
				}
				b.addNotificationDescriptor(rule)
			}
		}
	}
}

// extensions names every detector (format or plugin) that took part, with its
// version, so a result can be traced to the parser that produced it; plugins
// also carry their rules.
func (b *builder) extensions() []*gosarif.ToolComponent {
	var out []*gosarif.ToolComponent
	for _, d := range b.r.Detectors {
		ext := gosarif.NewDriver(d.Name)
		if d.Version != "" {
			ext.WithVersion(d.Version)
			if v := strings.TrimPrefix(d.Version, "v"); semverRE.MatchString(v) {
				ext.WithSemanticVersion(v)
			}
		}
		for _, rule := range b.cat.All() {
			if d.Plugin && rule.Plugin == d.Name {
				ext.Rules = append(ext.Rules, descriptor(rule, !rule.Unscanned))
			}
		}
		out = append(out, ext)
	}
	return out
}

func unknownRule(id string, sev finding.Severity) rules.Rule {
	return rules.Rule{
		ID: id, Severity: sev,
		Title: "Finding reported under rule " + id,
		What:  "This rule is not in modelgate's built-in catalogue (it may come from a plugin); see each result's message.",
		Fix:   "See the result's message.",
		Tags:  []string{"security"},
	}
}

func (b *builder) addRule(rule rules.Rule) {
	d := descriptor(rule, true)
	b.ruleIndex[rule.ID] = len(b.drv.Rules)
	b.drv.Rules = append(b.drv.Rules, d)
}

func (b *builder) addNotificationDescriptor(rule rules.Rule) {
	d := descriptor(rule, false)
	b.noteIndex[rule.ID] = len(b.drv.Notifications)
	b.drv.Notifications = append(b.drv.Notifications, d)
}

// descriptor renders a rule. Finding rules get the GitHub properties
// (security-severity, tags with "security", precision, problem.severity).
func descriptor(rule rules.Rule, security bool) *gosarif.ReportingDescriptor {
	title := report.Limit(firstNonEmpty(rule.Title, rule.ID), 1024)
	full := report.Limit(firstNonEmpty(rule.What, rule.Title, rule.ID), 1024)
	text, md := help(rule)
	d := gosarif.NewRule(rule.ID).
		WithShortDescription(gosarif.NewMultiformatMessageString(title)).
		WithFullDescription(gosarif.NewMultiformatMessageString(full)).
		WithHelp(&gosarif.MultiformatMessageString{Text: &text, Markdown: &md}).
		WithDefaultConfiguration(gosarif.NewReportingConfiguration().WithLevel(Level(rule.Severity)))
	if rule.Name != "" {
		d.WithName(report.Limit(rule.Name, 255))
	}
	tags := append([]string(nil), rule.Tags...)
	props := gosarif.Properties{}
	if security {
		if !contains(tags, "security") {
			tags = append([]string{"security"}, tags...)
		}
		if s := SecuritySeverity(rule.Severity); s != "" {
			props["security-severity"] = s
		}
		props["precision"] = precision(rule.ID)
		props["problem.severity"] = problemSeverity(rule.Severity)
	}
	if len(tags) > 20 {
		tags = tags[:20]
	}
	if len(tags) > 0 {
		props["tags"] = tags
	}
	d.WithProperties(props)
	return d
}

func help(rule rules.Rule) (text, md string) {
	var t, m strings.Builder
	fmt.Fprintf(&m, "**%s** (%s, default severity %s)\n", mdEscape(firstNonEmpty(rule.Title, rule.ID)), rule.ID, rule.Severity)
	fmt.Fprintf(&t, "%s (%s, default severity %s)\n", firstNonEmpty(rule.Title, rule.ID), rule.ID, rule.Severity)
	for _, part := range []struct{ label, s string }{{"What", rule.What}, {"Why", rule.Why}, {"Fix", rule.Fix}} {
		if part.s == "" {
			continue
		}
		fmt.Fprintf(&m, "\n**%s:** %s\n", part.label, mdEscape(part.s))
		fmt.Fprintf(&t, "\n%s: %s\n", part.label, part.s)
	}
	return t.String(), m.String()
}

var mdSpecial = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "<", `\<`, ">", `\>`, "[", `\[`, "]", `\]`, "#", `\#`, "|", `\|`)

func mdEscape(s string) string { return mdSpecial.Replace(s) }

func (b *builder) results() {
	type cand struct {
		res *gosarif.Result
		sev finding.Severity
	}
	var all []cand
	for _, f := range b.r.Files {
		for _, fd := range f.Findings {
			all = append(all, cand{b.result(fd), fd.Severity})
		}
	}
	if len(all) > MaxResults {
		// Keep the most severe, in their original order.
		idx := make([]int, len(all))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(i, j int) bool { return all[idx[i]].sev > all[idx[j]].sev })
		keep := make([]bool, len(all))
		for _, i := range idx[:MaxResults] {
			keep[i] = true
		}
		var kept []cand
		for i, c := range all {
			if keep[i] {
				kept = append(kept, c)
			}
		}
		b.dropped = len(all) - len(kept)
		all = kept
	}
	b.run.Results = make([]*gosarif.Result, 0, len(all))
	for _, c := range all {
		b.run.Results = append(b.run.Results, c.res)
	}
}

func (b *builder) result(fd finding.Finding) *gosarif.Result {
	rule, known := b.cat.Get(fd.RuleID)
	res := gosarif.NewRuleResult(fd.RuleID).
		WithRuleIndex(b.ruleIndex[fd.RuleID]).
		WithLevel(Level(fd.Severity)).
		WithMessage(gosarif.NewTextMessage(resultMessage(fd, rule, known)))
	loc := location(fd.Path)
	res.AddLocation(loc)

	fp := b.fingerprint(fd)
	res.WithPartialFingerPrints(map[string]interface{}{
		"primaryLocationLineHash": fp + ":1",
		FingerprintKey:            fp,
	})

	props := gosarif.Properties{"severity": fd.Severity.String()}
	if known && rule.Plugin != "" {
		props["detector"] = rule.Plugin
	}
	if fd.Member != "" {
		props["member"] = fd.Member
	}
	if fd.Offset >= 0 {
		props["offset"] = fd.Offset
	}
	for k, v := range map[string]string{"global": fd.Global, "call": fd.Call, "evidence": fd.Evidence, "sha256": fd.SHA256} {
		if v != "" {
			props[k] = v
		}
	}
	res.Properties = props

	if s := fd.Suppression; s != nil {
		sup := gosarif.NewSuppression("external").
			WithStatus("accepted").
			WithJustifcation(s.Reason).
			WithGuid(guid("suppression\x00" + fp)).
			WithLocation(location(fd.Path))
		if s.Expires != "" {
			sup.Properties = gosarif.Properties{"expires": s.Expires}
		}
		res.AddSuppression(sup)
	}
	return res
}

// fingerprint hashes what identifies a finding across scans of changed
// files. Identical keys in one log are numbered in report order.
func (b *builder) fingerprint(fd finding.Finding) string {
	key := firstNonEmpty(fd.Global, fd.Call, fd.Evidence)
	if key == "" {
		key = "@" + strconv.FormatInt(fd.Offset, 10)
	}
	id := strings.Join([]string{fd.RuleID, fd.Path, fd.Member, key}, "\x00")
	n := b.seen[id]
	b.seen[id] = n + 1
	if n > 0 {
		id += "\x00#" + strconv.Itoa(n)
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}

// guid formats a hash of s as a version-5-style UUID, so that a finding's
// suppression keeps its guid from one scan to the next.
func guid(s string) string {
	sum := sha256.Sum256([]byte(s))
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// maxValue bounds a call or evidence quoted in a message.
const maxValue = 500

// resultMessage writes the message GitHub shows: its first sentence, used
// as the alert title, is the rule title and the global; then where in the
// file, what happened, the call, the evidence and the fix.
func resultMessage(fd finding.Finding, rule rules.Rule, known bool) string {
	title := rule.Title
	if !known || title == "" {
		// A stable title keeps GitHub from opening one alert per message
		// text for rules this build does not know (plugins).
		title = "Finding reported under rule " + fd.RuleID
	}
	first := strings.TrimSuffix(title, ".")
	if fd.Global != "" {
		first += ": " + report.Clip(fd.Global, 200)
	}
	parts := []string{sentence(first)}
	switch {
	case fd.Member != "" && fd.Offset >= 0:
		parts = append(parts, fmt.Sprintf("In member %s of the file, at byte offset %d.", report.Clip(fd.Member, 300), fd.Offset))
	case fd.Member != "":
		parts = append(parts, fmt.Sprintf("In member %s of the file.", report.Clip(fd.Member, 300)))
	case fd.Offset >= 0:
		parts = append(parts, fmt.Sprintf("At byte offset %d.", fd.Offset))
	}
	if fd.Message != "" && fd.Message != title {
		parts = append(parts, sentence(report.Clip(fd.Message, maxValue)))
	}
	if fd.Call != "" {
		parts = append(parts, "Call: "+report.Clip(fd.Call, maxValue)+".")
	}
	if fd.Evidence != "" {
		parts = append(parts, "Evidence: "+report.Clip(fd.Evidence, maxValue)+".")
	}
	if fix := firstNonEmpty(fd.Fix, rule.Fix); fix != "" {
		parts = append(parts, "Fix: "+sentence(fix))
	}
	return strings.Join(parts, " ")
}

func (b *builder) invocation() {
	r := b.r
	inv := gosarif.NewInvocation().
		WithExecutionSuccess(r.ExitCode != 2).
		WithExitCode(r.ExitCode)
	if r.Verdict != "" {
		inv.WithExitCodeDescription(r.Verdict)
	}
	if !r.StartedAt.IsZero() {
		inv.WithStartTimeUTC(r.StartedAt)
	}
	if !r.FinishedAt.IsZero() {
		inv.WithEndTimeUTC(r.FinishedAt)
	}
	for _, f := range r.Files {
		for _, u := range f.Unscanned {
			inv.AddTToolExecutionNotification(b.notification(f.Path, u))
		}
		if report.UnreportedError(&f) {
			inv.AddTToolExecutionNotification(b.notification(f.Path, finding.Unscanned{
				RuleID: rules.NotScannedError, Reason: f.Error, ModelLike: true,
			}))
		}
	}
	if b.dropped > 0 {
		inv.AddTToolExecutionNotification(gosarif.NewNotification().
			WithLevel("warning").
			WithTextMessage(fmt.Sprintf("%d less severe findings were left out because GitHub accepts at most %d results per run; the JSON report has them all.", b.dropped, MaxResults)))
	}
	for _, w := range r.Warnings {
		n := gosarif.NewNotification().
			WithLevel("warning").
			WithTextMessage(sentence(report.Clip(w.Message, maxValue)))
		n.Properties = gosarif.Properties{"kind": w.Kind}
		inv.AddToolConfigurationNotification(n)
	}
	if r.PolicyFile != "" {
		inv.Properties = gosarif.Properties{"policy_file": r.PolicyFile}
	}
	b.run.AddInvocations(inv)
}

func (b *builder) notification(p string, u finding.Unscanned) *gosarif.Notification {
	level := "warning"
	switch {
	case u.Suppression != nil:
		level = "note"
	case u.ModelLike:
		level = "error"
	}
	where := p
	if u.Member != "" {
		where += ", member " + u.Member + ","
	}
	msg := fmt.Sprintf("%s was not scanned: %s", report.Clip(where, 500), sentence(report.Clip(u.Reason, maxValue)))
	if u.Suppression != nil {
		msg += " Accepted by a policy suppression: " + sentence(report.Clip(u.Suppression.Reason, maxValue))
	}
	if rule, ok := b.cat.Get(u.RuleID); ok {
		msg += fmt.Sprintf(" %s (%s).", strings.TrimSuffix(rule.Title, "."), u.RuleID)
		if rule.Fix != "" {
			msg += " Fix: " + sentence(rule.Fix)
		}
	} else {
		msg += " (" + u.RuleID + ")."
	}
	ref := gosarif.NewReportingDescriptorReference().WithId(u.RuleID)
	if i, ok := b.noteIndex[u.RuleID]; ok {
		ref.WithIndex(i)
	}
	n := gosarif.NewNotification().
		WithLevel(level).
		WithTextMessage(msg).
		WithDescriptor(ref).
		WithLocations([]*gosarif.Location{location(p)})
	props := gosarif.Properties{"model_like": u.ModelLike, "fails_gate": u.FailsGate, "reason": u.Reason}
	if u.Member != "" {
		props["member"] = u.Member
	}
	n.Properties = props
	return n
}

// location is the single location of a result: the file, line 1.
func location(p string) *gosarif.Location {
	al := gosarif.NewSimpleArtifactLocation(URI(p))
	if !isAbs(p) {
		al.WithUriBaseId(SrcRoot)
	}
	return gosarif.NewLocationWithPhysicalLocation(
		gosarif.NewPhysicalLocation().
			WithArtifactLocation(al).
			WithRegion(gosarif.NewRegion().WithStartLine(1)))
}

// rootLocation describes %SRCROOT%: with its absolute file URI when the
// root is absolute, otherwise with a description only (SARIF allows the
// base to be unknown).
func rootLocation(root string) *gosarif.ArtifactLocation {
	al := gosarif.NewArtifactLocation().WithDescriptionText("The directory scanned; result paths are relative to it.")
	if root != "" && isAbs(root) {
		u := URI(root)
		if !strings.HasSuffix(u, "/") {
			u += "/"
		}
		al.WithUri(u)
	}
	return al
}

func isAbs(p string) bool {
	p = strings.ReplaceAll(p, `\`, "/")
	return strings.HasPrefix(p, "/") || (len(p) >= 3 && p[1] == ':' && p[2] == '/' && isLetter(p[0]))
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// URI turns a report path into a URI reference. Relative paths ('/'
// separated) become relative references with every byte outside RFC 3986's
// unreserved and sub-delims set percent-encoded (spaces, non-ASCII, '%',
// '?', '#', ':'); "./" prefixes are dropped. Absolute paths ("/x", "C:/x")
// become file:// URIs.
func URI(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	if isAbs(p) {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p // C:/x -> /C:/x
		}
		// Keep the drive colon: in a path after the authority it is legal.
		return "file://" + strings.ReplaceAll(escapePath(p), "%3A", ":")
	}
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	if p != "." {
		p = path.Clean(p)
	}
	return escapePath(p)
}

func escapePath(p string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if isUnreserved(c) || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// isUnreserved reports RFC 3986 unreserved characters and the sub-delims
// and '@' that are safe in a path segment. ':' is left out on purpose: in a
// relative reference's first segment it would read as a scheme.
func isUnreserved(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=@", c) >= 0
}

func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	switch s[len(s)-1] {
	case '.', '!', '?':
		return s
	}
	return s + "."
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
