package stress

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Grow and shrink under readers: writers grow one map from empty to n keys
// and shrink it back to empty, cycle after cycle, n doubling from growMin
// to growMax as long as the budget allows, while readers Load random keys.
// Each key has a phase that its writer publishes around each operation, so
// a reader knows when a key must be found with its value (inserted before
// the Load, not being deleted by its end) and when it must not be found
// (deleted before the Load, or not being inserted by its end). After the
// growth the map holds exactly the n keys; after the shrink, nothing.

const (
	growMin = 1 << 10
	growMax = 1 << 16
)

// Key phases of the grow-shrink scenario, in the order they happen.
const (
	phaseAbsent    = iota // not yet inserted
	phaseInserting        // insert called
	phasePresent          // insert returned
	phaseDeleting         // delete called
	phaseDeleted          // delete returned
)

func growShrink(s *state, newMap func() Map) {
	m := newMap()
	base := s.rng().Uint64N(1 << 40)
	n := growMin
	cycle := uint64(0)
	defer func() { s.logf("%d cycles of growth and shrink, the largest to %d keys", cycle+1, n) }()
	for ; ; cycle++ {
		start := time.Now()
		growShrinkCycle(s, m, cycle, base, n)
		elapsed, left := time.Since(start), s.remaining()
		switch {
		case s.stopped() || elapsed >= left:
			return
		case n < growMax && 2*elapsed < left: // room for twice the keys, at linear cost
			n *= 2
		}
	}
}

// growShrinkCycle grows m from empty to the n keys base+i, i < n, and
// shrinks it back, under readers.
func growShrinkCycle(s *state, m Map, cycle, base uint64, n int) {
	writers := max(1, s.cfg.goroutines/2)
	readers := max(1, s.cfg.goroutines-writers)
	phase := make([]atomic.Uint32, n)
	key := func(i int) uint64 { return base + uint64(i) }
	// Each cycle stores other values, so that a value left over from an
	// earlier cycle is caught too.
	val := func(i int) uint64 { return valueFor(key(i), uint32(cycle)+1) }

	var quit atomic.Bool
	rgrp := s.group()
	for r := range readers {
		rgrp.Go(func() {
			rng := s.rng(cycle, 1, uint64(r))
			for !quit.Load() && !s.stopped() {
				i := rng.IntN(n)
				k := key(i)
				p1 := phase[i].Load()
				v, ok := m.Load(k)
				p2 := phase[i].Load()
				var bad string
				switch {
				case ok && v != val(i):
					bad = fmt.Sprintf("a value never stored under it in this cycle (want %#x)", val(i))
				case !ok && v != 0:
					bad = "a miss with a value other than 0"
				case !ok && p1 >= phasePresent && p2 <= phasePresent:
					bad = "a miss, but the key was present for the whole Load"
				case ok && (p1 == phaseDeleted || p2 == phaseAbsent):
					bad = "a hit, but the key was absent for the whole Load"
				}
				if bad != "" {
					s.errorf("cycle %d (n %d), reader %d: Load(%d) = (%#x, %t): %s (key phase %d before the Load, %d after; 0 absent, 2 present, 4 deleted)",
						cycle, n, r, k, v, ok, bad, p1, p2)
					return
				}
			}
		})
	}
	defer func() {
		quit.Store(true)
		rgrp.Wait()
	}()

	// writeAll runs the writers, each through its own keys in random
	// order, calling op on each until op reports a violation.
	writeAll := func(step uint64, op func(rng *rand.Rand, i int) string) {
		wgrp := s.group()
		for w := range writers {
			wgrp.Go(func() {
				rng := s.rng(cycle, 2+step, uint64(w))
				mine := make([]int, 0, n/writers+1)
				for i := w; i < n; i += writers {
					mine = append(mine, i)
				}
				rng.Shuffle(len(mine), func(a, b int) { mine[a], mine[b] = mine[b], mine[a] })
				for j, i := range mine {
					if j%64 == 0 && s.stopped() {
						return
					}
					if bad := op(rng, i); bad != "" {
						s.errorf("cycle %d (n %d), writer %d: %s", cycle, n, w, bad)
						return
					}
				}
			})
		}
		wgrp.Wait()
	}

	writeAll(0, func(rng *rand.Rand, i int) string {
		phase[i].Store(phaseInserting)
		bad := insertAbsent(m, rng, key(i), val(i))
		phase[i].Store(phasePresent)
		return bad
	})
	if s.stopped() {
		return
	}
	seen, bad := rangeOnce(m)
	if bad == "" {
		for k, v := range seen {
			if i := k - base; k < base || i >= uint64(n) || v != val(int(i)) {
				bad = fmt.Sprintf("Range visited key %d = %#x, which is not one of the keys stored", k, v)
				break
			}
		}
	}
	if bad == "" && len(seen) != n {
		bad = fmt.Sprintf("Range visited %d keys, want all %d", len(seen), n)
	}
	if bad != "" {
		s.errorf("cycle %d, grown to %d keys: %s", cycle, n, bad)
		return
	}

	writeAll(1, func(rng *rand.Rand, i int) string {
		phase[i].Store(phaseDeleting)
		bad := deletePresent(m, rng, key(i), val(i))
		phase[i].Store(phaseDeleted)
		return bad
	})
	if s.stopped() {
		return
	}
	quit.Store(true)
	rgrp.Wait()
	for i := range n {
		if v, ok := m.Load(key(i)); ok || v != 0 {
			s.errorf("cycle %d, shrunk from %d keys to none: Load(%d) = (%#x, %t), want (0, false)", cycle, n, key(i), v, ok)
			return
		}
	}
	if seen, bad := rangeOnce(m); bad != "" || len(seen) != 0 {
		s.errorf("cycle %d, shrunk from %d keys to none: Range visited %d keys %s", cycle, n, len(seen), bad)
	}
}
