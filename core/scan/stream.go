package scan

import (
	"context"
	"errors"
	"io"
)

// Stream is a source of one stream (stdin, an HTTP body). name is the report
// path and drives the same name-based decisions as a file of that name
// (a model-like name fails closed when unscannable); the content is spooled
// within the limits, never held whole in memory. It can be walked once.
func Stream(name string, r io.Reader) Source {
	return &stream{name: name, r: r}
}

type stream struct {
	name string
	r    io.Reader
	used bool
}

func (s *stream) Walk(ctx context.Context, visit func(Entry) error) error {
	if s.used {
		return errors.New("scan: a stream source can be walked only once")
	}
	s.used = true
	return visit(Entry{Path: s.name, Size: -1, Open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(s.r), nil
	}})
}
