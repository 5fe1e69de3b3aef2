package cmap_test

// Adversarial tests aimed at tables made ahead of a rebuild (outside the
// segment lock) and used by it: a rebuild that panics halfway through
// copying into such a table and is retried, snapshots that must not see a
// reused table, preparers racing one another and Clear, Reserve and
// snapshots, and Reserve's promise that no rebuild follows. Public API
// only: they run with or without prepared tables.

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// advPrefaultLayouts are the map shapes whose rebuilds copy differently:
// flat, entries, and entries with an insertion log.
var advPrefaultLayouts = []struct {
	name string
	opts []cmap.Option
	ents bool
}{
	{"flat", nil, false},
	{"entries", nil, true},
	{"ordered", []cmap.Option{cmap.WithInsertionOrder()}, false},
}

// TestAdvPrefaultPanicThenRegrow: inserts into one segment grow its
// table again and again, each attempted first with a hasher that panics
// on one key in the middle of the table (so that a rebuild panics after
// copying part of the keys into its new table); the panicking insert is
// then retried with the hasher disarmed. The map must end exactly as a
// model says, with its invariants: a table partly filled by the failed
// rebuild must never be used by the retry.
func TestAdvPrefaultPanicThenRegrow(t *testing.T) {
	for _, l := range advPrefaultLayouts {
		t.Run(l.name, func(t *testing.T) {
			n := 6000
			if testing.Short() {
				n = 3000
			}
			var on atomic.Bool
			const bad = 137
			if l.ents {
				cmap.ForceEntryLayout(true)
			}
			m := cmap.New[int, int](append([]cmap.Option{cmap.WithSegments(1), poisonHasher(&on, bad)}, l.opts...)...)
			cmap.ForceEntryLayout(false)
			model := map[int]int{}
			panics := 0
			for i := range n {
				on.Store(true)
				r := recovered(func() { m.Store(i, i) })
				on.Store(false)
				if r != nil {
					if r != "hasher exploded" {
						t.Fatalf("Store(%d) panicked with %v", i, r)
					}
					panics++
					if _, ok := m.Load(i); ok || m.Len() != len(model) {
						t.Fatalf("a panicking Store(%d) changed the map", i)
					}
					m.Store(i, i) // the rebuild again, disarmed
				}
				model[i] = i
				if i%3 == 0 && i-1 != bad {
					m.Delete(i - 1)
					delete(model, i-1)
				}
			}
			if panics < 3 {
				t.Fatalf("only %d rebuilds panicked: the test lost its teeth", panics)
			}
			check(t, m)
			if got := contents(m); !maps.Equal(got, model) || m.Len() != len(model) {
				t.Fatalf("%d entries (Len %d), model %d", len(got), m.Len(), len(model))
			}
		})
	}
}

// TestAdvPrefaultReservePanicThenRegrow: as above, with Reserve as the
// rebuild that panics (Reserve may make its table before locking).
func TestAdvPrefaultReservePanicThenRegrow(t *testing.T) {
	var on atomic.Bool
	const bad = 77
	m := cmap.New[int, int](cmap.WithSegments(1), poisonHasher(&on, bad))
	model := map[int]int{}
	for i := range 600 {
		m.Store(i, i)
		model[i] = i
	}
	for _, n := range []int{5000, 20000, 80000} { // each beyond the table's capacity
		on.Store(true)
		if r := recovered(func() { m.Reserve(n) }); r != "hasher exploded" {
			t.Fatalf("Reserve(%d) with the hasher armed: panic %v", n, r)
		}
		on.Store(false)
		m.Reserve(n)
		for i := range n / 8 {
			m.Store(10000+i, i)
			model[10000+i] = i
		}
		check(t, m)
		if got := contents(m); !maps.Equal(got, model) {
			t.Fatalf("after Reserve(%d): %d entries, model %d", n, len(got), len(model))
		}
	}
}

// TestAdvPrefaultSnapshotsStable: snapshots taken while a segment grows,
// shrinks, is reserved and cleared keep exactly what they saw, after all
// of it and a GC: no table a snapshot shares is ever written again, reused
// as a new table or handed to another segment.
func TestAdvPrefaultSnapshotsStable(t *testing.T) {
	for _, l := range advPrefaultLayouts {
		t.Run(l.name, func(t *testing.T) {
			if l.ents {
				cmap.ForceEntryLayout(true)
			}
			m := cmap.New[int, int](append([]cmap.Option{cmap.WithSegments(2)}, l.opts...)...)
			cmap.ForceEntryLayout(false)
			type taken struct {
				all  func() map[int]int
				want map[int]int
			}
			var snaps []taken
			r := rand.New(rand.NewPCG(5, 5))
			for phase := range 12 {
				switch phase % 4 {
				case 0, 1: // grow
					for range 700 {
						k := r.IntN(5000)
						m.Store(k, phase)
					}
				case 2: // shrink
					for k := range m.Keys() {
						if r.IntN(10) != 0 {
							m.Delete(k)
						}
					}
				case 3:
					if phase == 7 {
						m.Clear()
					} else {
						m.Reserve(3000)
					}
				}
				s := m.Snapshot()
				snaps = append(snaps, taken{func() map[int]int { return maps.Collect(s.All()) }, contents(m)})
			}
			check(t, m)
			for i, s := range snaps {
				if got := s.all(); !maps.Equal(got, s.want) {
					t.Fatalf("snapshot %d changed: %d entries, took %d", i, len(got), len(s.want))
				}
			}
		})
	}
}

