package cmap

import (
	"fmt"
	"unsafe"

	"github.com/segmap/segmap/internal/table"
)

// CheckInvariants verifies every table invariant of every segment (see
// internal/table's CheckInvariants) plus the map's own: each key lives in
// the segment its hash selects, and the segment counts agree; with
// insertion order, every log (internal/table's Log.Check: seqs increase,
// each live entry has exactly one valid record); with a bound, the
// reservations equal the live entries, at most the maximum, and a RejectNew
// segment's floor is at least its layout; every log holds at most
// LogSlack stale records beyond one per live entry. The map must be
// quiescent.
func (m *Map[K, V]) CheckInvariants() error {
	st := m.loaded()
	if st == nil {
		return nil
	}
	if err := st.checkExtra(); err != nil {
		return err
	}
	for i := range st.segs {
		if err := st.checkSegment(i); err != nil {
			return err
		}
	}
	return nil
}

// checkSegment is CheckInvariants for segment i. The lock is released
// even if the hasher panics.
func (st *state[K, V]) checkSegment(i int) error {
	s := &st.segs[i]
	err := func() error {
		st.locks.Lock(i)
		defer st.locks.Unlock(i)
		t := s.table.Load()
		err := t.CheckInvariants(st.hasher.Hash, int(s.live.Load()), s.dead)
		if err == nil && t.Groups() < s.minGroups {
			err = fmt.Errorf("%d groups below the floor %d", t.Groups(), s.minGroups)
		}
		if err == nil && s.pins != 0 {
			err = fmt.Errorf("%d pins left by finished iterators", s.pins)
		}
		return err
	}()
	if err != nil {
		return fmt.Errorf("segment %d: %w", i, err)
	}
	s.table.Load().RangeKV(func(k K, _ V) bool {
		if _, j := st.seg(st.hasher.Hash(k)); j != i && k == k {
			err = fmt.Errorf("key %v in segment %d, hashes to %d", k, i, j)
		}
		return err == nil
	})
	return err
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

// SegmentOf returns the index of key's segment.
func (m *Map[K, V]) SegmentOf(key K) int {
	st := m.state()
	_, i := st.seg(st.hasher.Hash(key))
	return i
}

// SegmentSize is the size of a segment in bytes.
const SegmentSize = unsafe.Sizeof(segment[uint64, uint64]{})

// checkExtra verifies the invariants of the optional features. The map
// must be quiescent.
func (st *state[K, V]) checkExtra() error {
	x := st.extra
	if x == nil {
		for i := range st.segs {
			if st.segs[i].log != nil || st.segs[i].fixed {
				return fmt.Errorf("segment %d: a log or a layout without the options", i)
			}
		}
		return nil
	}
	st.locks.LockAll()
	defer st.locks.UnlockAll()
	live := int64(0)
	for i := range st.segs {
		s := &st.segs[i]
		t := s.table.Load()
		live += s.live.Load()
		if (s.log != nil) != x.ordered {
			return fmt.Errorf("segment %d: log %v for ordered = %v", i, s.log != nil, x.ordered)
		}
		if s.log != nil {
			if err := s.log.Check(t, int(s.live.Load())); err != nil {
				return fmt.Errorf("segment %d: %w", i, err)
			}
			if live := int(s.live.Load()); s.log.Held()-live > live+table.LogSlack {
				return fmt.Errorf("segment %d: log holds %d records for %d live entries: more than %d stale beyond one per entry",
					i, s.log.Held(), live, table.LogSlack)
			}
		}
		if s.fixed != (x.policy == RejectNew) {
			return fmt.Errorf("segment %d: fixed = %v with policy %v", i, s.fixed, x.policy)
		}
		// A fixed segment's floor is never below its layout (the table is
		// at least its floor: checkSegment). Its table may be above the
		// floor with few entries: a Reserve can raise the floor and a
		// smaller one lower it again, and the table shrinks back only at
		// the segment's next delete (TestRejectNewReserveThenSmaller), so
		// that is no invariant of a quiescent map.
		if s.fixed && s.minGroups < x.fixedGroups {
			return fmt.Errorf("segment %d: floor %d below the fixed size %d", i, s.minGroups, x.fixedGroups)
		}
	}
	if x.maxLen > 0 {
		if r := x.reserved.Load(); r != live || r > x.maxLen {
			return fmt.Errorf("%d reservations for %d live entries, at most %d", r, live, x.maxLen)
		}
	}
	if x.seq.Load()&1 != 0 {
		return fmt.Errorf("publication lock held by nobody")
	}
	return nil
}

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
