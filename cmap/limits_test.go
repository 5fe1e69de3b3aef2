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
// size beyond the limit, those beyond it.
func unlayable(segs int) []int {
	limit := table.MaxUsed(table.SegmentLimit(segs)) // entries per segment
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
		limit := table.MaxUsed(table.SegmentLimit(segs))
		sizes := unlayable(segs)
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
