package stress

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
)

// Clear, for maps that have it (sync.Map's signature): a Clear deletes
// every key at one instant between its call and its return. Two scenarios
// check it, both while background goroutines grow and shrink the map with
// keys of their own, so that Clears meet resizes:
//
//   - clear-linearizability: the linearizability scenario's histories with
//     Clear among the operations, projected onto each key as a delete of
//     that key within the Clear's interval.
//   - clear-atomic: a writer stores fresh keys one after another, each
//     once, round after round, while Clears run; after each round, its keys
//     still present must be a suffix of the order it stored them in (a key
//     stored after a Clear survives it, and so does every key stored after
//     that one; a Clear that removes a later key but keeps an earlier one
//     was not one instant). A clearer alternates Store(k); Clear(); Load(k)
//     on keys of its own (the Load must miss: nobody else stores k) with a
//     Clear called while the grower seems stuck in one Store, as in a
//     table rebuild, after which the grower's keys stored before the call
//     must be gone. One goroutine of each kind: on few cores, more would
//     help with rebuilds and keep the clearer off the processor while they
//     run.
//
// A map without Clear skips both, and its test log says so.

// clearer is a map with sync.Map's Clear.
type clearer interface{ Clear() }

// background grows and shrinks a map from goroutines of its own, on keys
// of its own (the top two bits 01), to make the map resize under the
// operations being checked. Each grower publishes how far it got in the
// growth of its current cycle, so that a Clear can be checked against the
// keys stored before it was called (see clearedAll).
type background struct {
	growers int // goroutines
	keys    int // each grows the map by this many keys, then shrinks it
	// marks[w] is grower w's cycle<<16 | the count of its keys stored in
	// the growth of that cycle; the count is 0 while it shrinks the map.
	marks []atomic.Uint64
}

func newBackground(growers, keys int) *background {
	return &background{growers: growers, keys: keys, marks: make([]atomic.Uint64, growers)}
}

// bgKey is background key i of grower w in cycle c.
func bgKey(w int, c uint64, i int) uint64 {
	return 1<<62 | uint64(w)<<54 | (c&(1<<38-1))<<16 | uint64(i)
}

// ownsFunc returns a function reporting whether k, holding v, is a
// background key; nil for a nil background.
func (bg *background) ownsFunc() func(k, v uint64) bool {
	if bg == nil {
		return nil
	}
	return func(k, v uint64) bool { return k>>62 == 1 && belongs(k, v) }
}

// start starts the growers on m and returns the function that stops them
// and waits for them. A nil background starts nothing.
func (bg *background) start(s *state, m Map) (stop func()) {
	if bg == nil {
		return func() {}
	}
	var quit atomic.Bool
	grp := s.group()
	for w := range bg.growers {
		grp.Go(func() {
			for c := uint64(0); !quit.Load() && !s.stopped(); c++ {
				for i := 0; i < bg.keys && (i%64 != 0 || !quit.Load()); i++ {
					k := bgKey(w, c, i)
					m.Store(k, valueFor(k, 1))
					bg.marks[w].Store(c<<16 | uint64(i+1))
				}
				bg.marks[w].Store(c << 16)
				for i := 0; i < bg.keys && (i%64 != 0 || !quit.Load()); i++ {
					m.Delete(bgKey(w, c, i))
				}
			}
		})
	}
	return func() {
		quit.Store(true)
		grp.Wait()
	}
}

// waitForStall waits until grower 0 has grown the map by a random number
// of keys and then seems stuck in one Store, as in a rebuild of a table,
// or has gone on for a while: the moment most likely to find the map
// resizing, when a Clear must still remove every key stored before it.
func (bg *background) waitForStall(s *state, rng *rand.Rand) {
	target := uint64(64 + rng.IntN(bg.keys/2))
	last, same := bg.marks[0].Load(), 0
	for n := 0; n < 1<<18 && !s.expired(); n++ {
		mark := bg.marks[0].Load()
		if mark != last {
			last, same = mark, 0
			continue
		}
		if same++; mark&0xffff >= target && same >= 64 {
			return
		}
	}
}

// clearedAll calls Clear on m and checks that it removed the growers' keys
// stored before it was called (the last and one picked by rng, of each):
// they are never stored again. It describes the first it did not remove.
func (bg *background) clearedAll(m Map, rng *rand.Rand) string {
	before := make([]uint64, len(bg.marks))
	for w := range bg.marks {
		before[w] = bg.marks[w].Load()
	}
	m.(clearer).Clear()
	for w, mark := range before {
		c, n := mark>>16, int(mark&0xffff)
		if n == 0 {
			continue
		}
		for _, i := range []int{n - 1, rng.IntN(n)} {
			k := bgKey(w, c, i)
			if v, ok := m.Load(k); ok || v != 0 {
				return fmt.Sprintf("grower %d stored key %d (#%d of its cycle %d) before Clear() was called, and never stores it again; after the Clear returned, Load(%d) = (%#x, %t), want (0, false): the Clear did not remove it",
					w, k, i, c, k, v, ok)
			}
		}
	}
	return ""
}

