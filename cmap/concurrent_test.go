package cmap_test

import (
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

// TestLoadNeverBlocks: a Load completes while another goroutine holds the
// lock of the key inside a Compute callback (its home group's lock in a
// group-lock map, else its segment's).
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
	if !m.KeyLocked(1) {
		t.Fatal("key not locked during Compute: the test proves nothing")
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
