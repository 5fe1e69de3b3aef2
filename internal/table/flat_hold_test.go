package table

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/segmap/segmap/internal/release"
)

// holdStore writes key, hashed h, and v into table f with FlatHold's steps,
// as cmap's light write does, if the home group settles it: it reports
// false if the write needs the general path (the key is beyond the home
// group, or absent and the group does not stop probes).
func holdStore[K comparable, V any](f *Flat[K, V], h uint64, key K, v V) bool {
	g := f.Hold(h)
	if !g.TryLock() {
		panic("group locked")
	}
	defer g.Unlock()
	ctrl := g.Ctrl()
	for m := g.Match(ctrl, h); m != 0; m &= m - 1 {
		if i := g.Slot(m); g.Key(i) == key {
			if p, w := g.KeyWord(i, key); atomic.LoadUint64(p) != w {
				release.Store(p, w)
			}
			release.Store(g.ValueWord(i, v))
			return true
		}
	}
	j, _, ok := g.Room(ctrl)
	if !ok {
		return false
	}
	g.Insert(ctrl, j, h, key, v)
	return true
}

// holdDelete deletes key, hashed h, from f with FlatHold's steps if it is
// in its home group; it reports whether it was.
func holdDelete[K comparable, V any](f *Flat[K, V], h uint64, key K) bool {
	g := f.Hold(h)
	if !g.TryLock() {
		panic("group locked")
	}
	ctrl := g.Ctrl()
	for m := g.Match(ctrl, h); m != 0; m &= m - 1 {
		if i := g.Slot(m); g.Key(i) == key {
			p, w, _ := g.DeleteWord(ctrl, i)
			release.Store(p, w)
			g.UnlockBump()
			return true
		}
	}
	g.Unlock()
	return false
}

// TestFlatHoldMatchesFlat: random stores and deletes, each made through
// FlatHold's steps (as cmap's light writes make them) on one table and
// through Locate, Insert, Replace and Delete on another, leave the two
// tables' words identical after every operation: the same slot chosen,
// the same ctrl bytes (EMPTY or TOMBSTONE by the same rule), the same
// version bumps, the same key bits (a float key -0 replacing +0). Writes
// that the home group does not settle go through Flat on both tables.
// Keys are drawn from few values with hashes that crowd few groups, so
// that groups fill, keys spill past their home group and tombstones
// appear.
func TestFlatHoldMatchesFlat(t *testing.T) {
	t.Run("uint64", func(t *testing.T) {
		holdMatchesFlat(t, func(r *rand.Rand) uint64 { return uint64(r.IntN(40)) }, func(k uint64) uint64 { return k % 3 << 32 * 0x9E3779B1 })
	})
	t.Run("float64", func(t *testing.T) {
		holdMatchesFlat(t, func(r *rand.Rand) float64 {
			if r.IntN(4) == 0 {
				return math.Copysign(0, float64(r.IntN(2)*2-1)) // +0 or -0: equal keys with other bits
			}
			return float64(r.IntN(30))
		}, func(k float64) uint64 { return uint64(math.Abs(k)) % 3 << 32 * 0x9E3779B1 })
	})
	t.Run("uint8-set", func(t *testing.T) {
		// a key narrower than its word, and no value words
		holdMatchesSet(t)
	})
}

func holdMatchesFlat[K comparable](t *testing.T, key func(*rand.Rand) K, hash func(K) uint64) {
	r := rand.New(rand.NewPCG(1, 2))
	a, b := NewFlat[K, uint64](4), NewFlat[K, uint64](4)
	held := 0
	for n := range 20000 {
		k := key(r)
		h := hash(k)
		if r.IntN(3) == 0 {
			if holdDelete(a, h, k) {
				held++
			} else if p, found, _, _ := a.Locate(h, k); found {
				a.Delete(p)
			}
			if p, found, _, _ := b.Locate(h, k); found {
				b.Delete(p)
			}
		} else {
			v := uint64(n)
			if holdStore(a, h, k, v) {
				held++
			} else {
				flatStore(a, h, k, v)
			}
			flatStore(b, h, k, v)
		}
		if !slices.Equal(a.words, b.words) {
			t.Fatalf("op %d (key %v): FlatHold's table differs from Flat's:\n%x\n%x", n, k, a.words, b.words)
		}
		if flatUsed(a) > 18 { // keep the tables from filling: start again
			a, b = NewFlat[K, uint64](4), NewFlat[K, uint64](4)
		}
	}
	if held < 5000 {
		t.Fatalf("only %d of 20000 writes settled in the home group: the test does not exercise FlatHold", held)
	}
}

