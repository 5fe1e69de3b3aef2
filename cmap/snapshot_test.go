package cmap_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// TestSnapshotPrefixOfRounds: writers on separate key groups each write
// keys 0..n-1 of their group in order with the round number as value.
// Every snapshot must show, per group, round r on a prefix of the keys and
// r-1 on the rest: a view at one instant. A weakly consistent scan would
// not.
func TestSnapshotPrefixOfRounds(t *testing.T) {
	const groups, n, rounds = 3, 300, 30
	m := cmap.New[[2]int, int](cmap.WithSegments(8))
	for g := range groups {
		for k := range n {
			m.Store([2]int{g, k}, 0)
		}
	}
	var wg sync.WaitGroup
	var done atomic.Int32
	for g := range groups {
		wg.Go(func() {
			defer done.Add(1)
			for r := 1; r <= rounds; r++ {
				for k := range n {
					m.Store([2]int{g, k}, r)
				}
			}
		})
	}
	snaps := 0
	for done.Load() < groups || snaps < 10 {
		s := m.Snapshot()
		snaps++
		if s.Len() != groups*n {
			t.Fatalf("snapshot Len = %d, want %d", s.Len(), groups*n)
		}
		for g := range groups {
			vals := make([]int, n)
			for k := range n {
				v, ok := s.Load([2]int{g, k})
				if !ok {
					t.Fatalf("snapshot lacks key %v", [2]int{g, k})
				}
				vals[k] = v
			}
			if err := prefixOfRounds(vals); err != nil {
				t.Fatalf("snapshot %d, group %d: %v", snaps, g, err)
			}
		}
	}
	wg.Wait()
	t.Logf("%d snapshots checked", snaps)
}

// prefixOfRounds checks vals = [r, r, ..., r, r-1, ..., r-1].
func prefixOfRounds(vals []int) error {
	r := vals[0]
	i := 0
	for i < len(vals) && vals[i] == r {
		i++
	}
	for j := i; j < len(vals); j++ {
		if vals[j] != r-1 {
			return fmt.Errorf("values %d..%d = %d then %d at %d: not a prefix of one round", 0, i-1, r, vals[j], j)
		}
	}
	return nil
}

// TestSnapshotNeverChanges: a snapshot reads the same after heavy writes,
// and Len agrees with All.
func TestSnapshotNeverChanges(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(4))
	for k := range 1000 {
		m.Store(k, k)
	}
	s := m.Snapshot()
	before := map[int]int{}
	for k, v := range s.All() {
		before[k] = v
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for k := range 5000 {
				switch k % 3 {
				case 0:
					m.Store(k, -w)
				case 1:
					m.Delete(k)
				default:
					m.Compute(k, func(o int, _ bool) (int, cmap.ComputeOp) { return o + 1, cmap.UpdateOp })
				}
			}
		})
	}
	wg.Wait()
	n := 0
	for k, v := range s.All() {
		n++
		if before[k] != v {
			t.Fatalf("snapshot changed: key %d was %d, now %d", k, before[k], v)
		}
	}
	if n != len(before) || s.Len() != n || n != 1000 {
		t.Fatalf("snapshot size changed: %d then %d, Len %d", len(before), n, s.Len())
	}
	for k := range 1000 {
		if v, ok := s.Load(k); !ok || v != k {
			t.Fatalf("snapshot Load(%d) = %d, %v", k, v, ok)
		}
	}
	check(t, m)
}
