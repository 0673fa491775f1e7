// Package chattemplate reports what the Jinja checker finds in chat
// templates, for every format that carries one, and claims Hugging Face
// tokenizer configs (a JSON object with a top-level "chat_template", the
// layout of tokenizer_config.json and chat_template.json) by content.
package chattemplate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/jinja"
	"github.com/modelgate/modelgate/core/jsonkeys"
	"github.com/modelgate/modelgate/core/rules"
)

// Check runs the template checker on src and reports each issue. where
// names the template for humans (e.g. `metadata "tokenizer.chat_template"`);
// base is the file offset of the template's first byte, or -1 when the
// template was decoded (JSON escapes) and offsets would not match the file.
func Check(ctx context.Context, env *engine.Env, where string, base int64, src string, truncated bool) {
	check(ctx, env, where, base, src, truncated, true)
}

// CheckIncidental checks a string that merely contains template delimiters
// (a vocabulary token such as "{{", a description): it is not expected to
// be a template, so not parsing as one is no finding.
func CheckIncidental(ctx context.Context, env *engine.Env, where string, base int64, src string, truncated bool) {
	check(ctx, env, where, base, src, truncated, false)
}

func check(ctx context.Context, env *engine.Env, where string, base int64, src string, truncated, template bool) {
	res := jinja.Check(ctx, src, jinja.DefaultLimits())
	for _, is := range res.Issues {
		if !template && is.RuleID == jinja.RuleTemplateInvalid {
			continue
		}
		off := int64(-1)
		if base >= 0 {
			off = base + int64(is.Offset)
		}
		env.Report(finding.Finding{RuleID: is.RuleID, Severity: is.Severity, Offset: off,
			Message: fmt.Sprintf("%s: %s", where, is.Message), Evidence: is.Evidence})
	}
	switch {
	case res.Incomplete != "":
		env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("%s: %s", where, res.Incomplete))
	case truncated:
		env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("%s: template longer than the analysis limit; only its start was checked", where))
	}
}

// TokenizerConfig claims JSON objects with a top-level chat_template.
type TokenizerConfig struct{}

// Name implements engine.Format.
func (TokenizerConfig) Name() string { return "tokenizer-config" }

// Version implements engine.Versioned.
func (TokenizerConfig) Version() string { return FormatVersion }

// maxConfig bounds the JSON documents decoded; tokenizer configs with a
// large added_tokens_decoder are a few MiB at most. Larger ones are still
// claimed (transformers reads them) and reported as not scanned.
const maxConfig = 64 << 20

// Match implements engine.Format: a JSON object whose text contains the
// key, also when written with \u escapes (json.loads decodes those, so
// transformers would too).
func (TokenizerConfig) Match(in *engine.Input) bool {
	if in.Size < 2 || !engine.LooksLikeText(in.Head) {
		return false
	}
	h := bytes.TrimLeft(bytes.TrimPrefix(in.Head, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(h) == 0 || h[0] != '{' {
		return false
	}
	start := int64(0)
	if bytes.HasPrefix(in.Head, []byte("\xef\xbb\xbf")) {
		start = 3 // a UTF-8 BOM, which transformers' reader skips
	}
	if in.Size > maxConfig {
		// Too large to decode: claimed only when transformers would
		// find a template in it, so that Scan reports it not scanned.
		return jsonkeys.Has(io.NewSectionReader(in.R, start, in.Size-start), "chat_template")
	}
	if containsAny(in.R, in.Size, [][]byte{[]byte(`_template"`)}) {
		return true
	}
	// A key spelled with \u escapes ("chat\u005ftemplate") is decoded by
	// json.loads too; other JSON with escapes (translations, data) is not
	// a tokenizer config, so only the top-level keys decide.
	return containsAny(in.R, in.Size, [][]byte{[]byte(`\u`)}) && hasTopLevelKey(io.NewSectionReader(in.R, start, in.Size-start), in.Size-start, "chat_template")
}

// hasTopLevelKey walks the top-level object's keys (values are skipped
// token by token, never held) and reports whether one decodes to key.
func hasTopLevelKey(r io.ReaderAt, size int64, key string) bool {
	dec := json.NewDecoder(io.NewSectionReader(r, 0, size))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if k, ok := tok.(string); ok && k == key {
			return true
		}
		depth := 0
		for {
			tok, err := dec.Token()
			if err != nil {
				return false
			}
			switch tok {
			case json.Delim('{'), json.Delim('['):
				depth++
			case json.Delim('}'), json.Delim(']'):
				depth--
			}
			if depth == 0 {
				break
			}
		}
	}
	return false
}

// containsAny streams r looking for any needle.
func containsAny(r io.ReaderAt, size int64, needles [][]byte) bool {
	// Every JSON-like file is matched: a buffer no larger than the file
	// keeps small ones from allocating the whole chunk.
	chunk := int64(256 << 10)
	if size < chunk {
		chunk = max(size, 0)
	}
	overlap := 16
	buf := make([]byte, int(chunk)+overlap)
	carry := 0
	for off := int64(0); off < size; off += chunk {
		n, err := r.ReadAt(buf[carry:carry+int(chunk)], off)
		if n == 0 && err != nil {
			return false
		}
		window := buf[:carry+n]
		for _, nd := range needles {
			if bytes.Contains(window, nd) {
				return true
			}
		}
		carry = min(overlap, len(window))
		copy(buf, window[len(window)-carry:])
	}
	return false
}

// Scan implements engine.Format.
func (TokenizerConfig) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	if in.Size > maxConfig {
		env.NotScanned(rules.NotScannedLimit, "", fmt.Sprintf("tokenizer config of %d bytes naming a chat template, more than the %d decoded: the template was not checked", in.Size, maxConfig))
		return nil
	}
	data := make([]byte, in.Size)
	if _, err := in.R.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read json: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		// Not a JSON object after all (or invalid JSON that transformers
		// would refuse too): nothing a loader renders.
		return nil
	}
	raw, ok := top["chat_template"]
	if !ok {
		return nil
	}
	for _, t := range Templates(raw) {
		where := `tokenizer config "chat_template"`
		if t.Name != "" {
			where = fmt.Sprintf("tokenizer config chat_template %q", t.Name)
		}
		Check(ctx, env, where, -1, t.Text, false)
	}
	return nil
}

// Named is one template of a tokenizer config.
type Named struct {
	Name string
	Text string
}

// Templates decodes chat_template: a string, or a list of {name, template}.
func Templates(raw json.RawMessage) []Named {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []Named{{Text: s}}
	}
	var list []map[string]any
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var out []Named
	for _, m := range list {
		name, _ := m["name"].(string)
		if t, ok := m["template"].(string); ok {
			out = append(out, Named{Name: name, Text: t})
		}
	}
	return out
}

// Where formats a metadata key for messages.
func Where(key string) string {
	return fmt.Sprintf("metadata %q", strings.ToValidUTF8(key, "?"))
}

// FormatVersion changes whenever this package reports differently for the
// same bytes; reports record it next to the format name.
const FormatVersion = "1.0.0"
