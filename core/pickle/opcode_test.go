package pickle

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestIsOpcodeMatchesTheVM: a byte IsOpcode rejects is exactly one the VM
// refuses as its first opcode with "invalid load key".
func TestIsOpcodeMatchesTheVM(t *testing.T) {
	known := 0
	for b := range 256 {
		data := []byte{byte(b)}
		tr, err := Run(context.Background(), bytes.NewReader(data), 0, 1, Options{})
		if err != nil {
			t.Fatal(err)
		}
		invalid := false
		for _, ev := range tr.Events {
			if ev.Kind == EvMalformed && strings.Contains(ev.Detail, "invalid load key") {
				invalid = true
			}
		}
		if IsOpcode(byte(b)) == invalid {
			t.Errorf("byte 0x%02x: IsOpcode %v, VM says invalid load key: %v", b, IsOpcode(byte(b)), invalid)
		}
		if IsOpcode(byte(b)) {
			known++
		}
	}
	if known != 68 {
		t.Errorf("%d opcodes, CPython has 68", known)
	}
}
