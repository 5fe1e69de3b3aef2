package table

import (
	"math"
	"testing"
)

// TestLayoutLimits: LayoutGroupBytes is the real size of a group of either
// layout, and SegmentLimit bounds the bytes of the tables laid out for a
// map by MaxMapBytes whatever the group size, with lengths that make
// accepts (a flat table's words fit in int).
func TestLayoutLimits(t *testing.T) {
	check := func(name string, got, words int) {
		t.Helper()
		if got != 8*words {
			t.Errorf("%s: LayoutGroupBytes = %d, a group has %d bytes", name, got, 8*words)
		}
	}
	check("[4]uint64 → [4]uint64", LayoutGroupBytes[[4]uint64, [4]uint64](true), len(NewFlat[[4]uint64, [4]uint64](1).words))
	check("uint64 → uint64", LayoutGroupBytes[uint64, uint64](true), len(NewFlat[uint64, uint64](1).words))
	check("int8 → struct{}", LayoutGroupBytes[int8, struct{}](true), len(NewFlat[int8, struct{}](1).words))
	if LayoutGroupBytes[[4]uint64, [4]uint64](false) != GroupBytes || LayoutGroupBytes[[4]uint64, [4]uint64](true) != 464 {
		t.Errorf("[4]uint64 → [4]uint64: %d-byte entry groups, %d-byte flat groups", LayoutGroupBytes[[4]uint64, [4]uint64](false), LayoutGroupBytes[[4]uint64, [4]uint64](true))
	}
	for _, gb := range []int{GroupBytes, 24, 128, 464} {
		for segs := 1; segs <= 1<<16; segs <<= 1 {
			g := SegmentLimit(segs, gb)
			if g < 1 || g > MaxGroups || g&(g-1) != 0 {
				t.Fatalf("SegmentLimit(%d, %d) = %d", segs, gb, g)
			}
			if g > 1 && g > MaxMapBytes/gb/segs {
				t.Fatalf("SegmentLimit(%d, %d) = %d: %d tables of %d bytes each exceed MaxMapBytes", segs, gb, g, segs, g*gb)
			}
			if 2*g <= MaxGroups && 2*g <= MaxMapBytes/gb/segs {
				t.Fatalf("SegmentLimit(%d, %d) = %d: twice as many fit", segs, gb, g)
			}
			if words := g * (gb / 8); words <= 0 || words > math.MaxInt/8 {
				t.Fatalf("SegmentLimit(%d, %d) = %d: %d words overflow", segs, gb, g, words)
			}
		}
	}
}
