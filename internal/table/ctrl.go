package table

import "math/bits"

// The SWAR helpers, on a logical ctrl word: the word of an entry group,
// or a flat group's stored word XOR flatCtrl (loadCtrl in flat.go). The
// match functions return a word with the high bit of byte i set for each
// matching slot i. Every probe and ctrl update of both layouts calls them
// (entry: Find, probe, Locate, Range, copyEntries, insertFresh, Insert,
// deleteEntry; flat: probe, Locate, Range, Copy, insertFresh, Insert,
// Delete, Replace; the read path of flat_read.go), and they inline, also
// into cmap's instantiations of those probes (see word). Two formulas are
// written out where the helpers would take a read-path step over the
// inliner's budget, with the cost beside them: FlatHome's tag word and
// EntryGroup.Find's match (TestLoadInlines fails if a step stops
// inlining). TestSWAR checks the formulas against byte-by-byte matching, and
// the table tests and FuzzMap check the probes.

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

// word is the type of a ctrl word (uint64). The helpers below are generic
// in it only to be inlined: a generic function of this package compiled
// into another package (Find, as cmap instantiates it) inlines the calls
// to generic helpers, which are instantiated with it, but calls the
// non-generic ones (checked on Go 1.26.8 with `go tool objdump` on the
// cmap test binary: Find called tagOf, matchTag, slotOf and matchEmpty,
// each a call costing more than its body).
type word interface{ ~uint64 }

// matchTag returns the slots whose control byte may equal tag. It can
// report false positives (a byte just above a true match) but never misses
// a true match and never reports the sentinel byte; callers compare keys.
func matchTag[W word](ctrl W, tag uint8) W { return matchWord(ctrl, tagWord[W](tag)) }

// tagWord returns tag repeated in every byte, for matchWord.
func tagWord[W word](tag uint8) W { return lsb * W(tag) }

// matchWord is matchTag for tw = tagWord(tag), which a probe of several
// groups computes once.
func matchWord[W word](ctrl, tw W) W { return matchZero(ctrl ^ tw) }

// matchZero returns the bytes of x that may be zero, with matchTag's
// false positives: for x = ctrl ^ tagWord(tag), the slots that may hold
// tag. A read path that keeps x computes it once (FlatGroup).
func matchZero[W word](x W) W { return (x - lsb) &^ x & msb }

// slotOf returns the lowest slot reported by a match word m != 0.
func slotOf[W word](m W) int { return bits.TrailingZeros64(uint64(m)) >> 3 }

// matchEmpty returns the slots whose control byte is EMPTY.
func matchEmpty[W word](ctrl W) W {
	return ctrl &^ (ctrl << 6) & msb
}

// matchFree returns the slots whose control byte is EMPTY or TOMBSTONE
// (high bit set), excluding the sentinel.
func matchFree[W word](ctrl W) W {
	return ctrl & slotsMSB
}

// matchFull returns the slots that hold a tag (high bit clear).
func matchFull[W word](ctrl W) W {
	return ^ctrl & slotsMSB
}

// setByte returns ctrl with byte i replaced by b.
func setByte[W word](ctrl W, i int, b uint8) W {
	shift := uint(i) * 8
	return ctrl&^(0xFF<<shift) | W(b)<<shift
}

// byteAt returns control byte i.
func byteAt[W word](ctrl W, i int) uint8 { return uint8(ctrl >> (uint(i) * 8)) }

// tagOf returns the 7-bit tag of hash h (bits 32..38).
func tagOf[W word](h W) uint8 { return uint8(h>>32) & 0x7F }
