package cmap_test

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// TestRejectNewNoFalseErrFull: ErrFull only when the map is full. Each
// goroutine owns a quota of the bound (the quotas add up to it) and
// inserts a key only while it holds fewer than its quota, so whenever one
// inserts, the map holds at most bound-1 entries: any ErrFull is false.
// Meanwhile writes that take a reservation and give it back without
// inserting (a failing LoadOrTryCompute, Compute cancelling or deleting an
// absent key, LoadAndDelete and CompareAndSwap of a key just deleted),
// deletes through every method, Reserve rebuilding the tables, and
// watchers checking that Len and snapshots never exceed the bound, and
// phantom writers (see below). At the
// end, with every quota full, a new key gets ErrFull.
func TestRejectNewNoFalseErrFull(t *testing.T) {
	for _, ordered := range []bool{false, true} {
		name := "unordered"
		if ordered {
			name = "ordered"
		}
		t.Run(name, func(t *testing.T) { testRejectNewNoFalseErrFull(t, ordered) })
	}
}

func testRejectNewNoFalseErrFull(t *testing.T, ordered bool) {
	const goroutines, quota, bound = 4, 4, 16
	rounds := 5000
	if raceEnabled {
		rounds = 1500
	}
	opts := []cmap.Option{cmap.WithSegments(4), cmap.WithMaxLen(bound, cmap.RejectNew)}
	if ordered {
		opts = append(opts, cmap.WithInsertionOrder())
	}
	m := cmap.New[int, int](opts...)
	var stop atomic.Bool
	var wg, watchers sync.WaitGroup
	owned := make([]map[int]bool, goroutines)
	for g := range goroutines {
		owned[g] = map[int]bool{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("goroutine %d with %d of its %d keys: panic %v", g, len(owned[g]), quota, r)
				}
			}()
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			own := owned[g]
			next := g << 20
			for range rounds {
				if len(own) < quota && rng.IntN(8) != 0 { // mostly near full
					next++
					if insertOne(t, m, next, rng.IntN(8)) {
						own[next] = true
					}
					continue
				}
				if len(own) == 0 {
					continue
				}
				k := 0
				for k = range own {
					break
				}
				if deleteOne(t, m, k, rng.IntN(5)) {
					delete(own, k)
				}
			}
		}()
	}
	// Phantoms: writes of absent keys that hold a reservation for a while
	// (f yields) and insert nothing. With the quotas nearly full they
	// exhaust the reservations, so inserters must confirm with every
	// lock held that the map is really full, which it never is.
	watchers.Add(2)
	for p := range 2 {
		go func() {
			defer watchers.Done()
			for i := 0; !stop.Load(); i++ {
				k := -(p<<20 | i)
				if i%2 == 0 {
					m.LoadOrTryCompute(k, func() (int, error) {
						runtime.Gosched()
						return 0, errNope
					})
				} else {
					m.Compute(k, func(int, bool) (int, cmap.ComputeOp) {
						runtime.Gosched()
						return 0, cmap.CancelOp
					})
				}
			}
		}()
	}
	watchers.Add(2)
	go func() {
		defer watchers.Done()
		for !stop.Load() {
			if n := m.Len(); n > bound {
				t.Errorf("Len = %d above the bound %d", n, bound)
			}
			s := m.Snapshot()
			n := 0
			for range s.All() {
				n++
			}
			if n > bound || s.Len() != n {
				t.Errorf("snapshot of %d entries (Len %d), bound %d", n, s.Len(), bound)
			}
		}
	}()
	go func() {
		defer watchers.Done()
		for i := 0; !stop.Load(); i++ {
			m.Reserve([]int{0, 40, 200}[i%3]) // rebuilds at and above the layout
		}
	}()
	wg.Wait()
	stop.Store(true)
	watchers.Wait()
	check(t, m)
	// Fill every quota: the map is full, and a new key gets ErrFull.
	for g := range goroutines {
		for k := g<<20 | 1<<19; len(owned[g]) < quota; k++ {
			if err := m.TryStore(k, k); err != nil {
				t.Fatalf("TryStore with %d entries of %d: %v", m.Len(), bound, err)
			}
			owned[g][k] = true
		}
	}
	if err := m.TryStore(-1, -1); !errors.Is(err, cmap.ErrFull) || m.Len() != bound {
		t.Fatalf("TryStore on a full map: %v, Len %d", err, m.Len())
	}
	check(t, m)
}

var errNope = errors.New("nope")

// insertOne inserts the new key k with the write method how, or tries a
// write that inserts nothing; it reports whether k was inserted. Any
// ErrFull, returned or panicked, fails the test.
func insertOne(t *testing.T, m *cmap.Map[int, int], k, how int) bool {
	switch how {
	case 0:
		if err := m.TryStore(k, k); err != nil {
			t.Errorf("TryStore(%d): %v", k, err)
			return false
		}
	case 1:
		m.Store(k, k)
	case 2:
		m.Swap(k, k)
	case 3:
		m.LoadOrStore(k, k)
	case 4:
		m.LoadOrCompute(k, func() int { return k })
	case 5:
		if _, _, err := m.LoadOrTryCompute(k, func() (int, error) { return k, nil }); err != nil {
			t.Errorf("LoadOrTryCompute(%d): %v", k, err)
		}
	case 6:
		m.Compute(k, func(int, bool) (int, cmap.ComputeOp) { return k, cmap.UpdateOp })
	default:
		// Reservations taken and given back.
		if _, _, err := m.LoadOrTryCompute(k, func() (int, error) { return 0, errNope }); err != errNope {
			t.Errorf("failing LoadOrTryCompute(%d): %v", k, err)
		}
		m.Compute(k, func(int, bool) (int, cmap.ComputeOp) { return 0, cmap.CancelOp })
		m.Compute(k, func(int, bool) (int, cmap.ComputeOp) { return 0, cmap.DeleteOp })
		m.CompareAndSwap(k, 0, 1)
		m.LoadAndDelete(k)
		return false
	}
	if v, ok := m.Load(k); !ok || v != k {
		t.Errorf("key %d not stored: %d, %v", k, v, ok)
		return false
	}
	return true
}

// deleteOne deletes the present key k with the method how, after an
// update that must succeed; it reports whether k was deleted.
func deleteOne(t *testing.T, m *cmap.Map[int, int], k, how int) bool {
	if err := m.TryStore(k, -k); err != nil {
		t.Errorf("TryStore of present key %d: %v", k, err)
	}
	switch how {
	case 0:
		m.Delete(k)
	case 1:
		m.LoadAndDelete(k)
	case 2:
		m.CompareAndDelete(k, -k)
	case 3:
		m.Compute(k, func(int, bool) (int, cmap.ComputeOp) { return 0, cmap.DeleteOp })
	default:
		if !m.CompareAndSwap(k, -k, k) {
			t.Errorf("CompareAndSwap of present key %d failed", k)
		}
		return false
	}
	if _, ok := m.Load(k); ok {
		t.Errorf("key %d not deleted", k)
		return false
	}
	return true
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
