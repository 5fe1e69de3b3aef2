package cmap

import (
	"unsafe"

	"github.com/segmap/segmap/internal/table"
)

// CheckInvariants verifies every table invariant of every segment (see
// internal/table's CheckInvariants) plus the map's own (invariants.go):
// each key lives in the segment its hash selects, and the segment counts
// agree; with insertion order, every log (internal/table's Log.Check:
// seqs increase, each live entry has exactly one valid record); with a
// bound, the reservations equal the live entries, at most the maximum,
// and a RejectNew segment's floor is at least its layout; every log holds
// at most LogSlack stale records beyond one per live entry; no iterator
// left a pin. The map must be quiescent.
func (m *Map[K, V]) CheckInvariants() error {
	st := m.loaded()
	if st == nil {
		return nil
	}
	for i := range st.segs {
		if err := st.checkSegment(i); err != nil {
			return err
		}
	}
	return st.checkExtra()
}

// Invariants reports whether the map checks its invariants at the end of
// every write (the build tag segmap_invariants).
const Invariants = invariants

// CorruptLive adds one to the live and used counts of key's segment,
// without an entry: the corruption that a delete into an EMPTY slot
// forgetting to count itself leaves.
func (m *Map[K, V]) CorruptLive(key K) {
	st := m.state()
	s, i := st.seg(st.hasher.Hash(key))
	st.lockSeg(i)
	defer st.unlockSeg(i)
	s.live.Add(1)
	s.used.Add(1)
}

// TableGroups returns the number of groups of each segment's table.
func (m *Map[K, V]) TableGroups() []int {
	st := m.state()
	g := make([]int, len(st.segs))
	for i := range st.segs {
		g[i] = st.segs[i].table.Load().Groups()
	}
	return g
}

// SegmentLocked reports whether the segment of key is locked, by trying it.
func (m *Map[K, V]) SegmentLocked(key K) bool {
	st := m.state()
	_, i := st.seg(st.hasher.Hash(key))
	if st.locks.TryLock(i) {
		st.locks.Unlock(i)
		return false
	}
	return true
}

// KeyLocked reports whether a writer holds the lock that owns key: its
// segment's lock, or, in a group-lock map, its home group's lock.
func (m *Map[K, V]) KeyLocked(key K) bool {
	st := m.state()
	h := st.hasher.Hash(key)
	if st.glock {
		t := st.table(h).Flat()
		return t.GroupLocked(t.Home(h))
	}
	return m.SegmentLocked(key)
}

// SegmentOf returns the index of key's segment.
func (m *Map[K, V]) SegmentOf(key K) int {
	st := m.state()
	_, i := st.seg(st.hasher.Hash(key))
	return i
}

// SegmentSize is the size of a segment in bytes.
const SegmentSize = unsafe.Sizeof(segment[uint64, uint64]{})

// Layout returns the groups per segment of a RejectNew map, 0 for others.
func (m *Map[K, V]) Layout() int {
	if x := m.state().extra; x != nil {
		return x.fixedGroups
	}
	return 0
}

// SetPublishHook sets the hook run between taking an insertion number and
// publishing the entry; nil removes it.
func SetPublishHook(f func()) { testHookPublish = f }

// LockedSegments returns the indexes of the segments whose lock is held,
// by trying each.
func (m *Map[K, V]) LockedSegments() []int {
	st := m.state()
	var locked []int
	for i := range st.segs {
		if st.locks.TryLock(i) {
			st.locks.Unlock(i)
		} else {
			locked = append(locked, i)
		}
	}
	return locked
}

// LogSlack is the number of stale records a segment's log may keep beyond
// one per live entry.
const LogSlack = table.LogSlack

// ForceEntryLayout makes New give every map the entry layout while on.
func ForceEntryLayout(on bool) { testHookEntryLayout.Store(on) }

// SetClearHook makes Clear call f(i) after it replaced segment i's table,
// with every segment lock held; nil removes it.
func SetClearHook(f func(i int)) { testHookClear = f }

