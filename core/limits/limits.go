// Package limits holds the bounds every parser honours, so that hostile input
// costs at most a known amount of time, memory and disk.
package limits

import "time"

// Limits bounds one scan. Zero values mean "use the default" when passed
// through WithDefaults.
type Limits struct {
	// MaxFileBytes is the largest top-level file that is scanned at all.
	MaxFileBytes int64 `yaml:"max_file_bytes" json:"max_file_bytes"`
	// MaxDecompressedBytes bounds the output of any single decompression.
	MaxDecompressedBytes int64 `yaml:"max_decompressed_bytes" json:"max_decompressed_bytes"`
	// MaxRatio bounds decompressed/compressed size for streams larger than
	// RatioFloorBytes (tiny streams legitimately compress very well).
	MaxRatio float64 `yaml:"max_ratio" json:"max_ratio"`
	// MaxDepth bounds container nesting (zip in tar in gzip ...).
	MaxDepth int `yaml:"max_depth" json:"max_depth"`
	// MaxMembers bounds the number of members read from one archive.
	MaxMembers int `yaml:"max_members" json:"max_members"`
	// MaxOpcodes bounds the opcodes executed per pickle stream.
	MaxOpcodes int64 `yaml:"max_opcodes" json:"max_opcodes"`
	// MaxStack bounds the pickle value stack and mark stack.
	MaxStack int `yaml:"max_stack" json:"max_stack"`
	// MaxMemo bounds the number of pickle memo entries.
	MaxMemo int `yaml:"max_memo" json:"max_memo"`
	// FileTimeout bounds the wall time spent on one top-level file.
	FileTimeout time.Duration `yaml:"file_timeout" json:"file_timeout"`
}

// RatioFloorBytes is the decompressed size under which the ratio limit does
// not apply: a few KiB of zeros compress 1000:1 and are harmless.
const RatioFloorBytes = 16 << 20

// Default returns the built-in limits.
func Default() Limits {
	return Limits{
		MaxFileBytes:         64 << 30,
		MaxDecompressedBytes: 8 << 30,
		MaxRatio:             200,
		MaxDepth:             8,
		MaxMembers:           200000,
		MaxOpcodes:           500_000_000,
		MaxStack:             1 << 20,
		MaxMemo:              1 << 22,
		FileTimeout:          5 * time.Minute,
	}
}

// WithDefaults fills every zero field from Default.
func (l Limits) WithDefaults() Limits {
	d := Default()
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = d.MaxFileBytes
	}
	if l.MaxDecompressedBytes <= 0 {
		l.MaxDecompressedBytes = d.MaxDecompressedBytes
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxMembers <= 0 {
		l.MaxMembers = d.MaxMembers
	}
	if l.MaxOpcodes <= 0 {
		l.MaxOpcodes = d.MaxOpcodes
	}
	if l.MaxStack <= 0 {
		l.MaxStack = d.MaxStack
	}
	if l.MaxMemo <= 0 {
		l.MaxMemo = d.MaxMemo
	}
	if l.FileTimeout <= 0 {
		l.FileTimeout = d.FileTimeout
	}
	return l
}
