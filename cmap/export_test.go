package cmap

import (
	"fmt"
	"unsafe"
)

// CheckInvariants verifies every table invariant of every segment (see
// internal/table's CheckInvariants) plus the map's own: each key lives in
// the segment its hash selects, and the segment counts agree; with
// insertion order, every log (internal/table's Log.Check: seqs increase,
// each live entry has exactly one valid record); with a bound, the
// reservations equal the live entries, at most the maximum, and a RejectNew
// table above its layout holds enough entries to need it. The map must be
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
		s := &st.segs[i]
		st.locks.Lock(i)
		t := s.table.Load()
		err := t.CheckInvariants(st.hasher.Hash, int(s.live.Load()), s.dead)
		if err == nil && t.Groups() < s.minGroups {
			err = fmt.Errorf("%d groups below the floor %d", t.Groups(), s.minGroups)
		}
		if err == nil && s.pins != 0 {
			err = fmt.Errorf("%d pins left by finished iterators", s.pins)
		}
		st.locks.Unlock(i)
		if err != nil {
			return fmt.Errorf("segment %d: %w", i, err)
		}
		t.RangeKV(func(k K, _ V) bool {
			if _, j := st.seg(st.hasher.Hash(k)); j != i && k == k {
				err = fmt.Errorf("key %v in segment %d, hashes to %d", k, i, j)
			}
			return err == nil
		})
		if err != nil {
			return err
		}
	}
	return nil
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
		}
		if s.fixed != (x.policy == RejectNew) {
			return fmt.Errorf("segment %d: fixed = %v with policy %v", i, s.fixed, x.policy)
		}
		// A fixed table above its layout grew for entries beyond it, and
		// shrinks back once they are few (TestRejectNewLayout checks that
		// the layout holds with a good hasher).
		if s.fixed && t.Groups() > s.minGroups && int(s.live.Load()) < t.Capacity()/8 {
			return fmt.Errorf("segment %d: %d groups for %d entries, laid out for %d", i, t.Groups(), s.live.Load(), s.minGroups)
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
		return x.layout
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

// ForceEntryLayout makes New give every map the entry layout while on.
func ForceEntryLayout(on bool) { testHookEntryLayout.Store(on) }
