package cmap_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// TestClearAtomicForReaders checks that a lock-free reader never sees a
// Clear half done. Clear replaces the segments' tables one by one with
// every lock held; a reader takes no lock, so in the middle of a Clear it
// could find k2 (stored after k1, in a segment already cleared) gone and
// k1 (in a segment not yet cleared) present: a state the map never held;
// and Len could count one segment cleared and the other not.
func TestClearAtomicForReaders(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(4))
	k1, k2 := -1, -1
	for k := 0; k1 < 0 || k2 < 0; k++ {
		switch m.SegmentOf(k) {
		case 0:
			if k2 < 0 {
				k2 = k
			}
		case 3:
			if k1 < 0 {
				k1 = k
			}
		}
	}
	m.Store(k1, 1)
	m.Store(k2, 2)
	probed := false
	cmap.SetClearHook(func(i int) {
		if i != m.SegmentOf(k2) {
			return
		}
		// k2's segment is cleared, k1's is not yet.
		probed = true
		_, has2 := m.Load(k2)
		_, has1 := m.Load(k1)
		if has1 && !has2 {
			t.Errorf("mid-Clear: Load(k1) found it, Load(k2) did not, though k1 was stored before k2")
		}
		// Len reads the counts of one instant too: both keys, or none.
		if n := m.Len(); n != 2 && n != 0 {
			t.Errorf("mid-Clear: Len() = %d, a count the map never had", n)
		}
	})
	defer cmap.SetClearHook(nil)
	m.Clear()
	if !probed {
		t.Fatal("the hook never ran for k2's segment")
	}
	if _, ok := m.Load(k1); ok {
		t.Fatal("k1 present after Clear")
	}
	m.Store(k1, 3) // no lock left held, and the map works on
	if v, ok := m.Load(k1); !ok || v != 3 {
		t.Fatalf("Load(k1) after Clear and Store = %v, %v", v, ok)
	}
}

func TestClear(t *testing.T) {
	m := cmap.New[int, string](cmap.WithCapacity(100))
	for i := range 1000 {
		m.Store(i, fmt.Sprint(i))
	}
	m.Clear()
	if m.Len() != 0 {
		t.Fatalf("Len = %d after Clear", m.Len())
	}
	for range m.All() {
		t.Fatal("All visited a key after Clear")
	}
	m.Store(5, "5")
	if v, ok := m.Load(5); !ok || v != "5" {
		t.Fatalf("Load after Clear+Store = %q, %v", v, ok)
	}
	check(t, m)
}

// TestClearAtomic: Clear runs while a writer keeps the total of two keys in
// different segments... instead: snapshots taken during Clear see either
// the whole map or nothing of the keys stored before it.
func TestClearAtomic(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(16))
	const n = 2000
	for range 20 {
		for k := range n {
			m.Store(k, k)
		}
		done := make(chan struct{})
		go func() { m.Clear(); close(done) }()
		for {
			s := m.Snapshot()
			if l := s.Len(); l != 0 && l != n {
				t.Fatalf("snapshot during Clear holds %d of %d entries", l, n)
			}
			select {
			case <-done:
			default:
				continue
			}
			break
		}
		if m.Len() != 0 {
			t.Fatal("Len != 0 after Clear")
		}
	}
}

func TestClearAllocations(t *testing.T) {
	var m cmap.Map[any, any]
	if a := testing.AllocsPerRun(10, m.Clear); a > 1 {
		t.Errorf("Clear of a zero Map: %v allocs, want <= 1", a)
	}
}

func TestConcurrentClear(t *testing.T) {
	var m cmap.Map[int, int]
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { m.Store(i, i*10) })
		wg.Go(func() {
			if v, ok := m.Load(i); ok && v != i*10 {
				t.Errorf("Load(%d) = %d", i, v)
			}
		})
		wg.Go(m.Clear)
	}
	wg.Wait()
	m.Clear()
	m.Range(func(k, v int) bool {
		t.Errorf("after Clear the map holds %d=%d", k, v)
		return true
	})
}

// TestClearIgnoresHasher: Clear hashes nothing (it replaces every table
// by an empty one), so a panicking hasher cannot disturb it, on a frozen
// map or not.
func TestClearIgnoresHasher(t *testing.T) {
	for _, c := range panicConfigs(4) {
		t.Run(c.name, func(t *testing.T) {
			var b bomb
			m, md := newBombMap(c, &b)
			fill(m, md, 500)
			snap := m.Snapshot()
			if b.explode(t, m.Clear) {
				t.Fatal("Clear hashed a key")
			}
			md = &model{m: map[int]int{}, ordered: md.ordered}
			if snap.Len() != 510 {
				t.Fatalf("snapshot holds %d entries after Clear, want 510", snap.Len())
			}
			settled(t, m, md)
			fill(m, md, 100)
			settled(t, m, md)
		})
	}
}

// TestBoundWithConcurrentClear: Clear, PopOldest and evicting or refused
// inserts race on small bounded maps; the bound holds at every instant
// (Len, snapshots), and afterwards the reservations equal the entries
// (CheckInvariants) and the map takes exactly its bound again.
func TestBoundWithConcurrentClear(t *testing.T) {
	for _, pol := range []cmap.BoundPolicy{cmap.EvictOldest, cmap.RejectNew} {
		t.Run(pol.String(), func(t *testing.T) {
			const bound = 8
			m := cmap.New[int, int](cmap.WithSegments(4), cmap.WithMaxLen(bound, pol), cmap.WithInsertionOrder())
			rounds := 4000
			if raceEnabled {
				rounds = 1500
			}
			var wg sync.WaitGroup
			for g := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), 11))
					for i := range rounds {
						k := rng.IntN(40)
						switch rng.IntN(8) {
						case 0:
							if g == 0 {
								m.Clear()
							}
						case 1:
							m.PopOldest()
						case 2:
							m.Delete(k)
						case 3:
							// On a full RejectNew map it panics with ErrFull.
							if p := recovered(func() {
								m.LoadOrTryCompute(k, func() (int, error) { return i, nil })
							}); p != nil {
								if err, ok := p.(error); !ok || !errors.Is(err, cmap.ErrFull) {
									t.Error(p)
								}
							}
						default:
							if err := m.TryStore(k, i); err != nil && !errors.Is(err, cmap.ErrFull) {
								t.Error(err)
							}
						}
						if n := m.Len(); n > bound {
							t.Errorf("Len = %d above %d", n, bound)
						}
						if i%64 == 0 {
							if s := m.Snapshot(); s.Len() > bound {
								t.Errorf("snapshot Len = %d above %d", s.Len(), bound)
							}
						}
					}
				}()
			}
			wg.Wait()
			check(t, m)
			m.Clear()
			for k := range bound {
				if err := m.TryStore(k, k); err != nil {
					t.Fatalf("TryStore(%d) after Clear: %v", k, err)
				}
			}
			if err := m.TryStore(-1, 0); pol == cmap.RejectNew && !errors.Is(err, cmap.ErrFull) {
				t.Fatalf("TryStore beyond the bound: %v", err)
			}
			if m.Len() != bound {
				t.Fatalf("Len = %d, want %d", m.Len(), bound)
			}
			check(t, m)
		})
	}
}
