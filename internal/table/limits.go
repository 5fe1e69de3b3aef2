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
// bits below 32) stays independent of the tag (bits 32..38). MaxMapGroups
// bounds the tables of one map laid out at once: their bytes must fit in
// the address space that Go's heap can have, 2^48 bytes on 64-bit
// platforms, and half the 4 GiB on 32-bit ones. These are limits of
// arithmetic and address space, not of memory: a layout within them that
// the machine cannot back fails as make does (the runtime's fatal "out of
// memory").
const (
	// GroupBytes is the size of a group: its ctrl word and SlotsPerGroup
	// pointers, rounded up to 8 bytes (64 on 64-bit platforms, 40 on
	// 32-bit ones).
	GroupBytes = (8 + SlotsPerGroup*bits.UintSize/8 + 7) &^ 7
	// MaxGroups is the most groups a table may have: 2^32 on 64-bit
	// platforms (256 GiB of groups), 2^24 on 32-bit ones (640 MiB).
	MaxGroups = 1 << (24 + 8*(bits.UintSize/64))
	// MaxMapGroups is the most groups the tables of one map may have when
	// laid out together: 2^42 (2^48 bytes) on 64-bit platforms, 2^25
	// (1.25 GiB) on 32-bit ones.
	MaxMapGroups = 1 << (25 + 17*(bits.UintSize/64))
)

// SegmentLimit returns the most groups that each of segs segments (a
// power of two >= 1) may be laid out with: MaxGroups, or less if segs
// tables of MaxGroups would exceed MaxMapGroups. It is a power of two.
func SegmentLimit(segs int) int {
	return max(1, min(MaxGroups, MaxMapGroups/max(segs, 1)))
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
