package cmap

import (
	"fmt"

	"github.com/segmap/segmap/internal/table"
)

// The write engine. Every write method of Map (Store, Swap, TryStore,
// LoadOrStore, LoadAndDelete, Delete, CompareAndSwap, CompareAndDelete,
// Compute, LoadOrCompute, LoadOrTryCompute) and the evictions and
// PopOldest reach a table through it, in these steps:
//
//  1. hash the key (the caller, before any lock), then open: take the
//     segment's lock and locate the key once (or take the position a
//     lock-free look found, if the table is unchanged);
//  2. the caller decides, from w.found() and w.value(), what to do;
//  3. put or del: make the table writable (copy-on-write after a
//     snapshot, grow, clean or shrink by rebuilding), re-locating only if
//     the table changed, then publish or delete, through the hooks of the
//     optional features;
//  4. the counts (live, dead, reservations);
//  5. close, deferred: release an unused reservation, the lock(s), and
//     hand an evicted entry to OnEvict.
//
// The optional features (insertion order, a bound; extra.go) are attached
// in this file only: open takes a bounded map's reservation (or every
// lock, if the map is full), publish goes through the publication lock and
// the log, and del releases the reservation and compacts the log. A write
// method cannot forget them, since it has no other way to change a table.
// No write has a specialised path of its own (Store is Swap through the
// engine): the map's one hand-specialised path is Load's, in map.go.
//
// Both table layouts (internal/table: entries, or flat keys and values)
// go through the same steps; the engine branches on the layout only where
// it locates a key (open, locate) and where it publishes (put). A flat
// map's write allocates nothing: put gets the value itself, and ne is nil.
//
// Strong guarantee: everything that can panic (the user's f, hashing
// during a rebuild) runs before the first change that readers can see, so
// a write that panics leaves the map exactly as it was: put and del
// rebuild first (the rebuilt table has the same entries), and an evicting
// insert makes the key's segment writable before it evicts.

// writer is one write in progress, on the stack of the write method.
type writer[K comparable, V any] struct {
	st  *state[K, V]
	fn  string // the method, for panics
	s   *segment[K, V]
	i   int // s == &st.segs[i]
	h   uint64
	key K
	// t is s's current table; pos is key's slot in it (NoPos if absent),
	// e its entry in an entry table (nil if absent, and always in a flat
	// table), and free and freeEmpty where key would go (see
	// table.Locate).
	t         *table.Table[K, V]
	pos       table.Pos
	e         *table.Entry[K, V]
	free      table.Pos
	freeEmpty bool
	// keepSize: del does not shrink the table (an eviction from the
	// segment that the evicting insert is about to refill).
	keepSize bool
	// byEntry: the write targets entry e itself, not key (PopOldest and
	// evictions, which also reach keys that no lookup finds, such as NaN);
	// after a rebuild, e's slot is found through the log.
	byEntry bool
	// all: every segment lock is held (a full bounded map), not s's alone.
	all bool
	// locked: a lock is held (i's, or all of them if all).
	locked bool
	// reserved: holds a reservation of a bounded map for inserting key.
	reserved bool
	// full: key is absent and the bounded map holds its maximum with every
	// lock held: an insert must evict (EvictOldest) or fail (RejectNew).
	full bool
	// evicted is the entry an insert evicted, for OnEvict after close.
	evicted *table.Entry[K, V]
}

