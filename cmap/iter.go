package cmap

import (
	"iter"

	"github.com/segmap/segmap/internal/table"
)

// Range calls f sequentially for each key and value present in the map. If
// f returns false, Range stops the iteration.
//
// Range makes sync.Map's promise: no key is visited more than once, and
// every key present for the whole call is visited; a key stored or deleted
// during the call may or may not be visited, and a value may be from any
// point during the call. It never blocks readers; it blocks the writers of
// one segment at a time, for the time to take and release a lock. It
// takes one segment lock at a time, so when it reaches a segment whose
// lock a writer holds (a [Map.Compute] whose f is slow) it waits for that
// writer, holding no other lock. f runs with no lock held and may call
// any method of m. For a consistent view of the whole map at one instant,
// use [Map.Snapshot].
//
// How: Range pins one segment's table at a time, so that writers of that
// segment copy the table before changing it, and reads the pinned table.
func (m *Map[K, V]) Range(f func(key K, value V) bool) {
	m.rangeKV(f)
}

// All returns an iterator over the map's keys and values, with the
// consistency of [Map.Range].
func (m *Map[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		m.rangeKV(yield)
	}
}

// Keys returns an iterator over the map's keys, with the consistency of
// [Map.Range].
func (m *Map[K, V]) Keys() iter.Seq[K] {
	return func(yield func(K) bool) {
		m.rangeKV(func(k K, _ V) bool { return yield(k) })
	}
}

// Values returns an iterator over the map's values, with the consistency
// of [Map.Range].
func (m *Map[K, V]) Values() iter.Seq[V] {
	return func(yield func(V) bool) {
		m.rangeKV(func(_ K, v V) bool { return yield(v) })
	}
}

func (m *Map[K, V]) rangeKV(yield func(K, V) bool) {
	st := m.loaded()
	if st == nil {
		return
	}
	for i := range st.segs {
		if !st.rangeSegment(i, yield) {
			return
		}
	}
}

// rangeSegment pins segment i's table, iterates it and unpins it, even if
// yield panics. It reports whether to go on.
func (st *state[K, V]) rangeSegment(i int, yield func(K, V) bool) bool {
	t := st.pin(i)
	if t == nil {
		return true
	}
	defer st.unpin(i, t)
	return t.RangeKV(yield)
}

// pin pins segment i's current table and returns it, or returns nil if
// the segment is empty. While it is pinned, the segment's writers copy
// the table before changing it, so the caller may read it with no lock
// held; the caller must unpin it, even if it panics.
func (st *state[K, V]) pin(i int) *table.Table[K, V] {
	s := &st.segs[i]
	st.lockSeg(i)
	defer st.unlockSeg(i)
	if s.live.Load() == 0 {
		return nil
	}
	s.pins++
	return s.table.Load()
}

// unpin undoes pin(i), which returned t; if the segment's table has been
// replaced since, the pins were reset with it and there is nothing to undo.
func (st *state[K, V]) unpin(i int, t *table.Table[K, V]) {
	s := &st.segs[i]
	st.mus[i].Lock() // no seal needed: only pins changes
	defer st.unlockSeg(i)
	if s.table.Load() == t {
		s.pins--
	}
}
