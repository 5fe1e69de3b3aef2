package table

import (
	"fmt"
	"unsafe"
)

// The layout seam: the one place that dispatches on a table's layout.
//
// A Table is in one layout, chosen once per map (FlatFits) and recorded in
// its layout field; each layout is a set of files named after it:
//
//	entry*.go  groups of pointers to immutable entries
//	flat*.go   keys and values inline, for pointer-free K and V
//	arena*.go  string keys in byte arenas, values inline
//
// (docs/design.md: "The map" and "Flat layout")
//
// The methods that every layout has (Groups, Capacity, MaxUsed, ProbeLen:
// header.go) and those that dispatch here (Delete, Copy, CopyInto, Clone,
// CheckInvariants, and Get, ValueAt, RangeKV, PosOfKey for callers off
// the hot paths) serve any table. The rest belong to one layout and check
// it, as sync.Map's HashTrieMap checks a node's kind in entry() and
// indirect(): the methods of entry*.go through entries, and Flat for the
// flat ones. Using a table in the wrong layout is a bug in this module,
// and panics with an internal error instead of reading a nil slice. The
// hot paths (cmap's Load and write engine) branch on IsFlat once and call
// the layout's own methods.

// layout is the layout of a table. The zero value is none: a zero Table
// has no layout, and every accessor refuses it.
type layout uint8

const (
	entryLayout layout = 1 + iota // Table.groups: entry*.go
	flatLayout                    // Table.flat: flat*.go
	arenaLayout                   // Table.arena: arena*.go
)

// NewLayout returns an empty table of n groups (a power of two >= 1),
// flat if flat is set (FlatFits[K, V]() must then hold).
func NewLayout[K comparable, V any](n int, flat bool) *Table[K, V] {
	if flat {
		return wrapFlat(NewFlat[K, V](n))
	}
	return New[K, V](n)
}

// NewArenaTable returns an empty arena table of n groups (a power of two
// >= 1); ArenaFits[K, V]() must hold.
func NewArenaTable[K comparable, V any](n int) *Table[K, V] { return wrapArena(NewArena[K, V](n)) }

// wrapArena returns the Table of arena table a.
func wrapArena[K comparable, V any](a *Arena[K, V]) *Table[K, V] {
	return &Table[K, V]{header: a.header, aw: unsafe.Pointer(unsafe.SliceData(a.words)), arena: a, layout: arenaLayout}
}

// IsArena reports whether t is an arena table.
func (t *Table[K, V]) IsArena() bool { return t.layout == arenaLayout }

// Arena returns t's arena table. It panics if t is not an arena table.
func (t *Table[K, V]) Arena() *Arena[K, V] {
	if t.layout != arenaLayout {
		panic("table: internal error: Arena called on a table that is not an arena table")
	}
	return t.arena
}

// wrapFlat returns the Table of flat table f.
func wrapFlat[K comparable, V any](f *Flat[K, V]) *Table[K, V] {
	return &Table[K, V]{header: f.header, flat: *f, layout: flatLayout}
}

// IsFlat reports whether t is a flat table.
func (t *Table[K, V]) IsFlat() bool { return t.layout == flatLayout }

// Flat returns t's flat table. It panics if t is not flat.
func (t *Table[K, V]) Flat() *Flat[K, V] {
	if t.layout != flatLayout {
		panic("table: internal error: Flat called on a table that is not flat")
	}
	return &t.flat
}

// entries returns the groups of t, an entry table; every method of
// entry*.go reaches them through it. It panics if t is not an entry
// table. It inlines, so the check is one compare and a branch never taken.
func (t *Table[K, V]) entries() []group[K, V] {
	if t.layout != entryLayout {
		panic("table: internal error: entry method called on a table that is not an entry table")
	}
	return t.groups
}

// badLayout is the panic of a dispatch that meets a table with no layout.
func (t *Table[K, V]) badLayout() string {
	return fmt.Sprintf("table: internal error: table with layout %d", t.layout)
}

