package cmap

import (
	"fmt"
	"unsafe"

	"github.com/segmap/segmap/internal/table"
)

// CheckInvariants verifies every table invariant of every segment (see
// internal/table's CheckInvariants) plus the map's own: each key lives in
// the segment its hash selects, and the segment counts agree. The map must
// be quiescent.
func (m *Map[K, V]) CheckInvariants() error {
	st := m.loaded()
	if st == nil {
		return nil
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
		t.Range(func(e *table.Entry[K, V]) bool {
			if _, j := st.seg(st.hasher.Hash(e.Key)); j != i && e.Key == e.Key {
				err = fmt.Errorf("key %v in segment %d, hashes to %d", e.Key, i, j)
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
