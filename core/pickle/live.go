package pickle

import (
	"bytes"
	"io"
	"strconv"
	"strings"
)

// LiveMemo selects whether the VM keeps every memo entry or only those a
// later GET reads.
type LiveMemo int

// Memo modes.
const (
	// LiveMemoAuto keeps every entry until the memo holds
	// liveMemoMinEntries values, then pre-scans the input and drops the
	// entries no GET reads: pickles with small memos (nearly all) pay
	// nothing, large ones stop growing.
	LiveMemoAuto LiveMemo = iota
	// LiveMemoAlways keeps only read entries whatever the size (tests use
	// it to prove both modes trace the same).
	LiveMemoAlways
	// LiveMemoNever keeps every entry, as CPython does.
	LiveMemoNever
)

// liveMemoMinEntries is the memo size at which LiveMemoAuto pre-scans: a
// few MB of values, less than the pre-scan of an input that makes them.
// A variable so tests can make the switch happen mid-way through small
// pickles.
var liveMemoMinEntries = 1 << 16

// liveMemoInPlaceEntries is liveMemoMinEntries for content already in
// memory, where the pre-scan reads no byte twice from disk and costs a
// tenth of the trace: a torch.save of a whole nn.Module puts 8,000 memo
// entries and reads 70 of them, and the values no GET reads can then be
// reused once the opcode that consumed them is done with them.
const liveMemoInPlaceEntries = 1024

// maxLiveSparse bounds the read indices the pre-scan collects outside the
// dense range; past it the pre-scan gives up and every entry is kept.
const maxLiveSparse = 1 << 20

// errReplay stops a run whose pre-scan missed a read: a GET reached an
// entry that was dropped. Run then traces again keeping every entry.
var errReplay = &vmError{msg: "memo pre-scan missed a read"}

// readIndices walks the opcodes of r[start:size] without executing them and
// returns every memo index a GET, BINGET or LONG_BINGET names. ok is false
// when the walk could not reach the end of what the VM will run (an
// invalid opcode, raw data a hook consumes, truncation): the set is then
// not trusted and the VM keeps every entry.
//
// The walk reads opcodes contiguously, as pickle.loads does. Nothing relies
// on it being right: the VM checks every read against what it dropped and
// traces again keeping everything if the walk missed one (a FRAME straddle
// seen through the buffered view, a hook that skipped bytes and resynced).
func readIndices(r io.ReaderAt, start, size int64, stopAfter int) (live *indexSet, ok bool) {
	rd := newReader(r, start, size)
	live = &indexSet{}
	pickles := 0
	sparse := 0
	mark := func(i uint64) bool {
		if added, sp := live.add(i); added && sp {
			sparse++
		}
		return sparse <= maxLiveSparse
	}
	for {
		// Most opcodes are handled in place in the buffer; the loop below
		// takes the rest (a buffer end, long payloads, text arguments
		// without a newline in the buffer).
		if stop, ok := walkBuffered(rd, &pickles, stopAfter, live, mark); stop && fastWalk {
			return live, ok
		}
		if rd.Remaining() == 0 {
			return live, pickles > 0
		}
		op, err := rd.byte()
		if err != nil {
			return live, false
		}
		n := 0 // fixed argument bytes
		switch op {
		case '(', '0', '1', '2', 'N', 0x88, 0x89, ')', ']', '}', 0x8f, 't', 0x85, 0x86, 0x87,
			'l', 'd', 0x91, 'a', 'e', 's', 'u', 0x90, 0x93, 'o', 'R', 0x81, 0x92, 'b', 'Q', 0x94, 0x98:
		case '.':
			pickles++
			if stopAfter > 0 && pickles >= stopAfter {
				return live, true
			}
		case 'F', 'I', 'L', 'S', 'V', 'P', 'p':
			if _, err := rd.line(); err != nil {
				return live, false
			}
		case 'c', 'i':
			for k := 0; k < 2; k++ {
				if _, err := rd.line(); err != nil {
					return live, false
				}
			}
		case 'g':
			s, err := rd.line()
			if err != nil {
				return live, false
			}
			idx, perr := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if perr != nil || idx < 0 {
				return live, false
			}
			if !mark(uint64(idx)) {
				return live, false
			}
		case 'h':
			b, err := rd.byte()
			if err != nil || !mark(uint64(b)) {
				return live, false
			}
		case 'j':
			b, err := rd.fixed(4)
			if err != nil || !mark(uint64(le(b))) {
				return live, false
			}
		case 'K', 'q', 0x80, 0x82:
			n = 1
		case 'M', 0x83:
			n = 2
		case 'J', 'r', 0x84:
			n = 4
		case 'G':
			n = 8
		case 0x95: // FRAME: its opcodes follow inline
			n = 8
		case 0x8a, 'U', 'C', 0x8c, 'T', 'B', 'X', 0x8b, 0x8e, 0x96, 0x8d:
			w := 1
			switch op {
			case 'T', 'B', 'X', 0x8b:
				w = 4
			case 0x8e, 0x96, 0x8d:
				w = 8
			}
			b, err := rd.fixed(w)
			if err != nil {
				return live, false
			}
			l := le(b)
			if w == 4 && (op == 'T' || op == 0x8b) {
				l = uint64(int64(int32(l)))
			}
			if int64(l) < 0 || int64(l) > rd.Remaining() {
				return live, false
			}
			if err := rd.skip(int64(l)); err != nil {
				return live, false
			}
		default: // NEXT_BUFFER and invalid opcodes stop the VM too
			return live, false
		}
		if n > 0 {
			if _, err := rd.fixed(n); err != nil {
				return live, false
			}
		}
	}
}

