package pickle

// IsOpcode reports whether b is one of the 68 opcodes CPython's unpickler
// knows (protocols 0 to 5). Any other first byte ends a load at once with
// "invalid load key", so content that starts with one is no pickle, which
// spares sniffers a VM run on every text and binary file.
func IsOpcode(b byte) bool { return opcodes[b] }

var opcodes = func() (t [256]bool) {
	for _, c := range []byte("().012BCFGIJKLMNPQRSTUVX]abcdeghijlopqrstu}") {
		t[c] = true
	}
	for c := 0x80; c <= 0x98; c++ {
		t[c] = true
	}
	return t
}()
