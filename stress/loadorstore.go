package stress

import (
	"sync/atomic"
)

// LoadOrStore race: all goroutines call LoadOrStore on the same fresh keys,
// in the same order, each with a value of its own, so that they arrive at
// each key together. For each key exactly one call must store (loaded
// false) and every call must return the value that one stored. A
// LoadOrStore that loads and then stores, even with nothing in between,
// lets two goroutines both find a key absent and both store.

const losKeys = 8 // fresh keys per round

func loadOrStoreRace(s *state, newMap func() Map) {
	g := max(2, s.cfg.goroutines)
	round := uint64(0)
	defer func() { s.logf("%d rounds of %d goroutines racing on %d fresh keys", round, g, losKeys) }()
	for ; !s.expired() || round == 0; round++ {
		m := newMap()
		base := s.rng(round).Uint64N(1 << 40)
		var stored [losKeys]atomic.Int32
		var winner [losKeys]atomic.Uint64 // the value each goroutine got back, if the same
		start := make(chan struct{})
		grp := s.group()
		for w := range g {
			grp.Go(func() {
				<-start
				for i := range losKeys {
					k := base + uint64(i)
					a, loaded := m.LoadOrStore(k, valueFor(k, uint32(w+1)))
					if !loaded {
						stored[i].Add(1)
					}
					if !winner[i].CompareAndSwap(0, a) && winner[i].Load() != a {
						s.errorf("round %d: LoadOrStore(%d) returned %#x to one goroutine and %#x to another", round, k, winner[i].Load(), a)
						return
					}
				}
			})
		}
		close(start)
		grp.Wait()
		if s.stopped() {
			return
		}
		for i := range losKeys {
			if n := stored[i].Load(); n != 1 {
				s.errorf("round %d: %d goroutines called LoadOrStore(%d, their own value) at once; %d of them stored (loaded false), want exactly 1",
					round, g, base+uint64(i), n)
				return
			}
		}
	}
}