// open starts a write of key, hashed h: it locks key's segment and
// locates key. If hint is not NoPos, a lock-free Lookup found key's entry
// e at hint in table t before the lock was taken; if the table is still t
// and the slot still holds e, that position is taken as is (one probe per
// LoadAndDelete, CompareAndSwap and CompareAndDelete). On a bounded map
// where key is absent, it takes a reservation, or, if the map is full,
// every segment lock (see extra.admit). The caller must defer w.close()
// before calling open.
func (st *state[K, V]) open(w *writer[K, V], fn string, key K, h uint64, t *table.Table[K, V], hint table.Pos, e *table.Entry[K, V]) {
	w.st, w.fn, w.key, w.h = st, fn, key, h
	w.s, w.i = st.seg(h)
	st.mus[w.i].Lock()
	w.locked = true
	if w.t = w.s.table.Load(); hint != table.NoPos && w.t == t && t.At(hint) == e {
		w.pos, w.e, w.free = hint, e, table.NoPos
	} else if st.flat {
		w.pos, _, w.free, w.freeEmpty = w.t.Flat().Locate(h, key)
	} else {
		w.pos, w.e, w.free, w.freeEmpty = w.t.Locate(h, key)
	}
	if w.pos == table.NoPos && st.extra != nil {
		st.extra.admit(w)
	}
}

// close ends the write: it gives back a reservation that no insert used
// (the caller did not insert, or panicked), releases the locks, and then,
// with no lock held, hands an evicted entry to the OnEvict function.
func (w *writer[K, V]) close() {
	if !w.locked {
		return
	}
	if w.st.extra == nil { // the whole of close for a map without options
		w.st.mus[w.i].Unlock()
		return
	}
	if w.reserved {
		w.st.extra.release()
	}
	if w.all {
		w.st.locks.UnlockAll()
	} else {
		w.st.mus[w.i].Unlock()
	}
	w.locked = false
	if w.evicted != nil && w.st.extra.onEvict != nil {
		w.st.extra.onEvict(w.evicted.Key, w.evicted.Value)
	}
}

// locate finds key (or, byEntry, entry e) in the current table w.t.
func (w *writer[K, V]) locate() {
	switch {
	case w.byEntry:
		w.pos = w.s.log.PosOf(w.t, w.e)
	case w.st.flat:
		w.pos, _, w.free, w.freeEmpty = w.t.Flat().Locate(w.h, w.key)
	default:
		w.pos, w.e, w.free, w.freeEmpty = w.t.Locate(w.h, w.key)
	}
}

// found reports whether key is present (at w.pos in w.t).
func (w *writer[K, V]) found() bool { return w.pos != table.NoPos }

// value returns key's value; key must be present.
func (w *writer[K, V]) value() V {
	if w.e != nil {
		return w.e.Value
	}
	return w.t.ValueAt(w.pos)
}

// writable makes w.t safe to change for an insert (insertEmpty: into an
// EMPTY slot) or a replace or delete, re-locating if the table moved.
func (w *writer[K, V]) writable(insertEmpty bool) {
	if nt, moved := w.s.writableLocked(&w.st.hasher, w.t, insertEmpty); moved {
		w.t = nt
		w.locate()
	} else {
		w.t = nt
	}
}

// put publishes v for key, in place of key's value or as a new key: in an
// entry table as the entry ne (whose key is w.key and value v; nil in a
// flat table, which stores v itself). On a full bounded map an insert first evicts the oldest
// entry (EvictOldest), after making key's segment writable, so that a
// rebuild that panics leaves everything as it was; or it returns the
// ErrFull error, changing nothing (RejectNew).
func (w *writer[K, V]) put(v V, ne *table.Entry[K, V]) error {
	x := w.st.extra
	insert := w.pos == table.NoPos
	if insert && w.full && x.policy == RejectNew {
		return x.errFull(w.fn)
	}
	if s := w.s; s.sharedLocked() || insert && w.freeEmpty && int(s.live.Load())+s.dead+1 > w.t.MaxUsed() {
		w.writable(insert && w.freeEmpty) // checked here first: the call is rare
	}
	if insert && w.full {
		w.evictFor()
	}
	p := w.pos
	if insert {
		p = w.free
	}
	var seq uint64
	ordered := x != nil && x.ordered
	if ordered {
		seq = x.lockSeq()
	}
	switch {
	case ne == nil && insert:
		w.t.Flat().Insert(p, w.h, w.key, v)
	case ne == nil:
		p = w.t.Flat().Replace(p, w.key, v) // the key may move within its group
	case insert:
		w.t.Insert(p, w.h, ne)
	default:
		w.t.Replace(p, ne)
	}
	if ordered {
		x.unlockSeq(seq)
	}
	if insert {
		if !w.freeEmpty {
			w.s.dead--
		}
		w.s.live.Add(1)
		w.reserved = false // the entry holds it now
	}
	if ordered {
		x.publishedLocked(w.s, seq, p, ne) // after the count: compaction checks it
	}
	w.pos, w.e = p, ne
	return nil
}

