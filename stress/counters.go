package stress

import (
	"math/rand/v2"
	"runtime"
	"sync/atomic"
)

// Contended counters: all goroutines increment the same few keys with
// LoadOrStore and CompareAndSwap retry loops, and count their own
// increments; every total must be exact. Rounds alternate between two
// modes. In the first, a monitor checks each Load against the increments
// known to have completed before it and the ones started before it
// returned, which catches a lost update as soon as it happens and a stale
// read. In the second, goroutines also harvest counters (LoadAndDelete, or
// Load then CompareAndDelete) and add what they took to their own tally,
// so that keys keep going absent and LoadOrStore keeps racing to create
// them.

const (
	counterKeys = 4
	counterOps  = 1000    // increments per goroutine per round
	counterSpin = 1 << 20 // CompareAndSwap failures in a row that mean no progress
)

func contendedCounters(s *state, newMap func() Map) {
	g := s.cfg.goroutines
	round := uint64(0)
	defer func() {
		s.logf("%d rounds of %d goroutines × %d increments on %d keys", round, g, counterOps, counterKeys)
	}()
	for ; !s.expired() || round == 0; round++ {
		m := newMap()
		harvest := round%2 == 1
		rng := s.rng(round)
		var keys [counterKeys]uint64
		for j := range keys {
			keys[j] = rng.Uint64()
		}
		// started[j] and done[j] count the increments of keys[j] begun and
		// completed, for the monitor.
		var started, done [counterKeys]atomic.Int64
		tallies := make([][counterKeys]int64, g) // per goroutine: increments minus harvests
		var running atomic.Int32
		running.Store(int32(g))
		grp := s.group()
		for w := range g {
			grp.Go(func() {
				defer running.Add(-1)
				counterWorker(s, m, s.rng(round, uint64(w)), keys[:], harvest, &tallies[w], &started, &done)
			})
		}
		if !harvest {
			grp.Go(func() {
				for running.Load() > 0 && !s.stopped() {
					for j, k := range keys {
						lo := done[j].Load()
						v, ok := m.Load(k)
						hi := started[j].Load()
						switch {
						case ok && v == 0, !ok && v != 0:
							s.errorf("round %d: counter Load(%d) = (%d, %t): a counter is never 0, and a miss returns 0", round, k, v, ok)
							return
						case int64(v) < lo:
							s.errorf("round %d: counter Load(%d) = %d, but %d increments had completed before the Load: lost update or stale read", round, k, v, lo)
							return
						case int64(v) > hi:
							s.errorf("round %d: counter Load(%d) = %d, but only %d increments had begun when the Load returned", round, k, v, hi)
							return
						}
					}
				}
			})
		}
		grp.Wait()
		if s.stopped() {
			return
		}

		want := make(map[uint64]uint64)
		for j, k := range keys {
			var total int64
			for w := range tallies {
				total += tallies[w][j]
			}
			if total > 0 {
				want[k] = uint64(total)
			}
			if v, ok := m.Load(k); v != uint64(total) || ok != (total > 0) {
				s.errorf("round %d (harvest %t): counter %d = (%d, %t) at the end, want (%d, %t) from the goroutines' own tallies",
					round, harvest, k, v, ok, total, total > 0)
			}
		}
		seen := make(map[uint64]uint64)
		m.Range(func(k, v uint64) bool {
			if _, dup := seen[k]; dup {
				s.errorf("round %d: Range visited counter %d twice", round, k)
				return false
			}
			seen[k] = v
			if w, ok := want[k]; !ok || v != w {
				s.errorf("round %d: Range visited counter %d = %d, want %d (0: absent)", round, k, v, w)
			}
			return true
		})
		for k, v := range want {
			if _, ok := seen[k]; !ok {
				s.errorf("round %d: Range missed counter %d = %d", round, k, v)
			}
		}
		if s.stopped() {
			return
		}
	}
}

// counterWorker increments random keys counterOps times, and, if harvest,
// now and then takes a counter out of the map; tally[j] ends as its
// increments of keys[j] minus what it took out.
func counterWorker(s *state, m Map, rng *rand.Rand, keys []uint64, harvest bool, tally *[counterKeys]int64,
	started, done *[counterKeys]atomic.Int64) {
	for n := range counterOps {
		if n%16 == 0 && s.expired() {
			return
		}
		j := rng.IntN(len(keys))
		k := keys[j]
		if harvest && rng.IntN(8) == 0 {
			if rng.IntN(2) == 0 {
				if v, ok := m.LoadAndDelete(k); ok {
					tally[j] -= int64(v)
				}
			} else if v, ok := m.Load(k); ok && m.CompareAndDelete(k, v) {
				tally[j] -= int64(v)
			}
			continue
		}
		started[j].Add(1)
		loadFirst := rng.IntN(2) == 0
		for spin := 0; ; spin++ {
			if spin == counterSpin {
				s.errorf("counter %d: %d increments by LoadOrStore and CompareAndSwap in a row failed: no progress", k, spin)
				return
			}
			var v uint64
			if loadFirst {
				var ok bool
				if v, ok = m.Load(k); !ok {
					loadFirst = false
					continue
				}
			} else {
				var loaded bool
				if v, loaded = m.LoadOrStore(k, 1); !loaded {
					break
				}
			}
			if v == 0 {
				s.errorf("counter %d: found holding 0, a value never stored", k)
				return
			}
			if rng.IntN(4) == 0 {
				runtime.Gosched() // let others move the counter between our read and our CompareAndSwap
			}
			if m.CompareAndSwap(k, v, v+1) {
				break
			}
		}
		tally[j]++
		done[j].Add(1)
	}
}
