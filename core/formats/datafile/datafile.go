// Package datafile recognises data-only file formats that share extensions
// with models (.sav, .dat) but hold no code: IDL save files (read by
// scipy.io.readsav) and Fortran unformatted sequential files (read by
// scipy.io.FortranFile). Claiming them by content keeps them from being
// reported as unscannable models. They go after every format that can hold
// code, so a file that is also a pickle is judged as the pickle.
package datafile

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"

	"github.com/modelgate/modelgate/core/engine"
)

// IDLSave is an IDL/GDL SAVE file: "SR", then 0x00 0x04 (plain records)
// or 0x00 0x06 (zlib-compressed records). scipy.io.readsav returns plain arrays and
// structures from it.
type IDLSave struct{}

// Name implements engine.Format.
func (IDLSave) Name() string { return "idl-save" }

// Version implements engine.Versioned.
func (IDLSave) Version() string { return FormatVersion }

// Match implements engine.Format.
func (IDLSave) Match(in *engine.Input) bool {
	return bytes.HasPrefix(in.Head, []byte("SR\x00\x04")) || bytes.HasPrefix(in.Head, []byte("SR\x00\x06"))
}

// Scan implements engine.Format: the format holds data only.
func (IDLSave) Scan(context.Context, *engine.Input, *engine.Env) error { return nil }

// FortranRecords is a Fortran unformatted sequential file: records, each
// framed by the same non-zero 4-byte little-endian length before and after
// it, up to exactly the end of the file.
type FortranRecords struct{}

// Name implements engine.Format.
func (FortranRecords) Name() string { return "fortran-unformatted" }

// Version implements engine.Versioned.
func (FortranRecords) Version() string { return FormatVersion }

// maxRecords bounds the markers Match reads; larger files are left alone.
const maxRecords = 4096

// Match implements engine.Format: every record marker pair must agree and
// the last record must end at the end of the file.
func (FortranRecords) Match(in *engine.Input) bool {
	var a, b [4]byte
	off := int64(0)
	for range maxRecords {
		if off == in.Size {
			return off > 0
		}
		if in.Size-off < 8 {
			return false
		}
		if _, err := in.R.ReadAt(a[:], off); err != nil {
			return false
		}
		n := int64(binary.LittleEndian.Uint32(a[:]))
		if n == 0 {
			return false // runs of zeros are not records
		}
		end := off + 4 + n
		if end+4 > in.Size {
			return false
		}
		if _, err := in.R.ReadAt(b[:], end); err != nil && err != io.EOF {
			return false
		}
		if a != b {
			return false
		}
		off = end + 4
	}
	return false
}

// Scan implements engine.Format: the records are raw numbers.
func (FortranRecords) Scan(context.Context, *engine.Input, *engine.Env) error { return nil }

// FormatVersion changes whenever this package reports differently for the
// same bytes; reports record it next to the format name.
const FormatVersion = "1.0.0"