// SlotSize is the size of a slot of the readers' array in bytes.
const SlotSize = unsafe.Sizeof(slot[uint64, uint64]{})

// CountStripes is the number of count stripes of a slot.
const CountStripes = countStripes

// SetPrepareHook makes every preparation of a segment's next table call
// f(i) first, holding no lock; nil removes it.
func SetPrepareHook(f func(i int)) { testHookPrepare = f }

// NoPrepare stops writes from preparing tables while on.
func NoPrepare(on bool) { testHookNoPrepare.Store(on) }

// Parked returns the groups of each segment's parked table, 0 where none
// is parked, taking each segment's lock in turn.
func (m *Map[K, V]) Parked() []int {
	st := m.state()
	g := make([]int, len(st.segs))
	for i := range st.segs {
		st.locks.Lock(i)
		if t := st.segs[i].prep.t; t != nil {
			g[i] = t.Groups()
		}
		st.locks.Unlock(i)
	}
	return g
}

// SetGroupLockedHook makes every group-lock write call f(key) once it
// holds its group locks, before it writes; nil removes it. For tests
// that run no other writer meanwhile.
func SetGroupLockedHook(f func(key any)) { testHookGroupLocked = f }

// SetSealWaitHook makes a sealer call f when it finds a group locked
// and waits for it; nil removes it.
func SetSealWaitHook(f func()) {
	if f == nil {
		table.SetGroupLockWaitHook(nil)
		return
	}
	table.SetGroupLockWaitHook(func(uint64) { f() })
}

// GroupLocks reports whether the map writes with group locks, and the
// groups of each segment's table whose lock is held now.
func (m *Map[K, V]) GroupLocks() (bool, [][]int) {
	st := m.state()
	if !st.glock {
		return false, nil
	}
	var out [][]int
	for i := range st.segs {
		t := st.segs[i].table.Load().Flat()
		var l []int
		for g := range t.Groups() {
			if t.GroupLocked(uint64(g)) {
				l = append(l, g)
			}
		}
		out = append(out, l)
	}
	return true, out
}

// GroupVersions returns the version words of the groups of key's
// segment's table (a flat map).
func (m *Map[K, V]) GroupVersions(key K) []uint64 {
	t := m.state().table(m.HashOf(key)).Flat()
	var out []uint64
	for g := range t.Groups() {
		out = append(out, t.Version(uint64(g)))
	}
	return out
}

// HashOf returns the map's hash of key.
func (m *Map[K, V]) HashOf(key K) uint64 { return m.state().hasher.Hash(key) }

// SetLockAllWaitsHook sets the hook lockAll calls just before it waits
// for segment i's lock, or for a group lock (i == -1); nil: none.
func SetLockAllWaitsHook(f func(i int)) { testHookLockAllWaits = f }

// HoldKey takes the locks a writer of key could wait for: its segment's
// lock and, in a group-lock map, its home group's lock; it returns their
// release. (Tests of what takes no lock.)
func (m *Map[K, V]) HoldKey(key K) (release func()) {
	st := m.state()
	h := st.hasher.Hash(key)
	_, i := st.seg(h)
	st.locks.Lock(i)
	if !st.glock {
		return func() { st.locks.Unlock(i) }
	}
	t := st.table(h).Flat()
	g := t.Home(h)
	t.LockGroup(g)
	return func() { t.UnlockGroup(g); st.locks.Unlock(i) }
}

// IdentityHash is a user hasher under which key k's hash, after the map's
// final mixing of a hasher's result (murmur3's fmix64), is k itself: it
// returns k unmixed (fmix64's steps inverted, with its multipliers'
// inverses mod 2^64). With one segment, k's home group is k mod the
// table's groups and its tag k>>32 & 0x7F.
func IdentityHash(_ uint64, k int) uint64 {
	h := uint64(k)
	h ^= h >> 33
	h *= 0x9cb4b2f8129337db
	h ^= h >> 33
	h *= 0x4f74430c22a54005
	h ^= h >> 33
	return h
}
