package cmap_test

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

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
		cmap.WithHasher(func(_ uint64, k int) uint64 { return goldenHash(k) }), cmap.WithSeed(1),
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

// TestOrderFollowsPublication: the insertion order agrees with what
// lock-free readers saw. Two writers store new keys in different
// segments while a reader looks at pairs of keys near their frontiers:
// seeing x present and then y absent means x was stored first, and
// InOrder must say so. The test hook stalls writers between taking their
// insertion number and publishing, where an order taken by a plain
// increment goes wrong.
func TestOrderFollowsPublication(t *testing.T) {
	var stalls atomic.Int64
	cmap.SetPublishHook(func() {
		if stalls.Add(1)%3 == 0 {
			for range 3 {
				runtime.Gosched()
			}
		}
	})
	defer cmap.SetPublishHook(nil)
	const perWriter = 20000
	m := cmap.New[uint64, uint64](cmap.WithInsertionOrder(), cmap.WithSegments(16))
	key := func(w, j int64) uint64 { return uint64(2*j + w) }
	var progress [2]atomic.Int64
	var stop atomic.Bool
	type pair struct{ before, after uint64 }
	var seen []pair
	var wg sync.WaitGroup
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(1, 2))
		for !stop.Load() {
			w := rng.Int64N(2)
			x := key(w, progress[w].Load()+rng.Int64N(3)-1)
			y := key(1-w, progress[1-w].Load()+rng.Int64N(3)-1)
			_, xin := m.Load(x)
			_, yin := m.Load(y)
			if xin && !yin {
				seen = append(seen, pair{x, y})
			}
		}
	})
	var writers sync.WaitGroup
	for w := range int64(2) {
		writers.Go(func() {
			for j := range int64(perWriter) {
				m.Store(key(w, j), 0)
				progress[w].Store(j + 1)
			}
		})
	}
	writers.Wait()
	stop.Store(true)
	wg.Wait()
	pos := make(map[uint64]int)
	for k := range m.Snapshot().InOrder() {
		pos[k] = len(pos)
	}
	bad, pairs := 0, 0
	for _, p := range seen {
		b, okb := pos[p.before]
		a, oka := pos[p.after]
		if !okb || !oka {
			continue // a key next to a writer's range, never stored
		}
		pairs++
		if b > a {
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d observed pairs are out of insertion order", bad, pairs)
	}
	if pairs < 1000 {
		t.Logf("only %d observed pairs", pairs)
	}
	check(t, m)
}
