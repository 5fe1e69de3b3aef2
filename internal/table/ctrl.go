package table

// The match functions return a word with the high bit of byte i set for
// each matching slot i. They are the reference formulas: the hot paths
// (Find, findSlow, Locate, Range, Copy) write them out by hand, because the
// compiler does not inline these helpers into generic code instantiated in
// another package; TestSWAR checks the formulas against byte-by-byte
// matching, and the table tests and FuzzMap check the probes.

// Control bytes. A tag has its high bit clear; EMPTY and TOMBSTONE have it
// set, and are told apart by bit 1 (EMPTY 1000_0000, TOMBSTONE 1111_1110),
// the encoding of Swiss tables.
const (
	ctrlEmpty     = 0x80
	ctrlTombstone = 0xFE

	// SlotsPerGroup is the number of slots in a group: 7 slots and one
	// sentinel control byte fill one 64-byte cache line with the ctrl word.
	SlotsPerGroup = 7

	lsb = 0x0101010101010101
	msb = 0x8080808080808080

	// slotsMSB is msb restricted to the control bytes of real slots (0..6).
	slotsMSB = 0x0080808080808080

	// emptyCtrl is the ctrl word of an empty group: seven EMPTY bytes and
	// the sentinel, a TOMBSTONE that is never a tag and never EMPTY.
	emptyCtrl = uint64(ctrlTombstone)<<56 | 0x0080808080808080
)

// matchTag returns the slots whose control byte may equal tag. It can
// report false positives (a byte just above a true match) but never misses
// a true match and never reports the sentinel byte; callers compare keys.
func matchTag(ctrl uint64, tag uint8) uint64 {
	v := ctrl ^ (lsb * uint64(tag))
	return (v - lsb) &^ v & msb
}

// matchEmpty returns the slots whose control byte is EMPTY.
func matchEmpty(ctrl uint64) uint64 {
	return ctrl &^ (ctrl << 6) & msb
}

// matchFree returns the slots whose control byte is EMPTY or TOMBSTONE
// (high bit set), excluding the sentinel.
func matchFree(ctrl uint64) uint64 {
	return ctrl & slotsMSB
}

// matchFull returns the slots that hold a tag (high bit clear).
func matchFull(ctrl uint64) uint64 {
	return ^ctrl & slotsMSB
}

// setByte returns ctrl with byte i replaced by b.
func setByte(ctrl uint64, i int, b uint8) uint64 {
	shift := uint(i) * 8
	return ctrl&^(0xFF<<shift) | uint64(b)<<shift
}

// byteAt returns control byte i.
func byteAt(ctrl uint64, i int) uint8 { return uint8(ctrl >> (uint(i) * 8)) }

// tagOf returns the 7-bit tag of hash h (bits 32..38).
func tagOf(h uint64) uint8 { return uint8(h>>32) & 0x7F }