// TestAdvPrefaultConcurrentGrowth: writers grow one segment together (so
// that several of them race to prepare its next table), each owning its
// keys and ending with a known set, while another goroutine snapshots,
// reserves, ranges and counts, and readers check every value. At the end
// the map holds exactly the known set.
func TestAdvPrefaultConcurrentGrowth(t *testing.T) {
	for _, l := range advPrefaultLayouts {
		t.Run(l.name, func(t *testing.T) {
			if l.ents {
				cmap.ForceEntryLayout(true)
			}
			m := cmap.New[int, int](append([]cmap.Option{cmap.WithSegments(1)}, l.opts...)...)
			cmap.ForceEntryLayout(false)
			const writers = 4
			per := 3000
			if testing.Short() {
				per = 1200
			}
			var wg sync.WaitGroup
			var stop atomic.Bool
			errs := make(chan error, 4)
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for round := range 2 {
						for i := range per {
							k := w*per + i
							m.Store(k, k)
							if round == 1 && i%2 == 1 {
								m.Delete(k)
							}
						}
						if round == 0 {
							for i := range per {
								if i%3 == 0 {
									m.Delete(w*per + i)
								}
							}
						}
					}
				}()
			}
			var side sync.WaitGroup
			side.Add(2)
			go func() {
				defer side.Done()
				for i := 0; !stop.Load(); i++ {
					switch i % 4 {
					case 0:
						s := m.Snapshot()
						for k, v := range s.All() {
							if k != v {
								errs <- fmt.Errorf("snapshot: %d→%d", k, v)
								return
							}
						}
					case 1:
						m.Reserve(i * 37 % (writers * per))
					case 2:
						m.Range(func(k, v int) bool {
							if k != v {
								errs <- fmt.Errorf("Range: %d→%d", k, v)
								return false
							}
							return true
						})
					case 3:
						_ = m.Len()
						_ = m.Stats()
					}
				}
			}()
			go func() {
				defer side.Done()
				for i := 0; !stop.Load(); i++ {
					k := i % (writers * per)
					if v, ok := m.Load(k); ok && v != k {
						errs <- fmt.Errorf("Load(%d) = %d", k, v)
						return
					}
				}
			}()
			wg.Wait()
			stop.Store(true)
			side.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			check(t, m)
			want := map[int]int{}
			for w := range writers {
				for i := 0; i < per; i += 2 {
					want[w*per+i] = w*per + i
				}
			}
			if got := contents(m); !maps.Equal(got, want) || m.Len() != len(want) {
				t.Fatalf("%d entries (Len %d), want %d", len(got), m.Len(), len(want))
			}
		})
	}
}

// TestAdvPrefaultClearRacesGrowth: Clear, racing writers that grow the
// same segment (and prepare its next table), leaves a map whose every
// table is consistent; the writers' keys after the last Clear are all
// there.
func TestAdvPrefaultClearRacesGrowth(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(1))
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 4000 {
				k := w*100000 + i
				m.Store(k, k)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 30 {
			m.Clear()
			for range 200 {
				m.Store(-1, -1)
			}
		}
	}()
	wg.Wait()
	check(t, m)
	for k, v := range m.All() {
		if k != v {
			t.Fatalf("%d→%d", k, v)
		}
	}
	m.Clear()
	for i := range 5000 {
		m.Store(i, i)
	}
	check(t, m)
	if m.Len() != 5000 {
		t.Fatalf("Len %d, want 5000", m.Len())
	}
}

// TestAdvPrefaultReserveNoRebuild: after Reserve(n) calls that raced each
// other and growing writers, inserting keys until the map holds the
// largest n rebuilds no table (Reserve's promise; Stats.Resizes counts
// rebuilds): a Reserve must never install a table smaller than it was
// asked for, whatever table was made ahead for it.
func TestAdvPrefaultReserveNoRebuild(t *testing.T) {
	const most = 20000
	m := cmap.New[int, int](cmap.WithSegments(4))
	var wg sync.WaitGroup
	for _, n := range []int{most, 500, 7000, most / 2, 100} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.Reserve(n)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 3000 {
			m.Store(-1-i, 0)
		}
	}()
	wg.Wait()
	before := m.Stats().Resizes
	for i := 0; m.Len() < most; i++ {
		m.Store(i, i)
	}
	if after := m.Stats().Resizes; after != before {
		t.Fatalf("inserting up to the reserved %d entries rebuilt %d tables", most, after-before)
	}
	check(t, m)
}
