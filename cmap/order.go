package cmap

import "github.com/segmap/segmap/internal/table"

// orderedState returns the map's state, or panics naming fn if the map
// does not keep insertion order.
func (m *Map[K, V]) orderedState(fn string) *state[K, V] {
	st := m.state()
	if !st.ordered() {
		panic("cmap: " + fn + ": map built without WithInsertionOrder")
	}
	return st
}

// oldestLocked returns the index of the segment holding the oldest entry
// of the map and that entry's record; ok is false if the map is empty.
// Every segment lock must be held.
func (st *state[K, V]) oldestLocked() (seg int, r table.Record[K, V], ok bool) {
	for i := range st.segs {
		s := &st.segs[i]
		if ri, oki := s.log.Oldest(s.table.Load()); oki && (!ok || ri.Seq < r.Seq) {
			seg, r, ok = i, ri, true
		}
	}
	return seg, r, ok
}

// newestLocked is oldestLocked for the newest entry.
func (st *state[K, V]) newestLocked() (r table.Record[K, V], ok bool) {
	for i := range st.segs {
		s := &st.segs[i]
		if ri, oki := s.log.Newest(s.table.Load()); oki && (!ok || ri.Seq > r.Seq) {
			r, ok = ri, true
		}
	}
	return r, ok
}

// Oldest returns the map's oldest entry: the one inserted or last stored
// (see [WithInsertionOrder]) before every other entry. ok is false if the
// map is empty. It is linearizable: it holds every segment lock at once
// (taken in the global order of package striped), so it costs O(segments)
// and makes writers wait meanwhile; readers never wait.
//
// It panics if the map was built without [WithInsertionOrder] (or
// [WithMaxLen] with [EvictOldest]).
func (m *Map[K, V]) Oldest() (key K, value V, ok bool) {
	st := m.orderedState("Oldest")
	r, ok := st.endLocked(false)
	if !ok {
		return key, value, false
	}
	return r.Entry.Key, r.Entry.Value, true
}

// Newest returns the map's newest entry: the one inserted or last stored
// after every other entry. ok is false if the map is empty. It is
// linearizable and costs what [Map.Oldest] costs.
//
// It panics if the map was built without [WithInsertionOrder].
func (m *Map[K, V]) Newest() (key K, value V, ok bool) {
	st := m.orderedState("Newest")
	r, ok := st.endLocked(true)
	if !ok {
		return key, value, false
	}
	return r.Entry.Key, r.Entry.Value, true
}

// PopOldest deletes the map's oldest entry and returns it; ok is false if
// the map is empty. It is linearizable: the entry it returns is the oldest
// at the instant it deletes it, it deletes exactly that entry, and two
// calls, concurrent or not, never return the same entry (unless it was
// stored again in between). It costs what [Map.Oldest] costs, plus the
// delete. It does not call the [WithOnEvict] function.
//
// It panics if the map was built without [WithInsertionOrder].
func (m *Map[K, V]) PopOldest() (key K, value V, ok bool) {
	st := m.orderedState("PopOldest")
	st.lockAll()
	defer st.unlockAll()
	i, r, ok := st.oldestLocked()
	if !ok {
		return key, value, false
	}
	st.deleteRecordLocked("PopOldest", i, r, false)
	return r.Entry.Key, r.Entry.Value, true
}

// endLocked returns the record of the map's oldest entry, or its newest
// if newest is set, with every segment lock held during the search.
func (st *state[K, V]) endLocked(newest bool) (table.Record[K, V], bool) {
	st.lockAll()
	defer st.unlockAll()
	if newest {
		return st.newestLocked()
	}
	_, r, ok := st.oldestLocked()
	return r, ok
}
