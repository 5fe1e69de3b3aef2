package stress

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// The bounded and ordered promises of cmap under concurrency: the bound
// holds at every instant, each eviction matches one insert, and PopOldest
// never returns an entry twice and pops each writer's keys in the order
// they were stored.

// boundScenarios are the scenarios of TestCmapBounded.
var boundScenarios = []struct {
	name string
	run  func(s *state)
}{
	{"bound-evict-oldest", boundEvictOldest},
	{"bound-reject-new", boundRejectNew},
	{"pop-oldest-once", popOldestOnce},
}

// TestCmapBounded runs boundScenarios, each on maps of its own.
func TestCmapBounded(t *testing.T) { runCmapBounded(t, Options{}) }

func runCmapBounded(t *testing.T, opts Options) {
	cfg, err := resolve(opts)
	if err != nil {
		t.Fatal(err)
	}
	logRun(t, cfg)
	for _, sc := range boundScenarios {
		t.Run(sc.name, func(t *testing.T) { runScenario(t, sc.name, cfg, sc.run) })
	}
}

const (
	boundLen    = 64   // the bound of the bounded scenarios
	boundPerGor = 4096 // fresh keys per writer per round, at most
)

// boundKey is writer w's ith key from base.
func boundKey(base uint64, w, i int) uint64 { return base + uint64(w)*boundPerGor + uint64(i) }

// watchBound checks Snapshot().Len() and the snapshot's contents against
// the bound until done is closed.
func watchBound(s *state, m *cmap.Map[uint64, uint64], done <-chan struct{}) {
	for n := 0; ; n++ {
		select {
		case <-done:
			return
		default:
		}
		snap := m.Snapshot()
		count := 0
		for range snap.All() {
			count++
		}
		if snap.Len() > boundLen || count > boundLen {
			s.errorf("a snapshot holds %d entries (Len %d), above the bound %d", count, snap.Len(), boundLen)
			return
		}
	}
}

