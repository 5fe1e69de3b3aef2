package snapshot

import (
	"iter"

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
type Snapshot[K comparable, V any] struct {
	f table.Frozen[K, V]
}

// New returns the snapshot made of the frozen tables f. It is the hook
// through which [github.com/segmap/segmap/cmap.Map.Snapshot] builds
// snapshots; a Frozen value can only be made inside this module.
func New[K comparable, V any](f table.Frozen[K, V]) *Snapshot[K, V] {
	if f.Hasher == nil || len(f.Tables) == 0 {
		panic("snapshot: New: not a frozen map (use cmap.Map.Snapshot)")
	}
	return &Snapshot[K, V]{f: f}
}

// Load returns the value stored for key in the snapshot, or the zero value
// if none is present; ok reports whether a value was found.
func (s *Snapshot[K, V]) Load(key K) (value V, ok bool) {
	h := s.f.Hasher.Hash(key)
	if e := s.f.Table(h).Find(h, key); e != nil {
		return e.Value, true
	}
	return value, false
}

// Len returns the number of entries in the snapshot.
func (s *Snapshot[K, V]) Len() int { return s.f.Len }

// All returns an iterator over the snapshot's keys and values. Each key is
// visited exactly once, in the order of the map's layout (segment by
// segment, slot by slot): with a deterministic hasher and seed it is the
// same in every run.
func (s *Snapshot[K, V]) All() iter.Seq2[K, V] {
	return func(yield func(K, V) bool) {
		s.rangeEntries(func(e *table.Entry[K, V]) bool { return yield(e.Key, e.Value) })
	}
}

// Keys returns an iterator over the snapshot's keys, in the order of
// [Snapshot.All].
func (s *Snapshot[K, V]) Keys() iter.Seq[K] {
	return func(yield func(K) bool) {
		s.rangeEntries(func(e *table.Entry[K, V]) bool { return yield(e.Key) })
	}
}

// Values returns an iterator over the snapshot's values, in the order of
// [Snapshot.All].
func (s *Snapshot[K, V]) Values() iter.Seq[V] {
	return func(yield func(V) bool) {
		s.rangeEntries(func(e *table.Entry[K, V]) bool { return yield(e.Value) })
	}
}

func (s *Snapshot[K, V]) rangeEntries(yield func(*table.Entry[K, V]) bool) {
	for _, t := range s.f.Tables {
		if !t.Range(yield) {
			return
		}
	}
}
