package cmap_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/segmap/segmap/cmap"
	"github.com/segmap/segmap/snapshot"
)

// TestOrderedLogsUnderEverything attacks the log sharing of ordered maps
// (internal/table's Log, "Sharing"): writers store new keys, re-store
// theirs with CompareAndSwap (moving them to the newest position) and
// delete them, while PopOldest, Newest, Range (whose pins make writers
// clone tables) and Snapshot run at once, so that logs are shared,
// appended past and below their shared part, trimmed by Newest below it
// and compacted. A value is its writer's stamp, which grows with each of
// its stores, so:
//
//   - in every snapshot's InOrder, each key appears once, the keys are
//     those of All, and each writer's stamps increase;
//   - each snapshot's InOrder, read again at the end, is what it was;
//   - PopOldest returns each writer's stamps in increasing order;
//   - each key stored ends up exactly once: in the map, popped, or
//     deleted by its writer.
func TestOrderedLogsUnderEverything(t *testing.T) {
	const writers = 3
	opsPerWriter := 4000
	if raceEnabled {
		opsPerWriter = 1500
	}
	m := cmap.New[int, int](cmap.WithSegments(4), cmap.WithInsertionOrder())
	var stop atomic.Bool
	var wg, others sync.WaitGroup
	var popped, deleted [writers]map[int]bool
	var stored [writers][]int
	for w := range writers {
		popped[w], deleted[w] = map[int]bool{}, map[int]bool{}
	}
	var popMu sync.Mutex

	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			stamp := 0
			own := map[int]int{} // key -> stamp last stored, possibly popped since
			next := 0
			for range opsPerWriter {
				stamp++
				switch r := rng.IntN(10); {
				case r < 5 || len(own) == 0:
					k := w<<24 | next
					next++
					m.Store(k, stamp)
					own[k] = stamp
					stored[w] = append(stored[w], k)
				case r == 8:
					// The log's worst case, raced by the others: a
					// snapshot shares the record of the newest key, a
					// delete makes it stale, Newest trims it off the
					// log, and the next store appends below the
					// snapshot's end.
					k := w<<24 | next
					next++
					m.Store(k, stamp)
					stored[w] = append(stored[w], k)
					s := m.Snapshot()
					if _, ok := m.LoadAndDelete(k); ok {
						deleted[w][k] = true
					}
					m.Newest()
					stamp++
					k2 := w<<24 | next
					next++
					m.Store(k2, stamp)
					own[k2] = stamp
					stored[w] = append(stored[w], k2)
					if _, err := checkInOrder(s, writers); err != nil {
						t.Error(err)
						return
					}
				case r < 8:
					k := anyKey(rng, own)
					if m.CompareAndSwap(k, own[k], stamp) {
						own[k] = stamp
					} else {
						delete(own, k) // popped
					}
				default:
					// Often the newest: Newest then trims the log below
					// a snapshot's part of it.
					k, newest := anyKey(rng, own), -1
					for kk, st := range own {
						if newest < 0 || st > own[newest] {
							newest = kk
						}
					}
					if rng.IntN(2) == 0 {
						k = newest
					}
					if _, ok := m.LoadAndDelete(k); ok {
						deleted[w][k] = true
					}
					delete(own, k)
				}
			}
		}()
	}
	// PopOldest: each writer's stamps in increasing order.
	others.Add(1)
	go func() {
		defer others.Done()
		last := [writers]int{}
		for !stop.Load() {
			k, v, ok := m.PopOldest()
			if !ok {
				continue
			}
			w := k >> 24
			if v <= last[w] {
				t.Errorf("PopOldest: writer %d's stamp %d after %d", w, v, last[w])
			}
			last[w] = v
			popMu.Lock()
			if popped[w][k] {
				t.Errorf("PopOldest: key %#x popped twice", k)
			}
			popped[w][k] = true
			popMu.Unlock()
		}
	}()
	// Newest and Range: Newest trims the logs' stale tails, Range pins
	// tables so that writers clone them.
	others.Add(1)
	go func() {
		defer others.Done()
		for i := 0; !stop.Load(); i++ {
			m.Newest()
			if i%8 == 0 {
				m.Range(func(int, int) bool { return true })
			}
		}
	}()
	// Snapshots, each checked when taken and kept.
	type taken struct {
		s     *snapshot.Snapshot[int, int]
		order []int
	}
	var snaps []taken
	others.Add(1)
	go func() {
		defer others.Done()
		for !stop.Load() {
			s := m.Snapshot()
			order, err := checkInOrder(s, writers)
			if err != nil {
				t.Error(err)
				return
			}
			if len(snaps) < 200 {
				snaps = append(snaps, taken{s, order})
			}
		}
	}()
	wg.Wait()
	stop.Store(true)
	others.Wait()

	for i, s := range snaps {
		if got, err := checkInOrder(s.s, writers); err != nil || !slices.Equal(got, s.order) {
			t.Fatalf("snapshot %d changed (%v): InOrder %v, was %v", i, err, got, s.order)
		}
	}
	check(t, m)
	for w := range writers {
		for _, k := range stored[w] {
			_, present := m.Load(k)
			n := 0
			for _, b := range []bool{present, popped[w][k], deleted[w][k]} {
				if b {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("key %#x: present %v, popped %v, deleted %v", k, present, popped[w][k], deleted[w][k])
			}
		}
	}
	npop, ndel := 0, 0
	for w := range writers {
		npop, ndel = npop+len(popped[w]), ndel+len(deleted[w])
	}
	t.Logf("%d snapshots kept, %d popped, %d deleted, %d left", len(snaps), npop, ndel, m.Len())
	if len(snaps) < 5 {
		t.Fatalf("only %d snapshots taken", len(snaps))
	}
}

// anyKey returns a random key of own, which must not be empty.
func anyKey(rng *rand.Rand, own map[int]int) int {
	i := rng.IntN(len(own))
	for k := range own {
		if i == 0 {
			return k
		}
		i--
	}
	panic("unreachable")
}

// checkInOrder checks a snapshot of TestOrderedLogsUnderEverything's map
// and returns its InOrder keys and values.
func checkInOrder(s *snapshot.Snapshot[int, int], writers int) ([]int, error) {
	var order []int
	seen := map[int]bool{}
	last := make([]int, writers)
	for k, v := range s.InOrder() {
		if seen[k] {
			return nil, fmt.Errorf("InOrder: key %#x twice", k)
		}
		seen[k] = true
		if w := k >> 24; v <= last[w] {
			return nil, fmt.Errorf("InOrder: writer %d's stamp %d after %d", w, v, last[w])
		} else {
			last[w] = v
		}
		if got, ok := s.Load(k); !ok || got != v {
			return nil, fmt.Errorf("InOrder gave %#x: %d, Load gives %d, %v", k, v, got, ok)
		}
		order = append(order, k, v)
	}
	n := 0
	for k := range s.Keys() {
		if !seen[k] {
			return nil, fmt.Errorf("key %#x in All, not in InOrder", k)
		}
		n++
	}
	if n != len(seen) || s.Len() != n {
		return nil, fmt.Errorf("InOrder has %d keys, All %d, Len %d", len(seen), n, s.Len())
	}
	return order, nil
}