// Bound, EvictOldest: writers insert fresh keys through every insert and
// now and then take one of their older keys out; OnEvict records each
// eviction. No snapshot may hold more than the bound, and at the end each
// key inserted is exactly one of: present, evicted once (with its value),
// or taken out by its writer.
func boundEvictOldest(s *state) {
	g := max(2, s.cfg.goroutines/2)
	for round := uint64(0); !s.expired() || round == 0; round++ {
		base := s.rng(round).Uint64N(1 << 40)
		evicted := make([]atomic.Int32, g*boundPerGor)
		var strays atomic.Int64
		m := cmap.New[uint64, uint64](cmap.WithMaxLen(boundLen, cmap.EvictOldest),
			cmap.WithOnEvict(func(k, v uint64) {
				i := k - base
				if k < base || i >= uint64(len(evicted)) || v != valueFor(k, 1) {
					strays.Add(1)
					return
				}
				evicted[i].Add(1)
			}))
		inserted := make([]int, g)
		takenOut := make([][]bool, g)
		done := make(chan struct{})
		wgrp, watch := s.group(), s.group()
		watch.Go(func() { watchBound(s, m, done) })
		for w := range g {
			takenOut[w] = make([]bool, boundPerGor)
			wgrp.Go(func() {
				rng := s.rng(round, uint64(w))
				for i := 0; i < boundPerGor && (i%16 != 0 || !s.expired()); i++ {
					k := boundKey(base, w, i)
					if bad := insertAbsent(m, rng, k, valueFor(k, 1)); bad != "" {
						s.errorf("round %d, writer %d: %s", round, w, bad)
						return
					}
					inserted[w] = i + 1
					if i > 0 && rng.IntN(8) == 0 {
						j := rng.IntN(i)
						if _, ok := m.LoadAndDelete(boundKey(base, w, j)); ok {
							takenOut[w][j] = true
						}
					}
				}
			})
		}
		wgrp.Wait()
		close(done)
		watch.Wait()
		if s.stopped() {
			return
		}
		if n := strays.Load(); n != 0 {
			s.errorf("round %d: OnEvict was called %d times with a key never inserted or a wrong value", round, n)
			return
		}
		for w := range g {
			for i := range inserted[w] {
				k := boundKey(base, w, i)
				_, present := m.Load(k)
				e := evicted[w*boundPerGor+i].Load()
				if n := b2i(present) + int(e) + b2i(takenOut[w][i]); n != 1 || e > 1 {
					s.errorf("round %d: key %d, inserted once: present %t, evicted %d times, taken out by its writer %t; want exactly one of them, once",
						round, k, present, e, takenOut[w][i])
					return
				}
			}
		}
		if m.Len() > boundLen {
			s.errorf("round %d: Len() = %d at the end, above the bound %d", round, m.Len(), boundLen)
			return
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Bound, RejectNew: writers TryStore fresh keys and, when the map is full,
// take out one of their own keys still in it. No snapshot may hold more
// than the bound; at the end the keys present are exactly those accepted
// and not taken out.
func boundRejectNew(s *state) {
	g := max(2, s.cfg.goroutines/2)
	for round := uint64(0); !s.expired() || round == 0; round++ {
		base := s.rng(round).Uint64N(1 << 40)
		m := cmap.New[uint64, uint64](cmap.WithMaxLen(boundLen, cmap.RejectNew))
		held := make([]map[int]bool, g) // per writer: its keys accepted and not taken out
		var rejected atomic.Int64
		done := make(chan struct{})
		wgrp, watch := s.group(), s.group()
		watch.Go(func() { watchBound(s, m, done) })
		for w := range g {
			held[w] = make(map[int]bool)
			wgrp.Go(func() {
				for i := 0; i < boundPerGor && (i%16 != 0 || !s.expired()); i++ {
					k := boundKey(base, w, i)
					err := m.TryStore(k, valueFor(k, 1))
					switch {
					case err == nil:
						held[w][i] = true
					case !errors.Is(err, cmap.ErrFull):
						s.errorf("round %d, writer %d: TryStore(%d) = %v, want nil or ErrFull", round, w, k, err)
						return
					default:
						rejected.Add(1)
						for j := range held[w] {
							if v, ok := m.LoadAndDelete(boundKey(base, w, j)); !ok || v != valueFor(boundKey(base, w, j), 1) {
								s.errorf("round %d, writer %d: LoadAndDelete of its own key %d = (%#x, %t), want (%#x, true)",
									round, w, boundKey(base, w, j), v, ok, valueFor(boundKey(base, w, j), 1))
								return
							}
							delete(held[w], j)
							break
						}
					}
				}
			})
		}
		wgrp.Wait()
		close(done)
		watch.Wait()
		if s.stopped() {
			return
		}
		want := 0
		for w := range g {
			want += len(held[w])
			for j := range held[w] {
				if _, ok := m.Load(boundKey(base, w, j)); !ok {
					s.errorf("round %d: key %d was accepted and never taken out, but is gone", round, boundKey(base, w, j))
					return
				}
			}
		}
		if n := m.Len(); n != want {
			s.errorf("round %d: Len() = %d at the end, want the %d keys accepted and not taken out", round, n, want)
			return
		}
		if rejected.Load() == 0 && round == 0 {
			s.logf("round 0: no TryStore was rejected")
		}
	}
}

// PopOldest once: writers Store fresh keys, in order, into a map with
// insertion order while poppers PopOldest: no entry may be popped twice,
// each popper must get each writer's keys in the order they were stored,
// and at the end every key is exactly one of popped or present.
func popOldestOnce(s *state) {
	writers := max(1, s.cfg.goroutines/2)
	poppers := max(1, s.cfg.goroutines-writers)
	for round := uint64(0); !s.expired() || round == 0; round++ {
		base := s.rng(round).Uint64N(1 << 40)
		m := cmap.New[uint64, uint64](cmap.WithInsertionOrder())
		popped := make([]atomic.Int32, writers*boundPerGor)
		stored := make([]int, writers)
		var writing atomic.Int32
		writing.Store(int32(writers))
		grp := s.group()
		for w := range writers {
			grp.Go(func() {
				defer writing.Add(-1)
				for i := 0; i < boundPerGor && (i%16 != 0 || !s.expired()); i++ {
					k := boundKey(base, w, i)
					m.Store(k, valueFor(k, 1))
					stored[w] = i + 1
				}
			})
		}
		for p := range poppers {
			grp.Go(func() {
				last := make([]int, writers) // per writer: 1 + the index of its last key this popper got
				for writing.Load() > 0 && !s.stopped() {
					k, v, ok := m.PopOldest()
					if !ok {
						continue
					}
					i := int(k - base)
					w, j := i/boundPerGor, i%boundPerGor
					var bad string
					switch {
					case k < base || w >= writers || v != valueFor(k, 1):
						bad = fmt.Sprintf("PopOldest = (%d, %#x, true), never stored", k, v)
					case popped[i].Add(1) > 1:
						bad = fmt.Sprintf("PopOldest returned key %d a second time", k)
					case j < last[w]:
						bad = fmt.Sprintf("PopOldest returned writer %d's key #%d after its key #%d, stored later", w, j, last[w]-1)
					}
					if bad != "" {
						s.errorf("round %d, popper %d: %s", round, p, bad)
						return
					}
					last[w] = j + 1
				}
			})
		}
		grp.Wait()
		if s.stopped() {
			return
		}
		for w := range writers {
			for i := range stored[w] {
				k := boundKey(base, w, i)
				_, present := m.Load(k)
				if n := popped[w*boundPerGor+i].Load(); int(n)+b2i(present) != 1 {
					s.errorf("round %d: key %d popped %d times, present %t; want exactly one of them", round, k, n, present)
					return
				}
			}
		}
	}
}
