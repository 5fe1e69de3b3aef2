package stress

import (
	"fmt"
	"runtime"
	"sync/atomic"
)

// DeleteFunc, for maps that have it (cmap's signature, after
// maps.DeleteFunc): a bulk delete by predicate, each deletion atomic for
// its key. Writers own keys and store each key's versions in turn, a
// fresh one and then an expired one; sweepers call DeleteFunc to delete
// the expired values, while the writers check that no fresh value is ever
// deleted: a DeleteFunc that checks a value and then deletes the key
// without holding the key (check-then-delete) deletes a fresh value that
// was stored in between. The counts must add up: every expired value is
// deleted exactly once, either by a sweep the writer notices (its next
// Swap finds the key absent) or by the final sweep; and a sweep's
// predicate sees no key twice and only values stored under their key.
//
// A map without DeleteFunc skips the scenario, and its test log says so.

// deleteFuncer is a map with DeleteFunc(del) int: it deletes every entry
// for which del returns true and returns how many it deleted.
type deleteFuncer interface {
	DeleteFunc(del func(key, value uint64) bool) int
}

// expiredVersion reports whether value version x is an expired one (odd);
// fresh versions are even, and none is 0.
func expiredVersion(v uint64) bool { return uint32(v)&1 == 1 }

func deleteFunc(s *state, newMap func() Map) {
	m0 := newMap()
	df, ok := m0.(deleteFuncer)
	if !ok {
		s.skip("the map has no DeleteFunc(func(key, value uint64) bool) int method; the DeleteFunc check is skipped")
		return
	}
	m := m0
	const keysEach = 32
	sweepers := 2
	writers := max(1, s.cfg.goroutines-sweepers)
	base := s.rng().Uint64N(1 << 40)
	key := func(w, i int) uint64 { return base + uint64(w*keysEach+i) }

	var stop atomic.Bool
	var swept, sweeps, noticed atomic.Int64
	sweep := func() {
		seen := make(map[uint64]bool)
		var bad string
		n := df.DeleteFunc(func(k, v uint64) bool {
			if seen[k] && bad == "" {
				bad = fmt.Sprintf("DeleteFunc gave key %d to its predicate twice in one call", k)
			}
			seen[k] = true
			if !belongs(k, v) && bad == "" {
				bad = fmt.Sprintf("DeleteFunc gave key %d to its predicate with value %#x, never stored under it", k, v)
			}
			return expiredVersion(v)
		})
		if bad != "" {
			s.errorf("%s", bad)
		}
		swept.Add(int64(n))
		sweeps.Add(1)
	}
	sg := s.group()
	for range sweepers {
		sg.Go(func() {
			for !stop.Load() && !s.stopped() {
				sweep()
				runtime.Gosched()
			}
		})
	}
	wg := s.group()
	for w := range writers {
		wg.Go(func() {
			rng := s.rng(uint64(w))
			for r := uint32(1); r == 1 && !s.stopped() || !s.expired(); r++ { // one round at least, so the final count knows every key
				fresh, expired := 2*r, 2*r+1
				for i := range keysEach {
					k := key(w, i)
					prev, loaded := m.Swap(k, valueFor(k, fresh))
					switch {
					case !loaded && r > 1:
						noticed.Add(1) // a sweep deleted the expired value
					case loaded && prev != valueFor(k, expired-2):
						s.errorf("writer %d key %d: Swap found %#x, want the expired %#x or nothing", w, k, prev, valueFor(k, expired-2))
						return
					}
					if rng.IntN(2) == 0 {
						runtime.Gosched() // let a sweep see the fresh value, or an earlier one
					}
					if v, ok := m.Load(k); !ok || v != valueFor(k, fresh) {
						s.errorf("writer %d key %d: Load = (%#x, %t) after storing the fresh %#x, which only this writer changes and no sweep may delete: a DeleteFunc deleted it on the strength of an earlier, expired value",
							w, k, v, ok, valueFor(k, fresh))
						return
					}
					if p, ok := m.Swap(k, valueFor(k, expired)); !ok || p != valueFor(k, fresh) {
						s.errorf("writer %d key %d: Swap = (%#x, %t) on the fresh %#x: a DeleteFunc deleted or changed it",
							w, k, p, ok, valueFor(k, fresh))
						return
					}
				}
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	sg.Wait()
	if s.stopped() {
		return
	}
	sweep() // every key now holds an expired value
	for w := range writers {
		for i := range keysEach {
			if v, ok := m.Load(key(w, i)); ok {
				s.errorf("key %d holds %#x after the final DeleteFunc of every expired value, want absent", key(w, i), v)
				return
			}
		}
	}
	if want := noticed.Load() + int64(writers*keysEach); swept.Load() != want {
		s.errorf("DeleteFunc reported %d deletions in all; want %d: %d expired values found deleted by the writers' next Swap, plus %d deleted by the final sweep or unnoticed",
			swept.Load(), want, noticed.Load(), writers*keysEach)
		return
	}
	s.logf("%d sweeps deleted %d expired values of %d writers", sweeps.Load(), swept.Load(), writers)
}
