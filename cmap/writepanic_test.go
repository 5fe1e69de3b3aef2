package cmap_test

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// A delete, PopOldest or evicting insert whose rebuild panics (here: a
// user hasher that panics on one key while a rebuild rehashes it) must
// leave the map exactly as it was: no entry lost or half-deleted, no lock
// held, the bound's reservations consistent.

// shrinkingMap returns a one-segment map with opts holding keys 0..n-1 in
// a table far too big for them, so that the next delete shrinks it: its
// rebuild rehashes key 0, which panics while on is set.
func shrinkingMap(n int, on *atomic.Bool, opts ...cmap.Option) *cmap.Map[int, int] {
	m := cmap.New[int, int](append(opts, cmap.WithSegments(1), poisonHasher(on, 0))...)
	m.Reserve(100 * n)
	for i := range n {
		m.Store(i, i)
	}
	m.Reserve(0) // lift the floor: deletes may now shrink the table
	return m
}

func TestDeleteShrinkPanic(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []cmap.Option
	}{
		{"plain", nil},
		{"ordered", []cmap.Option{cmap.WithInsertionOrder()}},
		{"RejectNew", []cmap.Option{cmap.WithMaxLen(1000, cmap.RejectNew)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 100
			var on atomic.Bool
			m := shrinkingMap(n, &on, tc.opts...)
			groups := m.TableGroups()[0]
			on.Store(true)
			panics := 0
			for k := n - 1; k >= 1; k-- {
				if recovered(func() { m.Delete(k) }) == nil {
					t.Fatalf("Delete(%d) did not shrink the table (%d groups)", k, groups)
				}
				panics++
				if v, ok := m.Load(k); !ok || v != k {
					t.Fatalf("Delete(%d) panicked and deleted the key anyway", k)
				}
				if m.Len() != n {
					t.Fatalf("Len = %d after a failed Delete, want %d", m.Len(), n)
				}
				mustBeUnlocked(t, m)
			}
			if g := m.TableGroups()[0]; g != groups {
				t.Fatalf("table resized from %d to %d groups by failed deletes", groups, g)
			}
			on.Store(false)
			// The delete that failed, now with a good hasher: it shrinks
			// the table. (Checked after it: CheckInvariants reports a
			// RejectNew table above its layout with few entries, which a
			// smaller Reserve leaves until the next delete shrinks it.)
			m.Delete(n - 1)
			if _, ok := m.Load(n - 1); ok || m.Len() != n-1 || m.TableGroups()[0] >= groups {
				t.Fatalf("Delete after the failures: present %v, Len %d, %d groups", ok, m.Len(), m.TableGroups()[0])
			}
			check(t, m) // counts, and reservations == live entries
			// The bound's bookkeeping: a RejectNew map below its bound
			// takes new keys.
			for k := n; k < 1000; k++ {
				if err := m.TryStore(k, k); err != nil {
					t.Fatalf("TryStore(%d) with Len %d of 1000: %v", k, m.Len(), err)
				}
			}
			check(t, m)
		})
	}
}

func TestPopOldestShrinkPanic(t *testing.T) {
	const n = 100
	var on atomic.Bool
	m := shrinkingMap(n, &on, cmap.WithInsertionOrder())
	m.Store(0, 0) // key 0, the poisoned one, is the newest: PopOldest takes 1
	on.Store(true)
	if recovered(func() { m.PopOldest() }) == nil {
		t.Fatal("PopOldest did not shrink the table")
	}
	mustBeUnlocked(t, m)
	if v, ok := m.Load(1); !ok || v != 1 || m.Len() != n {
		t.Fatalf("failed PopOldest lost the oldest entry: Load(1) = %d, %v; Len %d", v, ok, m.Len())
	}
	on.Store(false)
	check(t, m)
	if k, _, ok := m.PopOldest(); !ok || k != 1 {
		t.Fatalf("PopOldest = %d, %v after the failed one, want 1", k, ok)
	}
	check(t, m)
}

