// Package xgboost recognises XGBoost's binary model format (Booster.save_raw
// / save_model to a non-JSON name in XGBoost 1.x): the "binf" magic, a fixed
// 136-byte parameter block, then the objective and booster names.
//
// The format holds only numbers and names that XGBoost's C++ loader reads
// into fixed structures; it has no channel for code or references to
// importable objects. Recognising it lets the gate scan such files instead of
// reporting them as unknown content; the check is structural: a header or
// name that XGBoost itself would reject makes the file not scanned.
package xgboost

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"regexp"

	"github.com/modelgate/modelgate/core/engine"
)

const (
	magic      = "binf"
	paramSize  = 136 // sizeof(LearnerModelParamLegacy), static_assert'ed by XGBoost
	maxNameLen = 64
)

// objective matches XGBoost objective names such as "binary:logistic",
// "reg:squarederror", "rank:pairwise" or "multi:softprob".
var objective = regexp.MustCompile(`^[a-z]+:[a-z_]+$`)

var boosters = map[string]bool{"gbtree": true, "gblinear": true, "dart": true}

// Binary is the engine format for XGBoost's deprecated binary model format.
type Binary struct{}

// Name implements engine.Format.
func (Binary) Name() string { return "xgboost-binary" }

// Version implements engine.Versioned.
func (Binary) Version() string { return FormatVersion }

// Match implements engine.Format: the magic, and a parameter block followed
// by a short objective name, which a random "binf" prefix rarely has.
func (Binary) Match(in *engine.Input) bool {
	h := in.Head
	if len(h) < len(magic)+paramSize+8 || string(h[:len(magic)]) != magic {
		return false
	}
	n := binary.LittleEndian.Uint64(h[len(magic)+paramSize:])
	return n > 0 && n <= maxNameLen
}

// Header is what the parser reads: the model parameters that matter for
// sanity and the two names.
type Header struct {
	NumFeature   uint32
	NumClass     int32
	MajorVersion uint32
	MinorVersion uint32
	Objective    string
	Booster      string
}

// Parse reads and validates the header of a binary model.
func Parse(r io.ReaderAt, size int64) (Header, error) {
	var h Header
	buf := make([]byte, len(magic)+paramSize)
	if size < int64(len(buf)) {
		return h, fmt.Errorf("xgboost binary: %d bytes, shorter than its header", size)
	}
	if _, err := r.ReadAt(buf, 0); err != nil {
		return h, fmt.Errorf("xgboost binary: read header: %w", err)
	}
	if string(buf[:len(magic)]) != magic {
		return h, fmt.Errorf("xgboost binary: no %q magic", magic)
	}
	p := buf[len(magic):]
	h.NumFeature = binary.LittleEndian.Uint32(p[4:])
	h.NumClass = int32(binary.LittleEndian.Uint32(p[8:]))
	h.MajorVersion = binary.LittleEndian.Uint32(p[20:])
	h.MinorVersion = binary.LittleEndian.Uint32(p[24:])
	if h.NumClass < 0 {
		return h, fmt.Errorf("xgboost binary: negative class count %d", h.NumClass)
	}
	off := int64(len(buf))
	var err error
	if h.Objective, off, err = readName(r, size, off); err != nil {
		return h, fmt.Errorf("xgboost binary: objective: %w", err)
	}
	if !objective.MatchString(h.Objective) {
		return h, fmt.Errorf("xgboost binary: objective %q is not an XGBoost objective name", h.Objective)
	}
	if h.Booster, _, err = readName(r, size, off); err != nil {
		return h, fmt.Errorf("xgboost binary: booster: %w", err)
	}
	if !boosters[h.Booster] {
		return h, fmt.Errorf("xgboost binary: unknown booster %q", h.Booster)
	}
	return h, nil
}

// readName reads a dmlc string: a little-endian uint64 length, then bytes.
func readName(r io.ReaderAt, size, off int64) (string, int64, error) {
	var lb [8]byte
	if off+8 > size {
		return "", off, fmt.Errorf("truncated at %d", off)
	}
	if _, err := r.ReadAt(lb[:], off); err != nil {
		return "", off, fmt.Errorf("read length at %d: %w", off, err)
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n == 0 || n > maxNameLen || off+8+int64(n) > size {
		return "", off, fmt.Errorf("bad name length %d at %d", n, off)
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, off+8); err != nil {
		return "", off, fmt.Errorf("read name at %d: %w", off+8, err)
	}
	return string(b), off + 8 + int64(n), nil
}

// Scan implements engine.Format. A valid header is all there is to judge:
// the rest is tree or linear-model numbers.
func (Binary) Scan(ctx context.Context, in *engine.Input, env *engine.Env) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := Parse(in.R, in.Size)
	return err
}

// FormatVersion changes whenever this package reports differently for the
// same bytes; reports record it next to the format name.
const FormatVersion = "1.0.0"
