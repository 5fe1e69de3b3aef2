package cmap_test

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/segmap/segmap/cmap"
	"github.com/segmap/segmap/internal/table"
)

// unlayable returns sizes whose tables cannot be laid out over segs
// segments on this platform, because their mean share of a segment is
// more than the largest table holds: of math.MaxInt and its neighbours,
// sizes whose share arithmetic overflows int (int32 on 32-bit platforms),
// 2^60 (2^28 on 32-bit platforms), 2^40 (on 64-bit ones) and the first
// size beyond the limit, those beyond it. limit is the most entries per
// segment (perSegment).
func unlayable(segs, limit int) []int {
	sizes := []int{
		math.MaxInt, math.MaxInt - 1,
		math.MaxInt/8*7 + 1, // share + share/7 overflows
		math.MaxInt/49 + 1,  // × 49 (MaxUsed's arithmetic) overflows
		segs*limit + 1,      // one past the largest layout
		1 << (strconv.IntSize - 4),
	}
	if strconv.IntSize == 64 {
		sizes = append(sizes, 1<<(strconv.IntSize-24))
	}
	return slices.DeleteFunc(sizes, func(n int) bool { return n <= segs*limit })
}

// TestSizesThatCannotBeLaidOut: WithCapacity, WithMaxLen(…, RejectNew) and
// Reserve with sizes beyond the largest tables panic at once, naming the
// option or method, the size and the limit, and leave the map unchanged;
// none loops, overflows, or dies out of memory.
func TestSizesThatCannotBeLaidOut(t *testing.T) {
	for _, segs := range []int{1, 16, 65536} {
		limit := perSegment[int, int](segs, true) // int → int maps are flat
		sizes := unlayable(segs, limit)
		if segs == 1 && len(sizes) < 5 {
			t.Fatalf("one segment: only %v are beyond the limit", sizes)
		}
		for _, n := range sizes {
			want := func(fn string) string {
				return fmt.Sprintf("cmap: %s: %d entries cannot be laid out", fn, n)
			}
			withSegs := cmap.WithSegments(segs)
			mustPanic(t, want("WithCapacity"), func() { cmap.New[int, int](withSegs, cmap.WithCapacity(n)) })
			mustPanic(t, want("WithMaxLen"), func() { cmap.New[int, int](withSegs, cmap.WithMaxLen(n, cmap.RejectNew)) })
			mustPanic(t, fmt.Sprintf("at most %d per segment", limit), func() { cmap.New[int, int](withSegs, cmap.WithCapacity(n)) })

			m := cmap.New[int, int](withSegs)
			model := map[int]int{}
			for k := range 100 {
				m.Store(k, k)
				model[k] = k
			}
			before := m.TableGroups()
			mustPanic(t, want("Reserve"), func() { m.Reserve(n) })
			if got := m.TableGroups(); !slices.Equal(got, before) {
				t.Fatalf("Reserve(%d) that panicked changed the tables", n)
			}
			if !maps.Equal(contents(m), model) {
				t.Fatalf("Reserve(%d) that panicked changed the entries", n)
			}
			check(t, m)
			m.Store(-1, -1) // still writable
		}
	}
}

// perSegment returns the most entries that each of segs segments of a map
// of K and V may be laid out for, in its layout (flat or entries).
func perSegment[K comparable, V any](segs int, flat bool) int {
	return table.MaxUsed(table.SegmentLimit(segs, table.LayoutGroupBytes[K, V](flat)))
}

// wide is the largest flat key or value: groups of 2 + 7 × 8 words, 464
// bytes.
type wide = [4]uint64