func TestEvictionShrinkPanic(t *testing.T) {
	// The oldest entry is alone with key 0 in a segment far too big for
	// them, so evicting it shrinks that segment; the rebuild panics, and
	// the insert must not happen either.
	var on atomic.Bool
	var evicted atomic.Int64
	const bound = 40
	m := cmap.New[int, int](cmap.WithSegments(2), poisonHasher(&on, 0),
		cmap.WithMaxLen(bound, cmap.EvictOldest),
		cmap.WithOnEvict(func(int, int) { evicted.Add(1) }))
	seg0 := m.SegmentOf(0)
	oldest := -1
	for k := 1; oldest < 0; k++ {
		if m.SegmentOf(k) == seg0 {
			oldest = k
		}
	}
	m.Reserve(10000)
	m.Store(oldest, oldest)
	m.Store(0, 0)
	var fresh int // a key of the other segment, not stored
	stored := 2
	for k := 1; stored < bound || fresh == 0; k++ {
		if k == oldest || m.SegmentOf(k) == seg0 {
			continue
		}
		if stored < bound {
			m.Store(k, k)
			stored++
		} else {
			fresh = k
		}
	}
	m.Reserve(0)
	on.Store(true)
	if recovered(func() { m.Store(fresh, fresh) }) == nil {
		t.Fatal("the eviction did not shrink the oldest entry's segment")
	}
	mustBeUnlocked(t, m)
	if _, ok := m.Load(oldest); !ok {
		t.Fatal("the eviction happened although its rebuild panicked")
	}
	if _, ok := m.Load(fresh); ok || m.Len() != bound || evicted.Load() != 0 {
		t.Fatalf("failed evicting Store: new key present %v, Len %d, %d evictions", ok, m.Len(), evicted.Load())
	}
	on.Store(false)
	check(t, m)
	m.Store(fresh, fresh)
	if _, ok := m.Load(oldest); ok || evicted.Load() != 1 || m.Len() != bound {
		t.Fatalf("evicting Store: oldest present %v, %d evictions, Len %d", ok, evicted.Load(), m.Len())
	}
	check(t, m)
}

// table1Max is the most entries a one-group table holds: 0.7 × 7 slots.
const table1Max = 4

func TestEvictingInsertCopyPanic(t *testing.T) {
	// The oldest entry is in one segment, the new key in another that a
	// snapshot froze and that is full: the insert's rebuild of its
	// segment rehashes key 0 and panics. The eviction must not happen, or be
	// visible: here, not happen.
	var on atomic.Bool
	var evicted atomic.Int64
	const bound = 20
	m := cmap.New[int, int](cmap.WithSegments(2), poisonHasher(&on, 0),
		cmap.WithMaxLen(bound, cmap.EvictOldest),
		cmap.WithOnEvict(func(int, int) { evicted.Add(1) }))
	seg0 := m.SegmentOf(0)
	oldest, fresh := -1, -1
	for k := 1; oldest < 0 || fresh < 0; k++ {
		if m.SegmentOf(k) != seg0 && oldest < 0 {
			oldest = k
		} else if m.SegmentOf(k) == seg0 && fresh < 0 {
			fresh = k
		}
	}
	// Key 0's segment gets exactly as many entries as its one-group table
	// holds, so that the insert of fresh must grow it: a rebuild that
	// rehashes every key (a copy that fits would be a verbatim clone,
	// which hashes nothing). The other segment holds the rest, oldest
	// first.
	m.Store(oldest, oldest)
	m.Store(0, 0)
	in0 := 1
	for k := 1; m.Len() < bound; k++ {
		if k == oldest || k == fresh {
			continue
		}
		if m.SegmentOf(k) == seg0 {
			if in0 == table1Max {
				continue
			}
			in0++
		}
		m.Store(k, k)
	}
	if g := m.TableGroups()[seg0]; g != 1 || in0 != table1Max {
		t.Fatalf("setup: key 0's segment has %d groups and %d entries, want 1 and %d", g, in0, table1Max)
	}
	snap := m.Snapshot() // freezes every segment
	on.Store(true)
	r := recovered(func() { m.Store(fresh, fresh) })
	if r == nil {
		t.Fatal("the copy-on-write rebuild did not rehash key 0")
	}
	mustBeUnlocked(t, m)
	if _, ok := m.Load(oldest); !ok && evicted.Load() == 0 {
		t.Fatal("entry evicted silently: absent, and OnEvict not called")
	}
	if _, ok := m.Load(oldest); !ok || m.Len() != bound {
		t.Fatalf("failed evicting Store changed the map: oldest present %v, Len %d", ok, m.Len())
	}
	if _, ok := m.Load(fresh); ok {
		t.Fatal("new key present after its Store panicked")
	}
	on.Store(false)
	check(t, m)
	if snap.Len() != bound {
		t.Fatalf("snapshot changed: Len %d", snap.Len())
	}
	m.Store(fresh, fresh)
	if _, ok := m.Load(oldest); ok || evicted.Load() != 1 {
		t.Fatalf("after a good Store: oldest present %v, %d evictions", ok, evicted.Load())
	}
	check(t, m)
}

func TestRejectNewAfterFailedDeletes(t *testing.T) {
	// The failure the bookkeeping must prevent: after failed deletes, a
	// RejectNew map holding one entry refused a new key with ErrFull.
	var on atomic.Bool
	m := shrinkingMap(10, &on, cmap.WithMaxLen(10, cmap.RejectNew))
	on.Store(true)
	for k := 9; k >= 1; k-- {
		recovered(func() { m.Delete(k) })
	}
	on.Store(false)
	for k := 9; k >= 1; k-- {
		m.Delete(k)
	}
	if m.Len() != 1 {
		t.Fatalf("Len = %d, want 1", m.Len())
	}
	if err := m.TryStore(100, 100); errors.Is(err, cmap.ErrFull) {
		t.Fatalf("TryStore on a map with 1 entry of 10: %v", err)
	}
	check(t, m)
}
