package cmap_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/segmap/segmap/cmap"
)

// A hasher that panics on demand, on the paths that rehash keys while a
// segment lock is held: Reserve, Stats, the copy-on-write after a
// Snapshot, Clear, and CheckInvariants. Each test compares the map with a
// plain map model afterwards, checks that every segment lock was released
// (a write to each segment completes), and checks the invariants.

// panicConfig is one kind of map the panicking-hasher tests run on.
type panicConfig struct {
	name    string
	ordered bool
	opts    []cmap.Option
}

func panicConfigs(segs int) []panicConfig {
	s := cmap.WithSegments(segs)
	return []panicConfig{
		{"plain", false, []cmap.Option{s}},
		{"ordered", true, []cmap.Option{s, cmap.WithInsertionOrder()}},
		{"evict", true, []cmap.Option{s, cmap.WithMaxLen(1<<20, cmap.EvictOldest)}},
		{"reject", false, []cmap.Option{s, cmap.WithMaxLen(1<<12, cmap.RejectNew)}},
	}
}

// newBombMap returns a map of config c hashing with b, and its model.
func newBombMap(c panicConfig, b *bomb) (*cmap.Map[int, int], *model) {
	m := cmap.New[int, int](append(slices.Clone(c.opts), cmap.WithHasher(b.hash))...)
	return m, &model{m: map[int]int{}, ordered: c.ordered}
}

// fill stores keys 0..n-1 and safeFrom..safeFrom+9 in m and md.
func fill(m *cmap.Map[int, int], md *model, n int) {
	for k := range n {
		m.Store(k, k)
		md.store(k, k)
	}
	for k := safeFrom; k < safeFrom+10; k++ {
		m.Store(k, k)
		md.store(k, k)
	}
}

// settled checks that m holds exactly md, with no segment lock held and
// every invariant true. The bomb must be disarmed.
func settled(t *testing.T, m *cmap.Map[int, int], md *model) {
	t.Helper()
	segs := len(m.TableGroups()) // takes no lock
	seen := make(map[int]bool)
	for k := 2 * safeFrom; len(seen) < segs; k++ {
		i := m.SegmentOf(k)
		if seen[i] {
			continue
		}
		seen[i] = true
		if m.SegmentLocked(k) {
			t.Fatalf("segment %d left locked", i)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			m.Compute(k, func(v int, ok bool) (int, cmap.ComputeOp) { return v, cmap.CancelOp })
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("a write to segment %d still waits after 10s: its lock was never released", i)
		}
	}
	if got := contents(m); !maps.Equal(got, md.m) {
		t.Fatalf("map holds %d entries, model %d: an entry was lost or half-written", len(got), len(md.m))
	}
	if m.Len() != len(md.m) {
		t.Fatalf("Len = %d, model holds %d", m.Len(), len(md.m))
	}
	if md.ordered {
		var got []int
		for k := range m.Snapshot().InOrder() {
			got = append(got, k)
		}
		if !slices.Equal(got, md.order) {
			t.Fatalf("insertion order differs from the model's")
		}
	}
	check(t, m)
}

// TestPanicInReserve: a hasher that panics while Reserve rebuilds a
// segment leaves that segment as it was (its table, its floor) and
// unlocked; the segments Reserve finished keep their new tables, and no
// entry is lost.
func TestPanicInReserve(t *testing.T) {
	for _, segs := range []int{1, 16} {
		for _, c := range panicConfigs(segs) {
			t.Run(fmt.Sprintf("%s/segs=%d", c.name, segs), func(t *testing.T) {
				var b bomb
				m, md := newBombMap(c, &b)
				fill(m, md, 500)
				before := m.TableGroups()
				const n = 50_000
				if !b.explode(t, func() { m.Reserve(n) }) {
					t.Fatal("Reserve rehashed no key")
				}
				after := m.TableGroups()
				changed := 0
				for i := range before {
					if after[i] != before[i] {
						changed++
					}
				}
				if changed == len(before) {
					t.Fatalf("every segment rebuilt, yet Reserve panicked: %v -> %v", before, after)
				}
				settled(t, m, md)
				m.Reserve(n) // disarmed: completes
				settled(t, m, md)
				for i, g := range m.TableGroups() {
					if g <= before[i] {
						t.Fatalf("segment %d: %d groups after Reserve(%d), %d before", i, g, n, before[i])
					}
				}
			})
		}
	}
}

// TestPanicInStats: a hasher that panics while Stats measures probe
// lengths leaves every segment unlocked and the map unchanged.
func TestPanicInStats(t *testing.T) {
	for _, segs := range []int{1, 16} {
		for _, c := range panicConfigs(segs) {
			t.Run(fmt.Sprintf("%s/segs=%d", c.name, segs), func(t *testing.T) {
				var b bomb
				m, md := newBombMap(c, &b)
				fill(m, md, 500)
				if !b.explode(t, func() { m.Stats() }) {
					t.Fatal("Stats hashed no key")
				}
				settled(t, m, md)
			})
		}
	}
}

// TestPanicInCopyOnWrite: after a Snapshot, the first write to a segment
// copies its table. A hasher that panics in that copy (an insert that no
// longer fits must rehash into a bigger table) leaves the map and the
// snapshot unchanged and the segment unlocked. Writes whose copy needs no
// hash (a verbatim clone) either happen completely or, if they rehash,
// not at all.
func TestPanicInCopyOnWrite(t *testing.T) {
	for _, c := range panicConfigs(1)[:3] { // a RejectNew map never grows
		t.Run(c.name, func(t *testing.T) {
			var b bomb
			m, md := newBombMap(c, &b)
			fill(m, md, 0)
			// Fill until the next new key does not fit.
			for k := 0; ; k++ {
				if s := m.Stats(); s.Len >= 100 && s.Len+s.Tombstones == s.Capacity*7/10 {
					break
				}
				m.Store(k, k)
				md.store(k, k)
			}
			snap := m.Snapshot()
			frozen := contents(m)
			if !b.explode(t, func() { m.Store(safeFrom+100, 1) }) {
				t.Fatal("an insert into a full frozen table rehashed nothing")
			}
			// An overwrite and a delete of a frozen table's keys.
			if !b.explode(t, func() { m.Store(safeFrom+1, -1) }) {
				md.store(safeFrom+1, -1)
			}
			if !b.explode(t, func() { m.Delete(safeFrom + 2) }) {
				md.remove(safeFrom + 2)
			}
			if got := maps.Collect(snap.All()); !maps.Equal(got, frozen) {
				t.Fatal("the snapshot changed")
			}
			settled(t, m, md)
			m.Store(safeFrom+100, 1) // disarmed: grows
			md.store(safeFrom+100, 1)
			settled(t, m, md)
		})
	}
}

// TestPanicInCheckInvariants: the invariant checker hashes every key with
// the segment lock held; a panic there releases it too.
func TestPanicInCheckInvariants(t *testing.T) {
	for _, c := range panicConfigs(4) {
		t.Run(c.name, func(t *testing.T) {
			var b bomb
			m, md := newBombMap(c, &b)
			fill(m, md, 100)
			if !b.explode(t, func() { _ = m.CheckInvariants() }) {
				t.Fatal("CheckInvariants hashed no key")
			}
			settled(t, m, md)
		})
	}
}
