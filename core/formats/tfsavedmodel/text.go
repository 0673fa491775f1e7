package tfsavedmodel

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/finding"
	"github.com/modelgate/modelgate/core/rules"
)

// SavedModelText is saved_model.pbtxt, the protobuf text form that
// tf.saved_model.load accepts as well. Its operators are checked by name;
// constant paths are not resolved in this form.
type SavedModelText struct{}

// Name implements engine.Format.
func (SavedModelText) Name() string { return "tf-savedmodel-text" }

// Version implements engine.Versioned.
func (SavedModelText) Version() string { return FormatVersion }

const maxTextLine = 1 << 20

// textField matches `op: "..."` and `name: "..."` pairs of the text format.
var textField = regexp.MustCompile(`(?:^|[\s{])(op|name)\s*:\s*"((?:[^"\\]|\\.)*)"`)

// Match implements engine.Format: text whose first statement is a
// SavedModel field.
func (SavedModelText) Match(in *engine.Input) bool {
	if !engine.LooksLikeText(in.Head) {
		return false
	}
	// The head almost always holds the first statement; reading past it
	// is only for comments longer than the head.
	head := bytes.NewReader(in.Head)
	l := firstStatement(head, 32)
	if head.Len() == 0 && int64(len(in.Head)) < in.Size {
		l = firstStatement(bufio.NewReader(io.NewSectionReader(in.R, 0, in.Size)), 32)
	}
	return bytes.HasPrefix(l, []byte("saved_model_schema_version:")) || bytes.HasPrefix(l, []byte("meta_graphs {")) ||
		bytes.HasPrefix(l, []byte("meta_graphs{"))
}

// firstStatement returns up to n bytes of the first statement after
// blank lines and # comments, reading on past the head: the text parser
// skips comments of any number and length, so they must not hide the
// statement. Memory stays at n bytes whatever the comments.
func firstStatement(r io.ByteReader, n int) []byte {
	for {
		c, err := r.ReadByte()
		if err != nil {
			return nil
		}
		switch c {
		case ' ', '\t', '\r', '\n', '\v', '\f':
			continue
		case '#':
			for c != '\n' {
				if c, err = r.ReadByte(); err != nil {
					return nil
				}
			}
			continue
		}
		out := []byte{c}
		for len(out) < n {
			if c, err = r.ReadByte(); err != nil || c == '\n' {
				break
			}
			out = append(out, c)
		}
		return out
	}
}

// Scan implements engine.Format: every `op: "..."` is judged like a binary
// node; `name: "..."` values are taken as possible function names so calls
// to library functions are not mistaken for unknown operators.
func (SavedModelText) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	sc := bufio.NewScanner(io.NewSectionReader(in.R, 0, in.Size))
	sc.Buffer(make([]byte, 64<<10), maxTextLine)
	g := &graph{label: "text graph"}
	names := map[string]bool{}
	lineNo := 0
	for sc.Scan() {
		lineNo++
		if lineNo&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		for _, m := range textField.FindAllStringSubmatch(sc.Text(), -1) {
			v, err := strconv.Unquote(`"` + m[2] + `"`)
			if err != nil {
				continue
			}
			if m[1] == "op" {
				g.add(node{name: fmt.Sprintf("line %d", lineNo), op: v, off: -1})
			} else {
				names[v] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		env.NotScanned(rules.NotScannedError, "", fmt.Sprintf("saved_model.pbtxt: %v", err))
	}
	for _, f := range analyze([]*graph{g}, names) {
		if f.RuleID == rules.TFPathOutsideModel {
			continue
		}
		env.Report(f)
	}
	if len(g.nodes) > 0 {
		// Paths, debug URLs and Lambda layers are only read from binary
		// SavedModels; say so rather than pass silently.
		env.Report(finding.Finding{RuleID: rules.TFTextSavedModel, Offset: -1,
			Message: fmt.Sprintf("text-format SavedModel with %d nodes: operators were checked by name only; constant paths and attributes were not analysed", len(g.nodes))})
	}
	return nil
}
