package snapshot

import (
	"iter"

	"github.com/segmap/segmap/internal/snapshotimpl"
	"github.com/segmap/segmap/internal/table"
)

// Snapshot is a read-only view of a whole cmap.Map as it was at one
// instant: there is an instant between the start and the return of the
// Snapshot call at which the map held exactly the entries of the snapshot
// (the view is linearizable). It never changes afterwards, whatever is
// written to the map.
//
// A Snapshot is safe for use by any number of goroutines. It holds no lock
// and never blocks the map. It shares the map's tables: the map copies a
// segment's table before the first write to it after the snapshot, so a
// snapshot costs nothing to keep for segments that are not written, and
// one table copy per segment that is. Memory it shares is freed when both
// the snapshot and the map have dropped it.
//
// Snapshots are made only by cmap.Map.Snapshot; the methods of a zero
// Snapshot panic, saying so.
type Snapshot[K comparable, V any] struct {
	view // the frozen tables, filled in by cmap (internal/snapshotimpl)
}

// view is embedded through this unexported alias so that the field stays
// out of the documentation; its unexported method, promoted, makes
// *Snapshot the viewer that snapshotimpl.Init takes from cmap.
type view = snapshotimpl.View

// frozen returns the snapshot's tables.
func (s *Snapshot[K, V]) frozen() *table.Frozen[K, V] {
	return snapshotimpl.Frozen[K, V](&s.view)
}

// Load returns the value stored for key in the snapshot, or the zero value
// if none is present; ok reports whether a value was found.
func (s *Snapshot[K, V]) Load(key K) (value V, ok bool) {
	f := s.frozen()
	h := f.Hasher.Hash(key)
	return f.Table(h).Read(h, key) // either table layout
}

// Len returns the number of entries in the snapshot.
func (s *Snapshot[K, V]) Len() int { return s.frozen().Len }

// All returns an iterator over the snapshot's keys and values. Each key is
// visited exactly once, in the order of the map's layout (segment by
// segment, slot by slot): with a deterministic hasher and seed it is the
// same in every run.
func (s *Snapshot[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		s.rangeKV(yield)
	}
}

// Keys returns an iterator over the snapshot's keys, in the order of
// [Snapshot.All].
func (s *Snapshot[K, V]) Keys() iter.Seq[K] {
	return func(yield func(K) bool) {
		s.rangeKV(func(k K, _ V) bool { return yield(k) })
	}
}

// Values returns an iterator over the snapshot's values, in the order of
// [Snapshot.All].
func (s *Snapshot[K, V]) Values() iter.Seq[V] {
	return func(yield func(V) bool) {
		s.rangeKV(func(_ K, v V) bool { return yield(v) })
	}
}

// InOrder returns an iterator over the snapshot's keys and values, oldest
// first: in the order in which they were inserted or last stored (see
// cmap.WithInsertionOrder). Each entry is visited exactly once. It merges
// the segments' insertion logs: O(n log segments) for n entries, plus the
// records made stale by writes before the snapshot (at most as many again,
// plus 4 per segment).
//
// It panics if the map was built without cmap.WithInsertionOrder.
func (s *Snapshot[K, V]) InOrder() iter.Seq2[K, V] {
	f := s.frozen()
	if f.Logs == nil {
		panic("snapshot: InOrder: map built without cmap.WithInsertionOrder")
	}
	return func(yield func(K, V) bool) {
		var m merger[K, V]
		for i, recs := range f.Logs {
			m.push(f.Tables[i], recs)
		}
		for len(m.heads) > 0 {
			e := m.pop()
			if !yield(e.Key, e.Value) {
				return
			}
		}
	}
}

// merger merges the segments' logs by seq: a binary min-heap of the
// segments' next valid records.
type merger[K comparable, V any] struct {
	heads []cursor[K, V]
}

// cursor is the rest of one segment's log: recs[0] is valid in t.
type cursor[K comparable, V any] struct {
	t    *table.Table[K, V]
	recs []table.Record[K, V]
}

// skip drops the stale records at the front of c and reports whether a
// valid one is left.
func (c *cursor[K, V]) skip() bool {
	for len(c.recs) > 0 && c.t.At(c.recs[0].Pos) != c.recs[0].Entry {
		c.recs = c.recs[1:]
	}
	return len(c.recs) > 0
}

func (m *merger[K, V]) less(i, j int) bool { return m.heads[i].recs[0].Seq < m.heads[j].recs[0].Seq }

// push adds a segment's log, if it holds a valid record.
func (m *merger[K, V]) push(t *table.Table[K, V], recs []table.Record[K, V]) {
	c := cursor[K, V]{t: t, recs: recs}
	if !c.skip() {
		return
	}
	m.heads = append(m.heads, c)
	for i := len(m.heads) - 1; i > 0; {
		p := (i - 1) / 2
		if !m.less(i, p) {
			break
		}
		m.heads[i], m.heads[p] = m.heads[p], m.heads[i]
		i = p
	}
}

// pop returns the entry with the smallest seq and advances its cursor.
func (m *merger[K, V]) pop() *table.Entry[K, V] {
	c := &m.heads[0]
	e := c.recs[0].Entry
	c.recs = c.recs[1:]
	if !c.skip() {
		last := len(m.heads) - 1
		m.heads[0] = m.heads[last]
		m.heads = m.heads[:last]
	}
	// Sift the root down.
	for i := 0; ; {
		l, r, least := 2*i+1, 2*i+2, i
		if l < len(m.heads) && m.less(l, least) {
			least = l
		}
		if r < len(m.heads) && m.less(r, least) {
			least = r
		}
		if least == i {
			break
		}
		m.heads[i], m.heads[least] = m.heads[least], m.heads[i]
		i = least
	}
	return e
}

// rangeKV calls yield for each key and value of the frozen tables, of
// either layout, until it returns false.
func (s *Snapshot[K, V]) rangeKV(yield func(K, V) bool) {
	for _, t := range s.frozen().Tables {
		if !t.RangeKV(yield) {
			return
		}
	}
}
