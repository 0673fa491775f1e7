package engine

import (
	"context"
	"errors"
	"io"
)

// Arriving is content that is still arriving while it is scanned, such as
// a download written to a temporary file as it comes in. ReadAt waits until
// the bytes it is asked for are in, or fails if the arrival did.
//
// The engine starts such a scan from the head instead of waiting for the
// last byte: matching looks at the end of every file (a zip end record
// turns a pickle into a polyglot), which would otherwise hold every scan
// until the download ends. The result is always that of a scan of the
// complete content (see scanArriving).
type Arriving interface {
	io.ReaderAt
	// Arrived is how many leading bytes ReadAt returns without waiting.
	Arrived() int64
	// Wait blocks until every byte is in or ctx ends, and returns why the
	// arrival failed, if it did.
	Wait(ctx context.Context) error
}

// errNotArrived is what the probe view answers for bytes not yet in.
var errNotArrived = errors.New("content not yet arrived")

// arrivedView reads only what has arrived and fails at once beyond it.
type arrivedView struct {
	a    Arriving
	size int64
}

func (v arrivedView) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || min(off+int64(len(p)), v.size) > v.a.Arrived() {
		return 0, errNotArrived
	}
	return v.a.ReadAt(p, off)
}

// scanArriving scans a top-level input whose content is still arriving.
// The formats are first matched against what has arrived; the first that
// claims it is matched again and scans over the waiting reader, alongside
// the arrival. Once every byte is in, each format tried before it is
// matched against the complete content: if none claims it, the scan is the
// one a complete file would have had (the same first match, the same
// parse of the same bytes) and is kept. If one does (content whose tail
// changes what it is, such as a pickle with a zip appended), it is
// discarded and the file is scanned again from the start, as usual.
func (e *Engine) scanArriving(ctx context.Context, in *Input, a Arriving) (*fileState, error) {
	usual := func() (*fileState, error) {
		fresh := newFileState(in.Path)
		again := &Input{Path: in.Path, Name: in.Name, R: in.R, Size: in.Size, Head: in.Head}
		return fresh, e.scanInput(ctx, again, fresh)
	}
	if err := readHead(in); err != nil {
		return usual()
	}
	probe := &Input{Path: in.Path, Name: in.Name, R: arrivedView{a, in.Size}, Size: in.Size, Head: in.Head}
	pick := -1
	for i, f := range e.formats {
		if ok, perr := safeMatch(f, probe); ok && perr == nil {
			pick = i
			break
		}
	}
	if pick < 0 {
		return usual()
	}
	f := e.formats[pick]
	spec := newFileState(in.Path)
	specIn := &Input{Path: in.Path, Name: in.Name, R: in.R, Size: in.Size, Head: in.Head}
	if ok, perr := safeMatch(f, specIn); !ok || perr != nil {
		return usual()
	}
	env := &Env{Policy: e.policy, Limits: e.limits, in: specIn, file: spec, eng: e}
	if err := e.dispatch(ctx, f, env); err != nil {
		return spec, err
	}
	if err := a.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			return spec, ctx.Err()
		}
		return usual()
	}
	check := &Input{Path: in.Path, Name: in.Name, R: in.R, Size: in.Size, Head: in.Head}
	for _, g := range e.formats[:pick] {
		if ok, perr := safeMatch(g, check); ok || perr != nil {
			return usual()
		}
	}
	return spec, nil
}
