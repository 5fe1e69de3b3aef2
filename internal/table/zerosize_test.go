package table

import (
	"fmt"
	"testing"
)

// TestZeroSizeValueLastSlot reads, through the home-group steps of cmap's
// Load (FlatHome and ArenaHome, then Value), a key in slot 6 of a table's
// last group, with zero-size values (a set). The address of such a value
// is the slot's end, one past the table's allocation there: forming it is
// what checkptr (on under -race) rejects, so this test is meant for -race,
// where a Value that forms it fails the run. Every key of a home group is
// inserted into its first free slot, so the seventh key of group 1 (the
// last of two) lands in slot 6.
func TestZeroSizeValueLastSlot(t *testing.T) {
	const groups = 2
	home := func(k uint64) uint64 { return k<<32 | (groups - 1) } // group 1, tag from k
	t.Run("flat", func(t *testing.T) {
		f := NewFlat[uint64, struct{}](groups)
		for k := range uint64(SlotsPerGroup) {
			_, _, free, _ := f.Locate(home(k), k)
			if k == SlotsPerGroup-1 && free != Pos((groups-1)*8+6) {
				t.Fatalf("the seventh key goes to %d, not slot 6 of group %d", free, groups-1)
			}
			f.Insert(free, home(k), k, struct{}{})
		}
		tt := wrapFlat(f)
		for k := range uint64(SlotsPerGroup) {
			g, found := tt.FlatHome(home(k)), false
			for m := g.Matches(); m != 0; m &= m - 1 {
				if g.Key(g.Slot(m)) == k {
					_ = g.Value(g.Slot(m))
					found = true
				}
			}
			if !found || !g.Settled(home(k), true) {
				t.Fatalf("key %d not found in its home group", k)
			}
		}
	})
	t.Run("arena", func(t *testing.T) {
		a := NewArena[string, struct{}](groups)
		key := func(k uint64) string { return fmt.Sprint("k", k) }
		for k := range uint64(SlotsPerGroup) {
			_, _, free, _ := a.Locate(home(k), key(k))
			a.Insert(free, home(k), key(k), struct{}{})
		}
		tt := wrapArena(a)
		for k := range uint64(SlotsPerGroup) {
			g, found := tt.ArenaHome(home(k)), false
			for m := g.Matches(); m != 0; m &= m - 1 {
				if r := g.Ref(g.Slot(m)); g.Check(r, home(k)) && g.Is(g.Chunk(r), r, key(k)) {
					_ = g.Value(g.Slot(m))
					found = true
				}
			}
			if !found || !g.Settled(home(k), true) {
				t.Fatalf("key %q not found in its home group", key(k))
			}
		}
	})
}
