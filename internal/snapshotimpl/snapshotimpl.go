// Package snapshotimpl lets package cmap fill in a
// [github.com/segmap/segmap/snapshot.Snapshot] without package snapshot
// exporting a constructor, and without either package importing the other
// the wrong way round (snapshot never imports cmap).
//
// How: snapshot.Snapshot is a struct of package snapshot that embeds a
// [View], through an unexported alias, so the field is hidden from its
// documentation. The View's methods are unexported, so they are promoted
// into *snapshot.Snapshot's method set without showing in it; they satisfy
// this package's unexported interface viewer, which [Init] (called by cmap
// on a new Snapshot) and [Frozen] (called by snapshot's methods) take.
// Code outside this module can name neither this package nor
// [table.Frozen], so the only way to get a snapshot that holds a map is
// cmap.Map.Snapshot.
package snapshotimpl

import "github.com/segmap/segmap/internal/table"

// View is the representation of snapshot.Snapshot: a frozen map. It is
// not generic, so that snapshot can embed it under a plain unexported
// name, which go doc leaves out of Snapshot's declaration (it shows an
// embedded generic instantiation, even an unexported one); the price is
// one type assertion per snapshot method call, in Frozen.
type View struct {
	// f is the *table.Frozen[K, V] of a snapshot.Snapshot[K, V], written
	// once, by Init, before the snapshot is shared, and never after; nil
	// in a zero Snapshot.
	f any
}

// view returns v; it makes a type that embeds a View a viewer.
func (v *View) view() *View { return v }

// viewer is a type that embeds a View: *snapshot.Snapshot[K, V], whose
// type parameters Init and Frozen are instantiated with.
type viewer interface {
	view() *View
}

// Init makes s, a new *snapshot.Snapshot, a snapshot of the frozen tables
// f. It panics if f is not the state of a map (no hasher or no tables), or
// if s already holds one.
func Init[K comparable, V any](s viewer, f table.Frozen[K, V]) {
	if f.Hasher == nil || len(f.Tables) == 0 {
		panic("snapshotimpl: Init: not a frozen map")
	}
	v := s.view()
	if v.f != nil {
		panic("snapshotimpl: Init: snapshot already made")
	}
	v.f = &f
}

// Frozen returns the frozen tables of s, which no one may write. It
// panics, naming the way to make one, if s is a zero Snapshot.
func Frozen[K comparable, V any](s viewer) *table.Frozen[K, V] {
	f, ok := s.view().f.(*table.Frozen[K, V])
	if !ok {
		panic("snapshot: zero Snapshot: snapshots are made by cmap.Map.Snapshot")
	}
	return f
}
