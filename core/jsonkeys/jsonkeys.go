// Package jsonkeys walks the top-level keys of a JSON object in constant
// memory, for formats that must recognise documents too large to decode
// (json.Decoder holds a whole string token, whatever its size).
package jsonkeys

import (
	"bufio"
	"encoding/json"
	"io"
)

// MaxKeyBytes bounds a key TopLevel decodes: longer ones are skipped, as
// no key a format looks for is that long, even fully \u-escaped.
const MaxKeyBytes = 1024

// TopLevel calls visit with each top-level key of the JSON object read
// from r, decoded (\u escapes included), until visit returns true; values
// are skipped byte by byte. It reports whether visit returned true, and
// false for anything but an object. A reader that is an io.ByteReader
// (content in memory) is read as it is, without a buffer.
func TopLevel(r io.Reader, visit func(key string) bool) bool {
	br, ok := r.(io.ByteReader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	depth := 0
	inStr, esc, inKey, keyNext := false, false, false, false
	var cur []byte
	for {
		c, err := br.ReadByte()
		if err != nil {
			return false
		}
		if inStr {
			if inKey && len(cur) <= MaxKeyBytes {
				cur = append(cur, c)
			}
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
				if inKey {
					inKey = false
					var k string
					if len(cur) <= MaxKeyBytes && json.Unmarshal(cur, &k) == nil && visit(k) {
						return true
					}
				}
			}
			continue
		}
		if depth == 0 && c != '{' {
			if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
				continue
			}
			return false // not a JSON object
		}
		switch c {
		case '"':
			inStr = true
			if depth == 1 && keyNext {
				inKey, keyNext = true, false
				cur = append(cur[:0], c)
			}
		case '{', '[':
			depth++
			if depth == 1 {
				keyNext = true
			}
		case '}', ']':
			depth--
			if depth <= 0 {
				return false
			}
		case ',':
			if depth == 1 {
				keyNext = true
			}
		}
	}
}

// Has reports whether the JSON object read from r has the top-level key.
func Has(r io.Reader, key string) bool {
	return TopLevel(r, func(k string) bool { return k == key })
}