// fastWalk enables walkBuffered (tests compare it with the careful loop).
var fastWalk = true

// Opcode shapes for walkBuffered.
const (
	argNone  = iota + 1
	argFixed // fixed-size argument of opArg[op] bytes
	argCount // length prefix of opArg[op] bytes, then the payload
	argLine  // text argument(s) up to newline (opArg[op] lines)
	argGet1
	argGet4
	argStop
)

// opSize is the whole size of opcodes without a variable part (0 for the
// others), so that walkBuffered steps over most opcodes with one lookup.
var opSize = func() (size [256]uint8) {
	for op := range 256 {
		switch opShape[op] {
		case argNone:
			size[op] = 1
		case argFixed:
			size[op] = 1 + opArg[op]
		}
	}
	return size
}()

var opShape, opArg = func() (shape, arg [256]uint8) {
	for _, op := range []byte("(012N\x88\x89)]}\x8ft\x85\x86\x87ldaesu\x90\x93oR\x81\x92bQ\x94\x98") {
		shape[op] = argNone
	}
	for op, n := range map[byte]uint8{'K': 1, 'q': 1, 0x80: 1, 0x82: 1, 'M': 2, 0x83: 2, 'J': 4, 'r': 4, 0x84: 4, 'G': 8, 0x95: 8} {
		shape[op], arg[op] = argFixed, n
	}
	for op, n := range map[byte]uint8{0x8a: 1, 'U': 1, 'C': 1, 0x8c: 1, 'B': 4, 'X': 4, 0x8e: 8, 0x96: 8, 0x8d: 8} {
		shape[op], arg[op] = argCount, n
	}
	for _, op := range []byte("FILSVPp") {
		shape[op], arg[op] = argLine, 1
	}
	shape['c'], arg['c'] = argLine, 2
	shape['i'], arg['i'] = argLine, 2
	shape['h'], shape['j'], shape['.'] = argGet1, argGet4, argStop
	// BINSTRING and LONG4 have signed lengths, GET a text index: the
	// careful loop handles them.
	return shape, arg
}()

// walkBuffered walks opcodes that lie wholly inside rd's buffer. It
// returns stop when the walk is over (ok as readIndices returns it), and
// otherwise leaves rd at the first opcode it did not handle.
func walkBuffered(rd *reader, pickles *int, stopAfter int, live *indexSet, mark func(uint64) bool) (stop, ok bool) {
	if !fastWalk {
		return false, false
	}
	buf := rd.buf[rd.pos:rd.end]
	i := 0
	defer func() { rd.pos += i }()
	for i+17 <= len(buf) {
		op := buf[i]
		if n := opSize[op]; n != 0 {
			i += int(n)
			continue
		}
		if op == 'h' {
			// BINGET of an index already in the dense range: the bit
			// is all mark would set.
			if j := uint64(buf[i+1]); j>>6 < uint64(len(live.bits)) {
				live.bits[j>>6] |= 1 << (j & 63)
				i += 2
				continue
			}
		} else if op == 'j' {
			if j := le(buf[i+1 : i+5]); j>>6 < uint64(len(live.bits)) {
				live.bits[j>>6] |= 1 << (j & 63)
				i += 5
				continue
			}
		} else if opShape[op] == argCount && opArg[op] == 1 {
			// Short strings and bytes: a one-byte length.
			if n := int(buf[i+1]); n <= len(buf)-i-2 {
				i += 2 + n
				continue
			}
		}
		switch opShape[op] {
		case argNone:
			i++
		case argFixed:
			i += 1 + int(opArg[op])
		case argCount:
			w := int(opArg[op])
			n := le(buf[i+1 : i+1+w])
			if n > uint64(len(buf)-i-1-w) {
				return false, false // a long payload: the careful loop skips it
			}
			i += 1 + w + int(n)
		case argLine:
			j := i + 1
			for k := 0; k < int(opArg[op]); k++ {
				nl := bytes.IndexByte(buf[j:], '\n')
				if nl < 0 {
					return false, false
				}
				j += nl + 1
			}
			i = j
		case argGet1:
			if !mark(uint64(buf[i+1])) {
				i += 2
				return true, false
			}
			i += 2
		case argGet4:
			if !mark(le(buf[i+1 : i+5])) {
				i += 5
				return true, false
			}
			i += 5
		case argStop:
			i++
			*pickles++
			if stopAfter > 0 && *pickles >= stopAfter {
				return true, true
			}
		default:
			return false, false
		}
	}
	return false, false
}
