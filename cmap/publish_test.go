package cmap_test

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmap/segmap/cmap"
)

// stallPublish makes the next publication of an entry on an ordered map
// stop, with the publication lock and its segment's lock (every segment
// lock, for an evicting insert) held, until release is closed; entered
// is closed when it stops. The hook is removed by the returned function.
func stallPublish() (entered, release chan struct{}, remove func()) {
	entered, release = make(chan struct{}), make(chan struct{})
	var armed atomic.Bool
	armed.Store(true)
	cmap.SetPublishHook(func() {
		if armed.CompareAndSwap(true, false) {
			close(entered)
			<-release
		}
	})
	return entered, release, func() { cmap.SetPublishHook(nil) }
}

// waits reports whether f is still running after a short while (it
// waits for something) and returns a channel closed when it returns.
func waits(f func()) (bool, chan struct{}) {
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
		return false, done
	case <-time.After(50 * time.Millisecond):
		return true, done
	}
}

// TestStalledEvictingInsert: an evicting insert descheduled between its
// eviction and the publication of its entry holds every segment lock and
// the publication lock. Meanwhile Load and Len never wait and see the
// map without the evicted entry and without the new one (Len one below the
// bound, never above); Snapshot, Oldest and the writes of every segment
// wait, and once it goes on, each sees the insert complete.
func TestStalledEvictingInsert(t *testing.T) {
	const bound = 4
	var mu sync.Mutex // OnEvict runs in the evicting goroutines
	var evicted []int
	m := cmap.New[int, int](cmap.WithSegments(4), cmap.WithMaxLen(bound, cmap.EvictOldest),
		cmap.WithHasher(func(_ uint64, k int) uint64 { return uint64(k) * 0x9E3779B97F4A7C15 }), cmap.WithSeed(1),
		cmap.WithOnEvict(func(k, _ int) { mu.Lock(); evicted = append(evicted, k); mu.Unlock() }))
	for k := range bound {
		m.Store(k, k)
	}
	entered, release, remove := stallPublish()
	defer remove()
	stored := make(chan struct{})
	go func() { defer close(stored); m.Store(100, 100) }()
	<-entered

	defer watchdog("Load or Len during a stalled publication")()
	if _, ok := m.Load(0); ok {
		t.Fatal("the oldest entry is still present: the eviction comes first")
	}
	for k := 1; k < bound; k++ {
		if v, ok := m.Load(k); !ok || v != k {
			t.Fatalf("Load(%d) = %d, %v during the stall", k, v, ok)
		}
	}
	if _, ok := m.Load(100); ok {
		t.Fatal("the new key is visible before its publication")
	}
	if n := m.Len(); n != bound-1 {
		t.Fatalf("Len = %d during the stall, want %d", n, bound-1)
	}
	var snapLen int
	var snapKeys []int
	snapWaits, snapDone := waits(func() {
		s := m.Snapshot()
		snapLen = s.Len()
		for k := range s.Keys() {
			snapKeys = append(snapKeys, k)
		}
	})
	oldestWaits, oldestDone := waits(func() { m.Oldest() })
	other := 1 // a present key of a segment other than key 100's: an update
	for m.SegmentOf(other) == m.SegmentOf(100) {
		if other++; other == bound {
			t.Fatal("keys 1..3 all in key 100's segment: change the hasher")
		}
	}
	storeWaits, storeDone := waits(func() { m.Store(other, -1) })
	if !snapWaits || !oldestWaits || !storeWaits {
		t.Fatalf("during the stall: Snapshot waits %v, Oldest waits %v, a Store elsewhere waits %v; want all true",
			snapWaits, oldestWaits, storeWaits)
	}
	close(release)
	<-stored
	<-snapDone
	<-oldestDone
	<-storeDone
	slices.Sort(snapKeys)
	if snapLen != bound || !slices.Contains(snapKeys, 100) || slices.Contains(snapKeys, 0) {
		t.Fatalf("snapshot after the stall: Len %d, keys %v; want 1..3 and 100", snapLen, snapKeys)
	}
	if !slices.Equal(evicted[:1], []int{0}) {
		t.Fatalf("evicted %v, want 0 first", evicted)
	}
	check(t, m)
}

// TestStalledPublicationOrdersWriters: on a map with insertion order,
// every publication passes through one map-wide lock, so a writer of
// another segment waits while a publication is descheduled (in production,
// for as long as the publishing goroutine is preempted in a single store),
// and readers do not.
func TestStalledPublicationOrdersWriters(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(4), cmap.WithInsertionOrder())
	m.Store(1, 1)
	entered, release, remove := stallPublish()
	defer remove()
	stored := make(chan struct{})
	go func() { defer close(stored); m.Store(0, 0) }()
	<-entered
	other := 1
	for m.SegmentOf(other) == m.SegmentOf(0) {
		other++
	}
	defer watchdog("Load during a stalled publication")()
	if _, ok := m.Load(1); !ok {
		t.Fatal("Load(1) missed during the stall")
	}
	storeWaits, storeDone := waits(func() { m.Store(other, 2) })
	if !storeWaits {
		t.Fatal("a Store to another segment did not wait for the stalled publication")
	}
	close(release)
	<-stored
	<-storeDone
	if k, _, _ := m.Newest(); k != other {
		t.Fatalf("Newest = %d, want %d (published after 0)", k, other)
	}
	check(t, m)
}