// flatStore stores key and v with Flat's methods.
func flatStore[K comparable, V any](f *Flat[K, V], h uint64, key K, v V) {
	if p, found, free, _ := f.Locate(h, key); found {
		f.Replace(p, key, v)
	} else {
		f.Insert(free, h, key, v)
	}
}

func holdMatchesSet(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a, b := NewFlat[uint8, struct{}](2), NewFlat[uint8, struct{}](2)
	for n := range 5000 {
		k := uint8(r.IntN(12))
		h := uint64(k%2) << 32 * 0x9E3779B1
		if r.IntN(2) == 0 {
			g := a.Hold(h)
			g.TryLock()
			ctrl := g.Ctrl()
			i := -1
			for m := g.Match(ctrl, h); m != 0; m &= m - 1 {
				if j := g.Slot(m); g.Key(j) == k {
					i = j
					break
				}
			}
			if j, _, ok := g.Room(ctrl); i < 0 && ok {
				g.Insert(ctrl, j, h, k, struct{}{})
			} else if i < 0 {
				flatStore(a, h, k, struct{}{})
			}
			g.Unlock()
			flatStore(b, h, k, struct{}{})
		} else {
			if p, found, _, _ := a.Locate(h, k); !holdDelete(a, h, k) && found {
				a.Delete(p)
			}
			if p, found, _, _ := b.Locate(h, k); found {
				b.Delete(p)
			}
		}
		if !slices.Equal(a.words, b.words) {
			t.Fatalf("op %d (key %d): FlatHold's table differs from Flat's:\n%x\n%x", n, k, a.words, b.words)
		}
		if flatUsed(a) > 9 {
			a, b = NewFlat[uint8, struct{}](2), NewFlat[uint8, struct{}](2)
		}
	}
}

// flatUsed returns the slots of f that are not EMPTY: keys and tombstones.
func flatUsed[K comparable, V any](f *Flat[K, V]) int {
	n := 0
	for g := range uint64(f.Groups()) {
		ctrl := loadCtrl(f.group(g))
		n += bits.OnesCount64(uint64(matchFree(ctrl)&^matchEmpty(ctrl))) + bits.OnesCount64(uint64(matchFull(ctrl)))
	}
	return n
}

// TestFlatHoldInsertPublishesLast: FlatHold.Insert stores the slot's key
// and value words before the ctrl word that publishes them: at the
// publication hook, between the two, a reader does not find the key yet,
// and the slot already holds the key and the value, so that a reader that
// loads the new ctrl word reads them. (With the ctrl store first, the
// reader finds the key with the slot's old value word.)
func TestFlatHoldInsertPublishesLast(t *testing.T) {
	f := NewFlat[uint64, uint64](2)
	const h = 5<<32 | 1 // home group 1
	for k := uint64(1); k <= 3; k++ {
		flatStore(f, h, k, k)
	}
	g := f.Hold(h)
	if !g.TryLock() {
		t.Fatal("TryLock failed on a free group")
	}
	ctrl := g.Ctrl()
	j, empty, ok := g.Room(ctrl)
	if !ok || !empty {
		t.Fatalf("Room: slot %d, empty %v, ok %v in a group of three keys", j, empty, ok)
	}
	called := false
	flatPublishHook = func() {
		called = true
		if v, found := f.Find(h, 9); found {
			t.Errorf("a reader found key 9 (value %d) before its ctrl byte was stored", v)
		}
		grp, s := f.slotWords(Pos(1<<3 + j))
		if k, v := atomic.LoadUint64(&grp[s]), atomic.LoadUint64(&grp[s+1]); k != 9 || v != 90 {
			t.Errorf("at publication the slot holds key %d, value %d; want 9, 90", k, v)
		}
	}
	defer func() { flatPublishHook = nil }()
	g.Insert(ctrl, j, h, 9, 90)
	g.Unlock()
	if !called {
		t.Fatal("Insert did not reach the publication hook")
	}
	if v, found := f.Find(h, 9); !found || v != 90 {
		t.Fatalf("Find(9) = %d, %v after the insert", v, found)
	}
}
