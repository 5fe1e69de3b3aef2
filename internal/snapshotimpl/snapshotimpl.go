// Package snapshotimpl holds the representation of
// [github.com/segmap/segmap/snapshot.Snapshot], so that package cmap can
// build snapshots without package snapshot exporting a constructor.
//
// snapshot.Snapshot is defined as Snapshot of this package (same
// underlying type, its own methods): cmap builds one with [New] and
// converts the pointer, snapshot reads its tables with [Snapshot.Frozen].
// Code outside this module can name neither this package nor
// [table.Frozen], so the only way to get a snapshot is
// cmap.Map.Snapshot.
package snapshotimpl

import "github.com/segmap/segmap/internal/table"

// Snapshot is the representation of snapshot.Snapshot: a frozen map.
type Snapshot[K comparable, V any] struct {
	// f is never written after New.
	f table.Frozen[K, V]
}

// New returns the snapshot made of the frozen tables f. It panics if f is
// not the state of a map (no hasher or no tables).
func New[K comparable, V any](f table.Frozen[K, V]) *Snapshot[K, V] {
	if f.Hasher == nil || len(f.Tables) == 0 {
		panic("snapshotimpl: New: not a frozen map")
	}
	return &Snapshot[K, V]{f: f}
}

// Frozen returns the frozen tables of s, which no one may write.
func (s *Snapshot[K, V]) Frozen() *table.Frozen[K, V] { return &s.f }
