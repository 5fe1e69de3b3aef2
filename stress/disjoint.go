package stress

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
)

// Disjoint writers: every goroutine owns a range of keys that no other
// goroutine writes, so it knows exactly what each of its operations must
// return, and checks every result against a private model. A ranger checks
// Range meanwhile. At the end of each round the map must equal the union of
// the models, key by key (Load) and as a whole (a Range that finds every
// key with its value and no other key).

const (
	disjointKeys = 128 // keys each writer owns
	disjointOps  = 16 * disjointKeys
)

// disjointOpNames names the operations of a disjoint writer, for messages.
var disjointOpNames = [...]string{"none", "Load", "Store", "LoadOrStore", "LoadAndDelete", "Delete", "Swap", "CompareAndSwap", "CompareAndDelete"}

func disjointWriters(s *state, newMap func() Map) {
	g := s.cfg.goroutines
	round := uint64(0)
	defer func() {
		s.logf("%d rounds of %d writers × %d operations on %d keys each", round, g, disjointOps, disjointKeys)
	}()
	for ; !s.expired() || round == 0; round++ {
		m := newMap()
		base := s.rng(round).Uint64N(1 << 40)
		key := func(w, i int) uint64 { return base + uint64(i*g+w) }
		models := make([][]uint64, g) // models[w][i]: the value of key(w, i), 0 if absent
		var writing atomic.Int32
		writing.Store(int32(g))
		grp := s.group()
		for w := range g {
			models[w] = make([]uint64, disjointKeys)
			grp.Go(func() {
				defer writing.Add(-1)
				disjointWriter(s, m, s.rng(round, uint64(w)), w, models[w], func(i int) uint64 { return key(w, i) })
			})
		}
		grp.Go(func() {
			for writing.Load() > 0 && !s.stopped() {
				seen, bad := rangeOnce(m)
				if bad != "" {
					s.errorf("round %d, under writers: %s", round, bad)
					return
				}
				for k := range seen {
					if k < base || k-base >= uint64(g*disjointKeys) {
						s.errorf("round %d, under writers: Range visited key %d, which was never stored", round, k)
						return
					}
				}
			}
		})
		grp.Wait()
		if s.stopped() {
			return
		}

		// Quiescent: the map must now equal the union of the models.
		want := 0
		for w := range g {
			for i, v := range models[w] {
				k := key(w, i)
				if got, ok := m.Load(k); got != v || ok != (v != 0) {
					s.errorf("round %d, after the writers: Load(%d) = (%#x, %t), want (%#x, %t)", round, k, got, ok, v, v != 0)
				}
				if v != 0 {
					want++
				}
			}
		}
		seen, bad := rangeOnce(m)
		if bad != "" {
			s.errorf("round %d, after the writers: %s", round, bad)
		}
		for k, v := range seen {
			off := k - base
			if k < base || off >= uint64(g*disjointKeys) {
				s.errorf("round %d, after the writers: Range visited key %d, which was never stored", round, k)
				continue
			}
			if want := models[off%uint64(g)][off/uint64(g)]; v != want {
				s.errorf("round %d, after the writers: Range visited key %d with value %#x, want %#x (0: absent)", round, k, v, want)
			}
		}
		if bad == "" && len(seen) != want {
			for w := range g {
				for i, v := range models[w] {
					if _, ok := seen[key(w, i)]; v != 0 && !ok {
						s.errorf("round %d, after the writers: Range missed key %d, which holds %#x", round, key(w, i), v)
					}
				}
			}
		}
		if s.stopped() {
			return
		}
	}
}

// disjointWriter runs one writer: random operations on the keys key(i),
// i < len(model), checking each result against model, which it keeps up
// to date.
func disjointWriter(s *state, m Map, rng *rand.Rand, w int, model []uint64, key func(i int) uint64) {
	last := make([]uint8, len(model)) // the last operation on each key, for messages
	ver := uint32(0)
	next := func(k uint64) uint64 { ver++; return valueFor(k, ver) }
	// other is a value k holds neither now nor ever: a wrong "old".
	other := func(k uint64) uint64 { return valueFor(k, ver+1+uint32(rng.IntN(1000))) }
	for n := range disjointOps {
		if n%32 == 0 && s.expired() {
			return
		}
		i := rng.IntN(len(model))
		k, cur := key(i), model[i]
		var op uint8
		var bad string
		switch r := rng.IntN(16); {
		case r < 3:
			op = 1
			if v, ok := m.Load(k); v != cur || ok != (cur != 0) {
				bad = fmt.Sprintf("Load = (%#x, %t), want (%#x, %t)", v, ok, cur, cur != 0)
			}
		case r < 5:
			op = 2
			model[i] = next(k)
			m.Store(k, model[i])
		case r < 7:
			op = 3
			nv := next(k)
			want := cur
			if cur == 0 {
				model[i], want = nv, nv
			}
			if a, loaded := m.LoadOrStore(k, nv); a != want || loaded != (cur != 0) {
				bad = fmt.Sprintf("LoadOrStore(%#x) = (%#x, %t), want (%#x, %t)", nv, a, loaded, want, cur != 0)
			}
		case r < 8:
			op = 4
			model[i] = 0
			if v, ok := m.LoadAndDelete(k); v != cur || ok != (cur != 0) {
				bad = fmt.Sprintf("LoadAndDelete = (%#x, %t), want (%#x, %t)", v, ok, cur, cur != 0)
			}
		case r < 10:
			op = 5
			model[i] = 0
			m.Delete(k)
		case r < 12:
			op = 6
			model[i] = next(k)
			if v, ok := m.Swap(k, model[i]); v != cur || ok != (cur != 0) {
				bad = fmt.Sprintf("Swap(%#x) = (%#x, %t), want (%#x, %t)", model[i], v, ok, cur, cur != 0)
			}
		case r < 14:
			op = 7
			old := cur
			if cur == 0 || rng.IntN(3) == 0 {
				old = other(k)
			}
			nv := next(k)
			want := cur != 0 && old == cur
			if want {
				model[i] = nv
			}
			if swapped := m.CompareAndSwap(k, old, nv); swapped != want {
				bad = fmt.Sprintf("CompareAndSwap(%#x, %#x) = %t, want %t", old, nv, swapped, want)
			}
		default:
			op = 8
			old := cur
			if cur == 0 || rng.IntN(3) == 0 {
				old = other(k)
			}
			want := cur != 0 && old == cur
			if want {
				model[i] = 0
			}
			if deleted := m.CompareAndDelete(k, old); deleted != want {
				bad = fmt.Sprintf("CompareAndDelete(%#x) = %t, want %t", old, deleted, want)
			}
		}
		if bad != "" {
			s.errorf("writer %d, on its own key %d, which held %#x (0: absent) after a %s: %s",
				w, k, cur, disjointOpNames[last[i]], bad)
			return
		}
		last[i] = op
	}
}
