package limits

// A header that declares more than the file could hold is either a cut-off
// download or a header aimed at the loader's size arithmetic (the
// heap-overflow class of CVE-2024-25664/25665 in llama.cpp's GGUF reader).
// Truncation loses a fraction of a file; an attack declares counts orders
// of magnitude beyond it. These two bounds tell them apart for every
// format whose header declares sizes.
const (
	// ImpossibleFactor is how many times the bytes left a declared size
	// must need before no truncation explains it.
	ImpossibleFactor = 65536
	// ImpossibleFloor is the size a declared need must also exceed, so
	// that small files with slightly-off headers stay "truncated": no real
	// header field (the largest are vocabularies of a few MiB) comes near.
	ImpossibleFloor = 1 << 32
)

// Impossible reports whether a header that needs need bytes where only
// remaining are left is beyond truncation: at least ImpossibleFactor times
// what is left and more than ImpossibleFloor. need is a float64 so that
// products of declared 64-bit counts cannot wrap around.
func Impossible(need float64, remaining int64) bool {
	if remaining < 0 {
		remaining = 0
	}
	return need > ImpossibleFloor && need > float64(remaining)*ImpossibleFactor
}