// TestLimitsFollowGroupSize: the sizes that can be laid out follow the
// group size of the map's layout, here 464-byte flat groups of [4]uint64
// keys and values: each of S segments has at most min(MaxGroups,
// 2^48/464/S rounded down to a power of two) groups on 64-bit platforms
// (2^32 for 1 and 16 segments, 2^23 for 65536) and min(2^24, 1.25 GiB/464/S)
// on 32-bit ones (2^21, 2^17, 2^5). One size past that panics, naming
// WithCapacity, WithMaxLen or Reserve, the limit and the group size, before
// anything is allocated, instead of allocating more than the address space
// (or, on 32-bit platforms, panicking in the runtime's makeslice). The
// entry layout (forced) keeps its own, larger limit.
func TestLimitsFollowGroupSize(t *testing.T) {
	if g := table.LayoutGroupBytes[wide, wide](true); g != 464 {
		t.Fatalf("[4]uint64 flat groups of %d bytes, want 464", g)
	}
	ceiling := map[int]int{1: 1 << 21, 16: 1 << 17, 65536: 1 << 5} // groups per segment, 32-bit
	if strconv.IntSize == 64 {
		ceiling = map[int]int{1: table.MaxGroups, 16: table.MaxGroups, 65536: 1 << 23} // MaxGroups: 2^32
	}
	for segs, groups := range ceiling {
		limit := table.MaxUsed(groups)
		if got := perSegment[wide, wide](segs, true); got != limit {
			t.Fatalf("%d segments: at most %d entries per segment, want %d (%d groups)", segs, got, limit, groups)
		}
		withSegs := cmap.WithSegments(segs)
		if m := cmap.New[wide, wide](withSegs); m.Stats().Layout != "flat" {
			t.Fatalf("layout %q", m.Stats().Layout)
		}
		n := segs*limit + 1 // a mean share one past the limit
		msg := func(fn string) string {
			return fmt.Sprintf("cmap: %s: %d entries cannot be laid out", fn, n)
		}
		tail := fmt.Sprintf("at most %d per segment, in groups of 464 bytes)", limit)
		mustPanic(t, msg("WithCapacity"), func() { cmap.New[wide, wide](withSegs, cmap.WithCapacity(n)) })
		mustPanic(t, tail, func() { cmap.New[wide, wide](withSegs, cmap.WithCapacity(n)) })
		mustPanic(t, msg("WithMaxLen"), func() { cmap.New[wide, wide](withSegs, cmap.WithMaxLen(n, cmap.RejectNew)) })
		mustPanic(t, tail, func() { cmap.New[wide, wide](withSegs, cmap.WithMaxLen(n, cmap.RejectNew)) })
		m := cmap.New[wide, wide](withSegs)
		m.Store(wide{1}, wide{2})
		mustPanic(t, msg("Reserve"), func() { m.Reserve(n) })
		mustPanic(t, tail, func() { m.Reserve(n) })
		if v, ok := m.Load(wide{1}); !ok || v != (wide{2}) || m.Len() != 1 {
			t.Fatal("a Reserve that panicked changed the map")
		}
		check(t, m)

		// The entry layout's groups are smaller: the limit is its own.
		cmap.ForceEntryLayout(true)
		e := cmap.New[wide, wide](withSegs)
		cmap.ForceEntryLayout(false)
		entryLimit := perSegment[wide, wide](segs, false)
		if entryLimit < limit {
			t.Fatalf("%d segments: entry layout limit %d below the flat one %d", segs, entryLimit, limit)
		}
		mustPanic(t, fmt.Sprintf("at most %d per segment, in groups of %d bytes)", entryLimit, table.GroupBytes),
			func() { e.Reserve(segs*entryLimit + 1) })
	}
}

// TestLimitsFlat32 is the case that 32-bit platforms once got wrong:
// WithCapacity(82208358) with one segment is within the entry layout's
// limit (2^24 groups × 4.9), but 2^24 flat groups of 464 bytes are more
// than a 32-bit address space, and make panicked in the runtime
// ("makeslice: len out of range"). It panics with the map's message
// instead, for WithCapacity, WithMaxLen(…, RejectNew) and Reserve. On
// 64-bit platforms the size is within the limits, so the test checks only
// what the message would be there.
func TestLimitsFlat32(t *testing.T) {
	const n = 82208358 // table.MaxUsed(1 << 24)
	if table.MaxUsed(1<<24) != n {
		t.Fatalf("MaxUsed(2^24) = %d", table.MaxUsed(1<<24))
	}
	if strconv.IntSize == 64 {
		if perSegment[wide, wide](1, true) < n {
			t.Fatal("64-bit: 82208358 entries of one segment refused")
		}
		t.Skip("64-bit platform: the size can be laid out (GOARCH=386 runs the case)")
	}
	want := "at most 10276044 per segment, in groups of 464 bytes)" // MaxUsed(2^21)
	one := cmap.WithSegments(1)
	mustPanic(t, "cmap: WithCapacity: 82208358 entries cannot be laid out", func() { cmap.New[wide, wide](one, cmap.WithCapacity(n)) })
	mustPanic(t, want, func() { cmap.New[wide, wide](one, cmap.WithCapacity(n)) })
	mustPanic(t, "cmap: WithMaxLen: 82208358 entries cannot be laid out", func() { cmap.New[wide, wide](one, cmap.WithMaxLen(n, cmap.RejectNew)) })
	m := cmap.New[wide, wide](one)
	mustPanic(t, "cmap: Reserve: 82208358 entries cannot be laid out", func() { m.Reserve(n) })
	mustPanic(t, want, func() { m.Reserve(n) })
}

// TestHugeBoundsWithoutLayout: WithMaxLen(n, EvictOldest) lays nothing
// out, so any n is a valid bound.
func TestHugeBoundsWithoutLayout(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(1), cmap.WithMaxLen(math.MaxInt, cmap.EvictOldest))
	for k := range 100 {
		m.Store(k, k)
	}
	if m.Len() != 100 {
		t.Fatalf("Len = %d", m.Len())
	}
	check(t, m)
}
