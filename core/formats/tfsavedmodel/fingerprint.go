package tfsavedmodel

import (
	"context"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/modelgate/modelgate/core/engine"
	"github.com/modelgate/modelgate/core/protoscan"
)

// Fingerprint is fingerprint.pb, which TensorFlow 2.12+ writes next to
// saved_model.pb: FingerprintDef{uint64 hashes 1-5, VersionDef version = 6,
// string uuid = 7}. It holds only hashes, so recognising it is all there is
// to do; without it a real SavedModel directory would report an
// unrecognised .pb file.
type Fingerprint struct{}

// Name implements engine.Format.
func (Fingerprint) Name() string { return "tf-fingerprint" }

// Version implements engine.Versioned.
func (Fingerprint) Version() string { return FormatVersion }

// maxFingerprint: five varints, a version and a UUID fit in a few dozen bytes.
const maxFingerprint = 1024

// Match implements engine.Format: only FingerprintDef fields, with both
// leading hashes present.
func (Fingerprint) Match(in *engine.Input) bool {
	if in.Size > maxFingerprint || len(in.Head) < 2 || in.Head[0] != byte(protowire.EncodeTag(1, protowire.VarintType)) {
		return false
	}
	p := matchReader(in)
	seen := map[protowire.Number]bool{}
	err := p.Walk(context.Background(), 0, in.Size, 0, func(f protoscan.Field) error {
		switch {
		case f.Num >= 1 && f.Num <= 5 && f.Type == protowire.VarintType:
		case (f.Num == 6 || f.Num == 7) && f.IsBytes():
		default:
			return errNoMatch
		}
		if seen[f.Num] {
			return errNoMatch
		}
		seen[f.Num] = true
		return nil
	})
	return err == nil && seen[1] && seen[2]
}

// Scan implements engine.Format. Hashes carry no behaviour.
func (Fingerprint) Scan(context.Context, *engine.Input, *engine.Env) error { return nil }

// FormatVersion changes whenever this package reports differently for the
// same bytes; reports record it next to the format name.
const FormatVersion = "1.1.0"
