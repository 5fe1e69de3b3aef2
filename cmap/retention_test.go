package cmap_test

import (
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"weak"

	"github.com/segmap/segmap/cmap"
)

// payload is a value big enough that keeping it alive is a real leak.
type payload struct {
	key int
	_   [256]byte
}

// collected runs the garbage collector and returns how many of ws point
// to values that were collected.
func collected(ws []weak.Pointer[payload]) int {
	runtime.GC()
	runtime.GC()
	n := 0
	for _, w := range ws {
		if w.Value() == nil {
			n++
		}
	}
	return n
}

// TestNewestReleasesDeletedValues: the records that Newest drops from the
// end of a segment's log are released, so the values of deleted keys can
// be collected. (Newest used to shorten only the slice, and Compact to
// clear only up to its length: deleting newest-first with Newest after
// each kept almost every deleted value reachable for good.)
func TestNewestReleasesDeletedValues(t *testing.T) {
	const n = 2000
	// With a capacity floor no table shrinks, so no rebuild gives the log
	// a new array: the dropped records must be released in place.
	for _, opts := range [][]cmap.Option{{}, {cmap.WithCapacity(n)}} {
		m := cmap.New[int, *payload](append(opts, cmap.WithSegments(1), cmap.WithInsertionOrder())...)
		ws := make([]weak.Pointer[payload], n)
		for k := range n {
			p := &payload{key: k}
			ws[k] = weak.Make(p)
			m.Store(k, p)
		}
		for k := n - 1; k >= 1; k-- {
			m.Delete(k)
			if key, _, ok := m.Newest(); !ok || key != k-1 {
				t.Fatalf("Newest = %d, %v after deleting %d", key, ok, k)
			}
		}
		for i := range 100_000 {
			m.Store(0, &payload{key: -i})
		}
		check(t, m)
		// Key 0's first value was overwritten too: all n may go.
		if got := collected(ws); got < n-cmap.LogSlack-1 {
			t.Fatalf("%d options: %d of %d deleted values collected, want all but at most %d", len(opts), got, n, cmap.LogSlack+1)
		}
		runtime.KeepAlive(m)
	}
}

// TestStaleRecordsBound: each segment's log keeps at most as many stale
// records as the segment has live entries, plus LogSlack; so at most
// Len() + LogSlack × segments deleted or overwritten values stay reachable
// from the logs of a map no snapshot shares. Measured here on a FIFO
// cache of 100 entries over 4 segments, after many evictions.
func TestStaleRecordsBound(t *testing.T) {
	const n, segs = 100, 4
	m := cmap.New[int, *payload](cmap.WithSegments(segs), cmap.WithMaxLen(n, cmap.EvictOldest))
	var ws []weak.Pointer[payload]
	for k := range 100_000 {
		p := &payload{key: k}
		if k < 100_000-n {
			ws = append(ws, weak.Make(p)) // evicted by the end
		}
		m.Store(k, p)
		if k%1000 == 0 {
			check(t, m) // includes the bound on every log
		}
	}
	if m.Len() != n {
		t.Fatalf("Len = %d, want %d", m.Len(), n)
	}
	alive := len(ws) - collected(ws)
	if limit := n + cmap.LogSlack*segs; alive > limit {
		t.Fatalf("%d evicted values alive for %d live entries over %d segments, want at most %d", alive, n, segs, limit)
	}
	t.Logf("%d evicted values alive for %d live entries over %d segments", alive, n, segs)
	runtime.KeepAlive(m)
}

// TestOrderedCopyOnWriteKeepsSnapshots: the first write after a snapshot
// clones an ordered segment's table and keeps its log; the log's later
// writes (appends past the snapshot's records, Newest dropping some of
// them, an append below their end, compaction) never change what a
// snapshot sees.
func TestOrderedCopyOnWriteKeepsSnapshots(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(1), cmap.WithInsertionOrder())
	var model []int
	for k := range 100 {
		m.Store(k, k)
		model = append(model, k)
	}
	type snap struct {
		keys []int
		get  func() []int
	}
	var snaps []snap
	take := func() {
		s := m.Snapshot()
		snaps = append(snaps, snap{slices.Clone(model), func() []int {
			var ks []int
			for k := range s.InOrder() {
				ks = append(ks, k)
			}
			return ks
		}})
	}
	verify := func(step string) {
		t.Helper()
		for i, s := range snaps {
			if got := s.get(); !slices.Equal(got, s.keys) {
				t.Fatalf("%s: snapshot %d changed: %v..., want %v...", step, i, got[:min(5, len(got))], s.keys[:min(5, len(s.keys))])
			}
		}
		check(t, m)
	}
	take()
	groups, resizes := m.TableGroups()[0], m.Stats().Resizes
	m.Store(100, 100) // the first write: a clone
	model = append(model, 100)
	if m.TableGroups()[0] != groups || m.Stats().Resizes != resizes+1 {
		t.Fatalf("first write after a snapshot: %d groups (was %d), %d resizes (was %d); want one clone", m.TableGroups()[0], groups, m.Stats().Resizes, resizes)
	}
	verify("clone")
	for _, k := range []int{100, 99, 98} {
		m.Delete(k)
		model = slices.DeleteFunc(model, func(x int) bool { return x == k })
	}
	if k, _, _ := m.Newest(); k != 97 {
		t.Fatalf("Newest = %d, want 97", k)
	}
	verify("Newest")
	m.Store(200, 200) // below the end of the snapshot's records
	model = append(model, 200)
	verify("append")
	take()
	for i := range 120 { // enough stale records to compact
		k := i % 60
		m.Store(k, -i)
		model = append(slices.DeleteFunc(model, func(x int) bool { return x == k }), k)
	}
	verify("compact")
	if got := m.Snapshot(); got.Len() != len(model) {
		t.Fatalf("Len = %d, want %d", got.Len(), len(model))
	}
}

func TestDeletedKeysAreCollected(t *testing.T) {
	var m cmap.Map[any, any]
	m.Store(nil, struct{}{})
	var cleaned atomic.Uint32
	for i := 0; cleaned.Load() == 0; i++ {
		if i == 1000 {
			t.Fatal("no deleted key was collected after 1000 GCs")
		}
		p := new(int)
		runtime.AddCleanup(p, func(c *atomic.Uint32) { c.Add(1) }, &cleaned)
		m.Store(p, struct{}{})
		m.Delete(p)
		runtime.GC()
	}
}