// Delete removes the key in slot p, which holds one. It reports whether
// the slot became a TOMBSTONE (counted as dead by the caller); else it
// became EMPTY (see deleteEntry and Flat.Delete for when).
func (t *Table[K, V]) Delete(p Pos) (tombstone bool) {
	switch t.layout {
	case entryLayout:
		return t.deleteEntry(p)
	case flatLayout:
		return t.flat.Delete(p)
	case arenaLayout:
		return t.arena.Delete(p)
	}
	panic(t.badLayout())
}

// Copy returns a new table of n groups (a power of two), in t's layout,
// holding the pairs of t and no tombstones, and the number of pairs
// copied. hash must return the hash each key was inserted with; if it
// panics, the new table is simply dropped and t is untouched (t is only
// read). n must be large enough: GroupsFor(live) or more.
//
// It is NewLayout and CopyInto (prepare.go), which a caller that prepared
// the new table beforehand calls itself.
func (t *Table[K, V]) Copy(n int, hash func(K) uint64) (*Table[K, V], int) {
	switch t.layout {
	case entryLayout:
		nt := New[K, V](n)
		return nt, t.copyEntries(nt, hash)
	case flatLayout:
		nf, live := t.flat.Copy(n, hash)
		return wrapFlat(nf), live
	case arenaLayout:
		na, live := t.arena.Copy(n, hash)
		return wrapArena(na), live
	}
	panic(t.badLayout())
}

// Clone returns a copy of t with the same slots (tombstones included),
// made by copying its memory verbatim: no key is read or rehashed, so it
// costs a memory copy, not a cache miss per entry. It is how a writer
// copies a table shared with a snapshot or an iterator before changing it.
//
// The plain copy is race-free: the caller holds the segment lock, so no
// writer changes t meanwhile (readers only read), and the copy is
// published later by an atomic store of its pointer, which orders these
// writes before any reader's load.
func (t *Table[K, V]) Clone() *Table[K, V] {
	switch t.layout {
	case entryLayout:
		return t.cloneEntries()
	case flatLayout:
		return wrapFlat(t.flat.Clone())
	case arenaLayout:
		return wrapArena(t.arena.Clone())
	}
	panic(t.badLayout())
}

// CheckInvariants verifies every invariant of a table whose writer is
// quiescent, given the live and dead counts its owner keeps, and returns
// the first violation found: those of the header here, and the layout's
// own (checkEntries, Flat.CheckInvariants). It is O(capacity) and meant
// for tests.
func (t *Table[K, V]) CheckInvariants(hash func(K) uint64, live, dead int) error {
	switch t.layout {
	case entryLayout:
		if t.flat.words != nil || t.aw != nil {
			return fmt.Errorf("table: entry table with %d flat words, arena words %p", len(t.flat.words), t.aw)
		}
		return t.checkEntries(hash, live, dead)
	case flatLayout:
		if t.groups != nil || t.aw != nil || t.mask != t.flat.mask {
			return fmt.Errorf("table: flat table with %d entry groups, arena words %p, mask %#x (flat %#x)", len(t.groups), t.aw, t.mask, t.flat.mask)
		}
		return t.flat.CheckInvariants(hash, live, dead)
	case arenaLayout:
		if t.groups != nil || t.flat.words != nil || t.mask != t.arena.mask {
			return fmt.Errorf("table: arena table with %d entry groups, %d flat words, mask %#x (arena %#x)", len(t.groups), len(t.flat.words), t.mask, t.arena.mask)
		}
		if t.aw != unsafe.Pointer(unsafe.SliceData(t.arena.words)) {
			return fmt.Errorf("table: arena table's words at %p, its header's at %p", unsafe.SliceData(t.arena.words), t.aw)
		}
		return t.arena.CheckInvariants(hash, live, dead)
	}
	return fmt.Errorf("table: layout %d", t.layout)
}

// Get returns the value of key, for readers of either layout (see Find
// and Flat.Find).
func (t *Table[K, V]) Get(h uint64, key K) (V, bool) {
	switch t.layout {
	case flatLayout:
		return t.flat.Find(h, key)
	case arenaLayout:
		return t.arena.Find(h, key)
	}
	if e := t.Find(h, key); e != nil {
		return e.Value, true
	}
	var zero V
	return zero, false
}

