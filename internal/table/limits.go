package table

import (
	"math/bits"
	"strconv"
)

// The largest tables. A size that needs more is refused (FitGroups reports
// false) instead of being computed with overflowing arithmetic.
//
// MaxGroups bounds one table so that every size computed from a group
// count fits in int: Pos (group<<3 | slot) and MaxUsed (groups × 49) stay
// below 2^30 on 32-bit platforms, and on 64-bit ones the home group (hash
// bits below 32) stays independent of the tag (bits 32..38). MaxMapBytes
// bounds the bytes of the tables of one map laid out at once: they must
// fit in the address space that Go's heap can have, 2^48 bytes on 64-bit
// platforms, and 1.25 GiB of the 4 GiB on 32-bit ones; the number of
// groups that this allows depends on the layout's group size (LayoutGroupBytes:
// 40 or 64 bytes for entry tables, up to 464 for flat ones). These are
// limits of arithmetic and address space, not of memory: a layout within
// them that the machine cannot back fails as make does (the runtime's fatal
// "out of memory").
const (
	// GroupBytes is the size of an entry table's group: its ctrl word and
	// SlotsPerGroup pointers, rounded up to 8 bytes (64 on 64-bit
	// platforms, 40 on 32-bit ones).
	GroupBytes = (8 + SlotsPerGroup*bits.UintSize/8 + 7) &^ 7
	// MaxGroups is the most groups a table may have: 2^32 on 64-bit
	// platforms, 2^24 on 32-bit ones.
	MaxGroups = 1 << (24 + 8*(bits.UintSize/64))
	// MaxMapBytes is the most bytes the tables of one map may have when
	// laid out together: 2^48 on 64-bit platforms, 1.25 GiB (5 × 2^28) on
	// 32-bit ones. It fits in int, and so does any smaller product of a
	// group count and a group size.
	MaxMapBytes = 1<<48*(bits.UintSize/64) + 5<<28*(1-bits.UintSize/64)
)

// LayoutGroupBytes returns the size in bytes of a group of the tables of
// a map of K and V: GroupBytes for entry tables, and for flat ones (flat
// set; FlatFits[K, V]() must hold) the ctrl and version words and
// SlotsPerGroup keys and values, each rounded up to whole words (464 bytes
// for [4]uint64 keys and values, 128 for uint64 ones); for arena ones
// (flat set and ArenaFits[K, V]()), the same with a ref word for each key.
func LayoutGroupBytes[K comparable, V any](flat bool) int {
	if !flat {
		return GroupBytes
	}
	if ArenaFits[K, V]() {
		return 8 * (flatHeader + SlotsPerGroup*(1+wordsOf[V]()))
	}
	return 8 * (flatHeader + SlotsPerGroup*(wordsOf[K]()+wordsOf[V]()))
}

// SegmentLimit returns the most groups that each of segs segments (a
// power of two >= 1) may be laid out with, for groups of groupBytes bytes
// (LayoutGroupBytes): MaxGroups, or less if segs tables of that many groups
// would exceed MaxMapBytes. It is a power of two, and segs tables of it
// have at most MaxMapBytes bytes unless it is 1.
func SegmentLimit(segs, groupBytes int) int {
	g := MaxMapBytes / max(groupBytes, 1) / max(segs, 1)
	if g < 1 {
		return 1
	}
	return min(MaxGroups, 1<<(bits.Len(uint(g))-1))
}

// FitGroups returns the smallest power-of-two number of groups, at most
// limit, whose load bound admits n used slots; ok is false if none does.
// limit is rounded down to a power of two and capped at MaxGroups. It
// never overflows: MaxUsed(MaxGroups) fits in int.
func FitGroups(n, limit int) (groups int, ok bool) {
	limit = min(max(limit, 1), MaxGroups)
	limit = 1 << (bits.Len(uint(limit)) - 1)
	if n > MaxUsed(limit) {
		return 0, false
	}
	g := 1
	for MaxUsed(g) < n {
		g <<= 1
	}
	return g, true
}

// GroupsFor returns the smallest power-of-two number of groups whose load
// bound admits n used slots. It panics if no table may hold that many
// (more than MaxUsed(MaxGroups)): a segment that would outgrow the largest
// table, which no machine of today can hold in memory anyway.
func GroupsFor(n int) int {
	g, ok := FitGroups(n, MaxGroups)
	if !ok {
		panic("table: GroupsFor: no table holds " + strconv.Itoa(n) + " slots")
	}
	return g
}
