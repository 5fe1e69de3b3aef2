package table

import (
	"fmt"
	"testing"
)

// TestFindAfter checks FindAfter, the probe that cmap's Load continues
// with when a key's home group is full and lacks it, against Find, on
// tables whose groups are full: the home group full, a key beyond it in
// the next group, and (beyond the load bound, which keeps a group that
// stops probes in every table) a table of one full group, where
// FindAfter must probe the home group again and end there rather than
// run on. Each key of one-group and two-group tables: the present ones
// where the home group lacks them, and absent ones.
func TestFindAfter(t *testing.T) {
	hashOf := func(k uint64, groups uint64) uint64 {
		// home group k % groups, tag and check bits from k
		return k%groups | (k*0x9E3779B97F4A7C15)&^0xFFFF
	}
	for _, groups := range []uint64{1, 2, 4} {
		t.Run(fmt.Sprintf("groups=%d", groups), func(t *testing.T) {
			f := NewFlat[uint64, uint64](int(groups))
			a := NewArena[string, uint64](int(groups))
			key := func(k uint64) string { return fmt.Sprintf("key-%d", k) }
			// Fill every slot: keys homed in group 0 first, then the
			// rest; with groups > 1, keys of group 0 overflow into group 1.
			present := map[uint64]Pos{}
			next := uint64(0)
			for g := range groups {
				for i := range SlotsPerGroup {
					k := next * groups // home group 0
					if g > 0 && i >= SlotsPerGroup/2 {
						k = next*groups + g // home group g
					}
					next++
					p := Pos(g<<3) + Pos(i)
					f.Insert(p, hashOf(k, groups), k, k+1)
					a.Insert(p, hashOf(k, groups), key(k), k+1)
					present[k] = p
				}
			}
			check := func(k uint64) {
				h := hashOf(k, groups)
				_, in := present[k]
				if v, ok := f.FindAfter(h, k); ok != in || ok && v != k+1 {
					t.Errorf("flat FindAfter(%d) = %d, %v; want %v", k, v, ok, in)
				}
				if v, ok := a.FindAfter(h, key(k)); ok != in || ok && v != k+1 {
					t.Errorf("arena FindAfter(%q) = %d, %v; want %v", key(k), v, ok, in)
				}
				if v, ok := f.Find(h, k); ok != in || ok && v != k+1 {
					t.Errorf("flat Find(%d) = %d, %v; want %v", k, v, ok, in)
				}
			}
			for k, p := range present {
				// FindAfter's contract: the home group lacks the key.
				if uint64(p)>>3 != hashOf(k, groups)&(groups-1) || groups == 1 {
					check(k)
				}
			}
			for k := range uint64(64) {
				if _, in := present[k+1000]; !in {
					check(k + 1000)
				}
			}
		})
	}
}
