package cmap_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmap/segmap/cmap"
)

// TestConcurrentDisjointWriters: each writer owns a key range and stores
// v = k×round; readers check every value they see has that shape, and the
// final contents are exact. It runs across growth, so readers race with
// table swaps.
func TestConcurrentDisjointWriters(t *testing.T) {
	forEachHasher(t, func(t *testing.T, newMap func(...cmap.Option) *cmap.Map[uint64, uint64]) {
		m := newMap()
		const writers, perWriter, rounds = 4, 500, 5 // round 3 deletes, round 5 stores
		var stop atomic.Bool
		var readers sync.WaitGroup
		for r := range 2 {
			readers.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(r), 0))
				for !stop.Load() {
					k := rng.Uint64N(writers*perWriter) + 1
					if v, ok := m.Load(k); ok && v%k != 0 {
						t.Errorf("Load(%d) = %d, not a multiple of the key", k, v)
						return
					}
				}
			})
		}
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				base := uint64(w*perWriter) + 1
				for round := uint64(1); round <= rounds; round++ {
					for k := base; k < base+perWriter; k++ {
						if round%3 == 0 {
							m.Delete(k)
						} else {
							m.Store(k, k*round)
						}
					}
				}
			})
		}
		wg.Wait()
		stop.Store(true)
		readers.Wait()
		check(t, m)
		if m.Len() != writers*perWriter {
			t.Fatalf("Len = %d, want %d", m.Len(), writers*perWriter)
		}
		for k := uint64(1); k <= writers*perWriter; k++ {
			if v, ok := m.Load(k); !ok || v != k*rounds {
				t.Fatalf("Load(%d) = %d, %v, want %d", k, v, ok, k*rounds)
			}
		}
		if m.Stats().Resizes == 0 {
			t.Fatal("no rebuild happened: readers never raced a table swap")
		}
	})
}

// TestConcurrentCompute: contended counters with Compute are exact.
func TestConcurrentCompute(t *testing.T) {
	m := cmap.New[int, int]()
	const goroutines, incs, keys = 8, 2000, 3
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range incs {
				m.Compute((g+i)%keys, func(old int, _ bool) (int, cmap.ComputeOp) { return old + 1, cmap.UpdateOp })
			}
		})
	}
	wg.Wait()
	total := 0
	for _, v := range m.All() {
		total += v
	}
	if total != goroutines*incs {
		t.Fatalf("sum of counters = %d, want %d", total, goroutines*incs)
	}
}

// TestLoadOrComputeOnce: f runs once per absent key however many
// goroutines ask at once.
func TestLoadOrComputeOnce(t *testing.T) {
	m := cmap.New[int, int]()
	var calls [100]atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			<-start
			for k := range len(calls) {
				v, _ := m.LoadOrCompute(k, func() int { calls[k].Add(1); return k * 10 })
				if v != k*10 {
					t.Errorf("LoadOrCompute(%d) = %d", k, v)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for k := range calls {
		if n := calls[k].Load(); n != 1 {
			t.Fatalf("f for key %d ran %d times", k, n)
		}
	}
}

// TestLoadNeverBlocks: a Load completes while another goroutine holds the
// same segment's lock inside a Compute callback.
func TestLoadNeverBlocks(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(1))
	m.Store(1, 1)
	m.Store(2, 2)
	inside := make(chan struct{})
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Compute(1, func(old int, _ bool) (int, cmap.ComputeOp) {
			close(inside)
			<-release
			return old + 1, cmap.UpdateOp
		})
	}()
	<-inside
	if !m.SegmentLocked(2) {
		t.Fatal("segment not locked during Compute: the test proves nothing")
	}
	loaded := make(chan int)
	go func() {
		v, _ := m.Load(2)
		v2, _ := m.Load(1)
		n := 0
		for range m.Snapshot().All() { // snapshot needs the lock: must wait
			n++
		}
		loaded <- v + v2*0 + n*0
	}()
	select {
	case v := <-loaded:
		t.Fatalf("Snapshot completed while a segment lock was held (v=%d)", v)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-done
	if v := <-loaded; v != 2 {
		t.Fatalf("Load(2) = %d", v)
	}
	// And the plain case: Load alone during a held lock.
	inside2 := make(chan struct{})
	release2 := make(chan struct{})
	go func() {
		m.Compute(1, func(old int, _ bool) (int, cmap.ComputeOp) {
			close(inside2)
			<-release2
			return old, cmap.CancelOp
		})
	}()
	<-inside2
	got := make(chan int, 1)
	go func() { v, _ := m.Load(2); got <- v }()
	select {
	case v := <-got:
		if v != 2 {
			t.Fatalf("Load(2) = %d", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Load blocked on a segment lock")
	}
	close(release2)
}

// TestWritersOfOtherSegmentsProceed: a writer blocked in one segment never
// stops writers of other segments.
func TestWritersOfOtherSegmentsProceed(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(16))
	inside := make(chan struct{})
	release := make(chan struct{})
	go m.Compute(0, func(int, bool) (int, cmap.ComputeOp) {
		close(inside)
		<-release
		return 0, cmap.CancelOp
	})
	<-inside
	blocked := m.SegmentOf(0)
	stored := 0
	for k := 1; stored < 100; k++ {
		if m.SegmentOf(k) == blocked {
			continue
		}
		m.Store(k, k) // would hang if it waited for segment `blocked`
		stored++
	}
	close(release)
	for m.SegmentLocked(0) {
		runtime.Gosched()
	}
}

// TestRangeUnderDeleteReinsert: while writers delete and re-insert the same
// keys, no iteration visits a key twice, and keys never touched are always
// visited.
func TestRangeUnderDeleteReinsert(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(4))
	const stable, churn = 200, 200
	for k := range stable + churn {
		m.Store(k, k)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for !stop.Load() {
				k := stable + rng.IntN(churn)
				m.Delete(k)
				m.Store(k, k)
			}
		})
	}
	deadline := time.Now().Add(300 * time.Millisecond)
	iterations := 0
	for time.Now().Before(deadline) || iterations < 20 {
		iterations++
		seen := make(map[int]bool, stable+churn)
		for k := range m.Keys() {
			if seen[k] {
				stop.Store(true)
				wg.Wait()
				t.Fatalf("iteration %d visited key %d twice", iterations, k)
			}
			seen[k] = true
		}
		for k := range stable {
			if !seen[k] {
				stop.Store(true)
				wg.Wait()
				t.Fatalf("iteration %d missed stable key %d", iterations, k)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	check(t, m)
}

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
