package policy

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// KeyError is an unknown key in a policy file, with where it is and the
// closest valid key.
type KeyError struct {
	File, Key, Suggest string
	Line, Column       int
	// Valid are the keys allowed where Key appears.
	Valid []string
}

func (e *KeyError) Error() string {
	msg := fmt.Sprintf("%s:%d:%d: unknown key %q", e.File, e.Line, e.Column, e.Key)
	if e.Suggest != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", e.Suggest)
	}
	return msg + " (valid keys: " + strings.Join(e.Valid, ", ") + ")"
}

// checkKeys walks a decoded YAML document against the Go type it will be
// decoded into and reports the first mapping key that names no field.
// yaml.v3's own KnownFields error names the Go type instead of the file
// and offers no suggestion.
func checkKeys(file string, n *yaml.Node, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := checkKeys(file, c, t); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for _, c := range n.Content {
				if err := checkKeys(file, c, t.Elem()); err != nil {
					return err
				}
			}
		}
	case yaml.MappingNode:
		switch t.Kind() {
		case reflect.Map:
			for i := 1; i < len(n.Content); i += 2 {
				if err := checkKeys(file, n.Content[i], t.Elem()); err != nil {
					return err
				}
			}
		case reflect.Struct:
			fields := yamlFields(t)
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				ft, ok := fields[k.Value]
				if !ok {
					valid := make([]string, 0, len(fields))
					for name := range fields {
						valid = append(valid, name)
					}
					sortStrings(valid)
					return &KeyError{File: file, Key: k.Value, Line: k.Line, Column: k.Column, Suggest: closest(k.Value, valid), Valid: valid}
				}
				if err := checkKeys(file, n.Content[i+1], ft); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// yamlFields maps the YAML keys of a struct to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// closest returns the valid key nearest to key by edit distance, or "" if
// none is near enough to be a likely typo.
func closest(key string, valid []string) string {
	best, bestD := "", len(key)/2+2
	for _, v := range valid {
		if d := editDistance(strings.ToLower(key), v); d < bestD {
			best, bestD = v, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// placeholderReason reports whether a suppression reason is still the
// template the block message suggests.
func placeholderReason(r string) bool {
	return strings.Contains(r, "YYYY-MM-DD") || strings.Contains(r, "by NAME") || strings.Contains(r, "why this file is safe")
}