// hasClear makes a map with newMap and reports whether it has Clear; if not,
// it marks the scenario skipped.
func hasClear(s *state, newMap func() Map) bool {
	if _, ok := newMap().(clearer); ok {
		return true
	}
	s.skip("the map has no Clear() method; the Clear checks are skipped")
	return false
}

func clearLinearizability(s *state, newMap func() Map) {
	if !hasClear(s, newMap) {
		return
	}
	linRounds(s, newMap, newBackground(2, 1024))
}

// clearWriterKeys is how many fresh keys the writer of clear-atomic stores
// per round.
const clearWriterKeys = 256

// seqKey is the ith key that writer w stores in round r of clear-atomic
// (top bit 1), and ownKey the nth key of clearer c (top bits 001).
func seqKey(r uint64, w, i int) uint64 { return 1<<63 | r<<24 | uint64(w)<<16 | uint64(i) }
func ownKey(c int, n uint64) uint64    { return 1<<61 | uint64(c)<<40 | n&(1<<40-1) }

func clearAtomic(s *state, newMap func() Map) {
	if !hasClear(s, newMap) {
		return
	}
	m := newMap()
	writers, clearers := 1, 1 // see the scenario's description
	bg := newBackground(1, 4096)
	stopBg := bg.start(s, m)
	var clears, rounds atomic.Int64
	defer func() {
		s.logf("%d rounds of %d keys by %d writers under %d clearers (%d Clears) and %d growers",
			rounds.Load(), clearWriterKeys, writers, clearers, clears.Load(), bg.growers)
	}()
	grp := s.group()
	for w := range writers {
		grp.Go(func() {
			for r := uint64(0); !s.expired(); r++ {
				for i := range clearWriterKeys {
					k := seqKey(r, w, i)
					m.Store(k, valueFor(k, 1))
				}
				if bad := checkSuffix(m, r, w); bad != "" {
					s.errorf("round %d, writer %d: %s", r, w, bad)
					return
				}
				// Checked: delete them, so that the map holds at most
				// one round of them whatever the Clears' rate (a
				// bounded map that never fills must not fill here).
				for i := range clearWriterKeys {
					m.Delete(seqKey(r, w, i))
				}
				rounds.Add(1)
			}
		})
	}
	for c := range clearers {
		grp.Go(func() {
			rng := s.rng(1, uint64(c))
			for n := uint64(0); !s.expired(); n++ {
				bad := ""
				if n%2 == 0 {
					bad = storeClearLoad(m, c, n)
				} else {
					bg.waitForStall(s, rng)
					bad = bg.clearedAll(m, rng)
				}
				if bad != "" {
					s.errorf("clearer %d: %s", c, bad)
					return
				}
				clears.Add(1)
			}
		})
	}
	grp.Wait()
	stopBg()
}

// storeClearLoad stores clearer c's nth key, which nobody else stores,
// calls Clear, and loads the key: it must be gone.
func storeClearLoad(m Map, c int, n uint64) string {
	k := ownKey(c, n)
	m.Store(k, valueFor(k, 1))
	m.(clearer).Clear()
	if v, ok := m.Load(k); ok || v != 0 {
		return fmt.Sprintf("Store(%d, %#x); Clear(); Load(%d) = (%#x, %t), want (0, false): nobody else stores that key, so the Clear that returned in between did not remove it",
			k, valueFor(k, 1), k, v, ok)
	}
	return ""
}

// checkSuffix checks that the keys writer w stored in round r, one after
// another, each once, that are still in m form a suffix of that order,
// with their values; it describes the first violation. It reads them
// backwards, so that Clears running meanwhile cannot make a correct map
// fail: a key found absent stays absent, and a key found present later
// was present then too.
func checkSuffix(m Map, r uint64, w int) string {
	gone := -1 // a key found gone
	for i := clearWriterKeys - 1; i >= 0; i-- {
		k := seqKey(r, w, i)
		v, ok := m.Load(k)
		switch {
		case ok && v != valueFor(k, 1):
			return fmt.Sprintf("Load(%d) = %#x, want %#x", k, v, valueFor(k, 1))
		case !ok && gone < 0:
			gone = i
		case ok && gone >= 0:
			return fmt.Sprintf("it stored its keys one after another, each once, while Clears ran: its key #%d (%d) is still there but its key #%d (%d), stored later, is gone: a Clear removed a key stored after one it left, so it did not take effect at one instant",
				i, k, gone, seqKey(r, w, gone))
		}
	}
	return ""
}