// ValueAt returns the value in slot p, which holds a key. Only the writer,
// or a reader of a frozen table, can rely on the answer.
func (t *Table[K, V]) ValueAt(p Pos) V {
	switch t.layout {
	case flatLayout:
		_, v := t.flat.At(p)
		return v
	case arenaLayout:
		return t.arena.ValueAt(p)
	}
	return t.At(p).Value
}

// RangeKV calls yield with each key and value, in slot order, until
// yield returns false, and reports whether it ran to the end (see Range
// and Flat.Range). Callers iterate frozen (or pinned) tables only.
func (t *Table[K, V]) RangeKV(yield func(K, V) bool) bool {
	switch t.layout {
	case flatLayout:
		return t.flat.Range(yield)
	case arenaLayout:
		return t.arena.Range(yield)
	}
	return t.Range(func(e *Entry[K, V]) bool { return yield(e.Key, e.Value) })
}

// PosOfKey returns the slot of key, hashed h, or NoPos, for callers off
// the hot paths (Stats).
func (t *Table[K, V]) PosOfKey(h uint64, key K) Pos {
	switch t.layout {
	case flatLayout:
		pos, _, _, _ := t.flat.Locate(h, key)
		return pos
	case arenaLayout:
		pos, _, _, _ := t.arena.Locate(h, key)
		return pos
	}
	pos, _, _, _ := t.Locate(h, key)
	return pos
}

// The inline layouts (flat and arena: keys and values in the table, no
// entries) share the writer's steps below, which cmap's write engine
// calls for a map of either.

// IsInline reports whether t stores values inline (flat or arena).
func (t *Table[K, V]) IsInline() bool { return t.layout == flatLayout || t.layout == arenaLayout }

// LocateInline is Flat.Locate or Arena.Locate.
func (t *Table[K, V]) LocateInline(h uint64, key K) (pos Pos, free Pos, freeIsEmpty bool) {
	switch t.layout {
	case flatLayout:
		pos, _, free, freeIsEmpty = t.flat.Locate(h, key)
		return pos, free, freeIsEmpty
	case arenaLayout:
		pos, _, free, freeIsEmpty = t.arena.Locate(h, key)
		return pos, free, freeIsEmpty
	}
	panic(t.badLayout())
}

// InsertInline is Flat.Insert or Arena.Insert.
func (t *Table[K, V]) InsertInline(p Pos, h uint64, key K, value V) {
	switch t.layout {
	case flatLayout:
		t.flat.Insert(p, h, key, value)
		return
	case arenaLayout:
		t.arena.Insert(p, h, key, value)
		return
	}
	panic(t.badLayout())
}

// ReplaceInline is Flat.Replace or Arena.Replace.
func (t *Table[K, V]) ReplaceInline(p Pos, key K, value V) Pos {
	switch t.layout {
	case flatLayout:
		return t.flat.Replace(p, key, value)
	case arenaLayout:
		return t.arena.Replace(p, key, value)
	}
	panic(t.badLayout())
}

// AtInline returns the key and value in slot p of a flat or arena table
// (see Flat.At, Arena.At).
func (t *Table[K, V]) AtInline(p Pos) (K, V) {
	switch t.layout {
	case flatLayout:
		return t.flat.At(p)
	case arenaLayout:
		return t.arena.At(p)
	}
	panic(t.badLayout())
}

// NeedsCompact reports whether deleting the key in slot p must be
// preceded by a compaction of the arena (Compacted; see
// Arena.NeedsCompact); never for the other layouts.
func (t *Table[K, V]) NeedsCompact(p Pos) bool {
	return t.layout == arenaLayout && t.arena.NeedsCompact(p)
}

// Compacted returns the compaction that NeedsCompact asks for: a copy of
// arena table t with the same slots whose arena holds only the live keys'
// records (Arena.Compacted). It panics if t is not an arena table.
func (t *Table[K, V]) Compacted() *Table[K, V] {
	return wrapArena(t.Arena().Compacted())
}
