package cmap_test

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/segmap/segmap/cmap"
)

// TestConcurrentEveryLockTakers: writers (Store, Delete, a slow Compute,
// LoadOrTryCompute with failures and panics), DeleteFunc, Range, Clear,
// Snapshot, PopOldest and Oldest run at once on bounded maps, with an
// OnEvict that re-enters; then, at rest, Len, Range, a Snapshot and (with
// order) PopOldest agree, the bound holds, and a RejectNew map's count has
// no leaked reservation: it takes exactly max-Len new keys. Both layouts.
func TestConcurrentEveryLockTakers(t *testing.T) {
	const maxLen = 64
	for _, policy := range []cmap.BoundPolicy{cmap.EvictOldest, cmap.RejectNew} {
		t.Run(policy.String(), func(t *testing.T) {
			forEachLayout(t, func(t *testing.T) {
				var m *cmap.Map[int, int]
				opts := []cmap.Option{cmap.WithMaxLen(maxLen, policy), cmap.WithSegments(4)}
				if policy == cmap.EvictOldest {
					opts = append(opts, cmap.WithOnEvict(func(k, v int) {
						if k%7 == 0 {
							m.Load(k + 1)
							m.Delete(k + 2)
						}
					}))
				}
				m = cmap.New[int, int](opts...)
				deadline := time.Now().Add(400 * time.Millisecond)
				var wg sync.WaitGroup
				for g := range 6 {
					wg.Go(func() {
						r := rand.New(rand.NewPCG(uint64(g), 1))
						for time.Now().Before(deadline) {
							k := r.IntN(200)
							switch op := r.IntN(100); {
							case op < 30:
								m.TryStore(k, k)
							case op < 40:
								m.Delete(k)
							case op < 45:
								func() {
									defer func() { recover() }() // ErrFull
									m.Compute(k, func(old int, loaded bool) (int, cmap.ComputeOp) {
										time.Sleep(20 * time.Microsecond) // holding k's segment
										if loaded && r.IntN(2) == 0 {
											return 0, cmap.DeleteOp
										}
										return k, cmap.UpdateOp
									})
								}()
							case op < 70:
								func() {
									defer func() { recover() }() // a planned panic, or ErrFull
									m.LoadOrTryCompute(k, func() (int, error) {
										switch r.IntN(8) {
										case 0:
											return 0, errors.New("no")
										case 1:
											panic("f")
										case 2:
											time.Sleep(50 * time.Microsecond)
										}
										return k, nil
									})
								}()
							case op < 75:
								m.DeleteFunc(func(k, v int) bool { return k%5 == g%5 })
							case op < 80:
								m.Range(func(int, int) bool { return true })
							case op < 83:
								m.Clear()
							case op < 88:
								if s := m.Snapshot(); s.Len() > maxLen {
									t.Errorf("snapshot of %d entries, bound %d", s.Len(), maxLen)
								}
							case op < 92:
								if policy == cmap.EvictOldest {
									m.PopOldest()
								}
							default:
								if n := m.Len(); n > maxLen {
									t.Errorf("Len %d, bound %d", n, maxLen)
								}
							}
						}
					})
				}
				if !within(30*time.Second, wg.Wait) {
					t.Fatal("stuck")
				}
				n, ranged := m.Len(), 0
				m.Range(func(k, v int) bool {
					ranged++
					if k != v {
						t.Errorf("key %d holds %d", k, v)
					}
					return true
				})
				if s := m.Snapshot(); n != ranged || s.Len() != n || n > maxLen {
					t.Fatalf("at rest: Len %d, Range %d, Snapshot %d, bound %d", n, ranged, s.Len(), maxLen)
				}
				if policy == cmap.EvictOldest {
					popped := 0
					for _, _, ok := m.PopOldest(); ok; _, _, ok = m.PopOldest() {
						popped++
					}
					if popped != n || m.Len() != 0 {
						t.Fatalf("PopOldest took %d of %d entries, Len %d after", popped, n, m.Len())
					}
					return
				}
				added := 0
				for k := 1000; ; k++ {
					if err := m.TryStore(k, k); err != nil {
						if !errors.Is(err, cmap.ErrFull) {
							t.Fatal(err)
						}
						break
					}
					added++
				}
				if n+added != maxLen {
					t.Fatalf("RejectNew map of %d took %d new keys, %d in all, want %d: its count leaked", n, added, n+added, maxLen)
				}
			})
		})
	}
}