// del deletes key's entry (key must be present). If the delete
// leaves the table sparse, the smaller table is built first and the entry
// deleted from it, so that a rebuild that panics changes nothing.
func (w *writer[K, V]) del() {
	s := w.s
	// The shrink test is checked here first, since the call is rare; live
	// is the count after the delete.
	live := int(s.live.Load()) - 1
	if live < w.t.Capacity()/8 && !w.keepSize {
		if n := s.shrinkGroups(w.t, live); n != 0 {
			w.t = s.rebuildLocked(&w.st.hasher, n) // before the delete: see the file comment
			w.locate()
		}
	}
	if s.sharedLocked() {
		w.writable(false)
	}
	if w.t.Delete(w.pos) {
		s.dead++
	}
	s.live.Add(-1)
	if x := w.st.extra; x != nil {
		x.deletedLocked(s)
	}
	w.pos, w.e = table.NoPos, nil
}

// evictFor makes room for w's insert into a full EvictOldest map: it
// deletes the oldest entry, which close hands to OnEvict. Every lock is
// held and key's segment is writable. An eviction from key's own segment
// does not shrink it (the insert refills it), so w's table and position
// stay valid.
func (w *writer[K, V]) evictFor() {
	i, r, ok := w.st.oldestLocked()
	if !ok {
		panic("cmap: internal error: full map with nothing to evict")
	}
	w.st.deleteRecordLocked(w.fn, i, r, i == w.i)
	w.evicted = r.Entry
	// The eviction gave its reservation back; every lock is held, so
	// nobody else can take it.
	if !w.st.extra.reserve() {
		panic("cmap: internal error: no reservation after an eviction")
	}
	w.reserved, w.full = true, false
}

// deleteRecordLocked deletes the entry of record r, valid in segment i's
// table (PopOldest, evictions). It deletes by slot, not by key, which also
// removes keys that no lookup finds (NaN). keepSize: do not shrink the
// table. Every segment lock must be held.
func (st *state[K, V]) deleteRecordLocked(fn string, i int, r table.Record[K, V], keepSize bool) {
	s := &st.segs[i]
	v := writer[K, V]{st: st, fn: fn, s: s, i: i, t: s.table.Load(), pos: r.Pos, e: r.Entry,
		byEntry: true, keepSize: keepSize}
	v.del()
}

// apply carries out op, the decision of a Compute callback, with value v,
// and returns Compute's results: (v, true) after UpdateOp; (current value,
// true) after CancelOp on a present key; (deleted value, false) after
// DeleteOp on a present key; (zero, false) when the key stays absent.
func (w *writer[K, V]) apply(v V, op ComputeOp) (actual V, ok bool, err error) {
	switch op {
	case UpdateOp:
		if err := w.put(v, w.st.entry(w.key, v)); err != nil {
			return actual, false, err
		}
		return v, true, nil
	case DeleteOp:
		if !w.found() {
			return actual, false, nil
		}
		old := w.value()
		w.del()
		return old, false, nil
	case CancelOp:
		if !w.found() {
			return actual, false, nil
		}
		return w.value(), true, nil
	}
	panic(fmt.Sprintf("cmap: %s: invalid ComputeOp %d", w.fn, int(op)))
}
