package cmap

import (
	"fmt"

	"github.com/segmap/segmap/internal/table"
)

// The write engine. (In a flat map without options, most writes take the
// group-lock path of grouplock.go instead, and come here only when they
// need the segment lock: a rebuild, a copy, a sealed table.) Every write method of Map (Store, Swap, TryStore,
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
//  5. close, deferred: release an unused reservation, check the
//     segment's invariants (only with the build tag segmap_invariants:
//     invariants.go), release the lock(s), and hand an evicted entry to
//     OnEvict.
//
// The optional features (insertion order, a bound; extra.go) are attached
// in this file only: open takes a bounded map's reservation (or every
// lock, if the map is full: extra.go decides, admit here takes the locks),
// publish goes through the publication lock and the log, and del releases
// the reservation and compacts the log. A write method cannot forget them,
// since it has no other way to change a table. Every lock a write holds
// is taken and released in this file. The engine has two entry points:
// open, for a write of a key, and deleteRecordLocked, for a delete of a
// log record's entry (PopOldest, evictions), which shares del's
// steps. Two kinds of map also have light paths that skip the engine
// for their commonest writes and hand it anything else: a flat map's
// group-lock writes (grouplock.go) and an arena map's writes of a key
// that need nothing but the segment lock (arenawrite.go, which resumes
// the engine with the lock held and the key located: writer.resume).
// Store is Swap through the engine; Load's probe is spelled out in
// map.go.
//
// Both table layouts (internal/table: entries, or flat keys and values)
// go through the same steps; the engine branches on the layout only where
// it locates a key (locateKey) and where it publishes (put). A flat
// map's write allocates nothing: put gets the value itself, and ne is nil.
//
// Strong guarantee: everything that can panic (the user's f, hashing
// during a rebuild) runs before the first change that readers can see, so
// a write that panics leaves the map exactly as it was: put and del
// rebuild first (the rebuilt table has the same entries), and an evicting
// insert makes the key's segment writable before it evicts.

// writer is one write in progress, on the stack of the write method. Its
// state is named in four parts: the cursor (where the write stands in the
// table), the locks it holds, where it stands with the bound (admission),
// and its target (a key, or a record's entry).
type writer[K comparable, V any] struct {
	st  *state[K, V]
	fn  string // the method, for panics
	s   *segment[K, V]
	i   int // s == &st.segs[i]
	h   uint64
	key K
	cur cursor[K, V]
	// byRecord: the write targets the entry cur.e itself, not key
	// (deleteRecordLocked: PopOldest and evictions, which also reach keys
	// that no lookup finds, such as NaN); after a rebuild, its slot is
	// found through the log.
	byRecord bool
	// held: the locks the write holds, which close releases. Changed in
	// this file only.
	held held
	// adm: where an insert of key stands with a bounded map's bound.
	adm admission
	// evicted is the entry an insert evicted, for OnEvict after close.
	evicted *table.Entry[K, V]
	// prep: the preparation of the segment's next table that the write
	// claimed, for close to make (prepare.go).
	prep prepClaim[K, V]
}

// cursor is where a write stands in its segment's current table.
type cursor[K comparable, V any] struct {
	// t is the segment's current table; re-read after every rebuild.
	t *table.Table[K, V]
	// pos is the target's slot in t, NoPos if absent.
	pos table.Pos
	// e is the target's entry in an entry table: nil if absent, and always
	// nil in a flat table.
	e *table.Entry[K, V]
	// free is where key would go if absent, and freeEmpty whether that
	// slot is EMPTY rather than a tombstone (see table.Locate). NoPos when
	// the cursor was taken from a hint (key present).
	free      table.Pos
	freeEmpty bool
}

// held is which segment locks a write holds.
type held uint8

const (
	// heldNone: no lock (before open, after close; and a delete by record,
	// whose caller holds and releases every lock).
	heldNone held = iota
	// heldSegment: the lock of the write's segment, st.mus[i].
	heldSegment
	// heldAll: every segment lock (a full bounded map: see admit).
	heldAll
)

// admission is where a write of key stands with a bounded map's bound
// (WithMaxLen).
type admission uint8

const (
	// admitNone: the write holds no reservation, and an insert needs none
	// of its own: the map is unbounded, key is present, or an insert
	// already turned the reservation into its entry.
	admitNone admission = iota
	// admitReserved: the write holds a reservation for inserting key,
	// which close gives back unless an insert uses it.
	admitReserved
	// admitFull: key is absent and the map holds its maximum. Exact once
	// every lock is held (held == heldAll), as admit ensures: an insert
	// must then evict (EvictOldest) or fail (RejectNew). Returned by
	// extra.admit with one lock held, where it means only "looks full".
	admitFull
)

// hint is what a lock-free lookup found, for open to take as is if the
// table has not changed: key at slot pos of table t, which held key's
// entry e (entry layout) or the ref word ref naming key's record (arena
// layout). The zero hint (t nil) is none: key was absent, or the table is
// flat, whose slots hold no identity that open could check.
type hint[K comparable, V any] struct {
	t   *table.Table[K, V]
	pos table.Pos
	e   *table.Entry[K, V]
	ref uint64
}

// testHookHint, if set (by tests only, while no writer runs), is called
// by open, holding no lock, before it takes a lookup's hint.
var testHookHint func()

// holds reports whether hn names key's slot in table t, the current
// table of key's segment, whose lock the caller holds: t is the table
// that the lookup probed and the slot still holds what it found there
// (table.Arena.Holds says why a ref identifies key; an entry is key's own
// object).
func (hn *hint[K, V]) holds(t *table.Table[K, V]) bool {
	if hn.t == nil || t != hn.t {
		return false
	}
	if hn.e == nil {
		return t.Arena().Holds(hn.pos, hn.ref)
	}
	return t.At(hn.pos) == hn.e
}

// init sets the writer of key, hashed h, for method fn, not open yet.
// Inlined into a caller that holds w in a local variable (and defers its
// close, then calls open), its stores go to the caller's stack, with
// none of the write barriers that pointer stores through a pointer need
// while the garbage collector marks. (A writer returned by value instead
// is built in a temporary and copied with loads that the CPU cannot
// forward from its store buffer.)
func (w *writer[K, V]) init(st *state[K, V], fn string, key K, h uint64) {
	w.st, w.fn, w.key, w.h = st, fn, key, h
	w.s, w.i = st.seg(h)
}

// open starts the write that init set: it locks key's segment and
// locates key. If hn is not the zero hint, a lock-free lookup found key
// at hn.pos in table hn.t before the lock was taken; if the table is
// still hn.t and the slot still holds what the lookup found (hint.holds),
// that position is taken as is (one probe per LoadAndDelete,
// CompareAndSwap and CompareAndDelete). On a bounded map where key is
// absent, it takes a reservation, or, if the map is full, every segment
// lock (admit). The caller must defer w.close() before calling open.
func (w *writer[K, V]) open(hn hint[K, V]) {
	st := w.st
	if hn.t != nil && testHookHint != nil {
		testHookHint()
	}
	if st.glock {
		st.lockSeg(w.i)
	} else {
		st.mus[w.i].Lock() // lockSeg without a table to seal: the fast path inlines
	}
	w.held = heldSegment
	if w.cur.t = w.s.table.Load(); hn.t != nil && hn.holds(w.cur.t) { // no call for the zero hint
		w.cur.pos, w.cur.e, w.cur.free = hn.pos, hn.e, table.NoPos
	} else {
		w.locateKey()
	}
	if w.cur.pos == table.NoPos && st.extra != nil {
		w.admit()
	}
}

// resume sets w as a write that open would have opened: the write of key,
// hashed h, for method fn, holding segment i's lock (taken plainly) with
// key located at c in the segment's current table. A light write
// (arenawrite.go) that needs the engine goes on with it, its lock held
// throughout. The caller must defer w.close() first.
func (w *writer[K, V]) resume(st *state[K, V], fn string, key K, h uint64, i int, c cursor[K, V]) {
	w.init(st, fn, key, h)
	w.held, w.cur = heldSegment, c
}

// admit is the bound's step of opening a write of an absent key, with the
// segment's lock held: extra.admit decides. If the map looks full, the
// write starts again with every segment lock held, where the count of
// entries is exact: if key is still absent and the map still full, the
// write is admitFull, and an insert must evict or fail.
func (w *writer[K, V]) admit() {
	x := w.st.extra
	if w.adm = x.admit(); w.adm != admitFull {
		return
	}
	// Every lock, taken by lockAll, which waits holding none: drop the
	// segment's first.
	w.st.unlockSeg(w.i)
	w.held = heldNone
	w.st.lockAll()
	w.held = heldAll
	w.cur.t = w.s.table.Load()
	w.locateKey()
	if w.found() {
		w.adm = admitNone
	} else {
		w.adm = x.admit() // admitFull: exactly maxLen entries, at this instant
	}
}

// close ends the write: it gives back a reservation that no insert used
// (the caller did not insert, or panicked), releases the locks, and then,
// with no lock held, hands an evicted entry to the OnEvict function.
func (w *writer[K, V]) close() {
	if w.held == heldNone {
		return
	}
	x := w.st.extra
	if x == nil && !invariants { // the whole of close for a map without options
		if w.st.glock {
			w.st.unlockSeg(w.i)
		} else {
			w.st.unlockMu(w.i) // unlockSeg without a table to unseal
		}
		if w.prep.of != nil {
			w.prepare() // holding no lock
		}
		return
	}
	if x != nil && w.adm == admitReserved {
		x.release()
	}
	var err error
	if invariants {
		err = w.check() // the locks still held (invariants.go)
	}
	if w.held == heldAll {
		w.st.unlockAll()
	} else {
		w.st.unlockSeg(w.i)
	}
	w.held = heldNone
	if w.prep.of != nil {
		w.prepare() // holding no lock
	}
	if err != nil {
		panic(fmt.Sprintf("cmap: %s: invariant broken: %v", w.fn, err))
	}
	if w.evicted != nil && x.onEvict != nil {
		x.onEvict(w.evicted.Key, w.evicted.Value)
	}
}

// locateKey finds key in the current table cur.t: the one dispatch on the
// layout of the engine's lookups.
func (w *writer[K, V]) locateKey() {
	c := &w.cur
	if w.st.arena { // immutable: the layout's own method, no dispatch
		c.pos, _, c.free, c.freeEmpty = c.t.Arena().Locate(w.h, w.key)
	} else if w.st.flat {
		c.pos, c.free, c.freeEmpty = c.t.LocateInline(w.h, w.key)
	} else {
		c.pos, c.e, c.free, c.freeEmpty = c.t.Locate(w.h, w.key)
	}
}

// locate finds the write's target again in the current table cur.t,
// after a rebuild moved the entries: key, or, byRecord, the entry cur.e.
func (w *writer[K, V]) locate() {
	if w.byRecord {
		w.cur.pos = w.s.log.PosOf(w.cur.t, w.cur.e)
		return
	}
	w.locateKey()
}

// found reports whether key is present (at cur.pos in cur.t).
func (w *writer[K, V]) found() bool { return w.cur.pos != table.NoPos }

// value returns key's value; key must be present.
func (w *writer[K, V]) value() V {
	if w.cur.e != nil {
		return w.cur.e.Value
	}
	if w.st.arena {
		return w.cur.t.Arena().ValueAt(w.cur.pos)
	}
	return w.cur.t.ValueAt(w.cur.pos)
}

// writable makes cur.t safe to change for an insert (insertEmpty: into an
// EMPTY slot) or a replace or delete, re-locating if the table moved.
func (w *writer[K, V]) writable(insertEmpty bool) {
	nt, moved := w.s.writableLocked(&w.st.hasher, w.cur.t, insertEmpty)
	w.cur.t = nt
	if moved {
		w.locate()
	}
}

// put publishes v for key, in place of key's value or as a new key: in an
// entry table as the entry ne (whose key is w.key and value v; nil in a
// flat table, which stores v itself). On a full bounded map an insert
// first evicts the oldest entry (EvictOldest), after making key's segment
// writable, so that a rebuild that panics leaves everything as it was; or
// it returns the ErrFull error, changing nothing (RejectNew).
func (w *writer[K, V]) put(v V, ne *table.Entry[K, V]) error {
	x := w.st.extra
	c := &w.cur
	if ne == nil && x == nil && c.pos != table.NoPos && !w.s.sharedLocked() {
		// The update of a present key in a flat or arena map without
		// options, the commonest write, without the checks below that
		// cannot apply to it: the case ne == nil and !insert of the
		// switch, repeated here because a method shared by both would be
		// a call (its cost, 160, is over the inliner's budget).
		if w.st.arena {
			c.pos = c.t.Arena().Replace(c.pos, w.key, v)
		} else {
			c.pos = c.t.ReplaceInline(c.pos, w.key, v)
		}
		return nil
	}
	insert := c.pos == table.NoPos
	if insert && w.adm == admitFull && x.policy == RejectNew {
		return x.errFull(w.fn)
	}
	if s := w.s; s.sharedLocked() || insert && c.freeEmpty && int(s.live.Load())+s.dead()+1 > c.t.MaxUsed() {
		w.writable(insert && c.freeEmpty) // checked here first: the call is rare
	}
	if insert && w.adm == admitFull {
		w.evictFor()
	}
	p := c.pos
	if insert {
		p = c.free
	}
	var seq uint64
	ordered := x != nil && x.ordered
	if ordered {
		seq = x.lockSeq()
	}
	switch {
	case ne == nil && insert:
		c.t.InsertInline(p, w.h, w.key, v)
	case ne == nil:
		if w.st.arena {
			p = c.t.Arena().Replace(p, w.key, v) // the key may move within its group
		} else {
			p = c.t.ReplaceInline(p, w.key, v)
		}
	case insert:
		c.t.Insert(p, w.h, ne)
	default:
		c.t.Replace(p, ne)
	}
	if ordered {
		x.unlockSeq(seq)
	}
	if insert {
		if c.freeEmpty {
			w.s.used.Add(1)
		}
		live := w.s.live.Add(1)
		w.adm = admitNone // the entry holds the reservation now
		if w.s.prepDue(c.t, int(live)) {
			w.claimPrep() // the table is filling up: see prepare.go
		}
	}
	if ordered {
		x.publishedLocked(w.s, seq, p, ne) // after the count: compaction checks it
	}
	c.pos, c.e = p, ne
	return nil
}

// del deletes key's entry (key must be present).
func (w *writer[K, V]) del() { w.remove(true) }

// remove deletes the target's entry (present at cur.pos). If shrink is set
// and the delete leaves the table sparse, the smaller table is built first
// and the entry deleted from it, so that a rebuild that panics changes
// nothing.
func (w *writer[K, V]) remove(shrink bool) {
	s := w.s
	// The shrink test is checked here first, since the call is rare; live
	// is the count after the delete.
	live := int(s.live.Load()) - 1
	if live < w.cur.t.Capacity()/8 && shrink {
		if n := s.shrinkGroups(w.cur.t, live); n != 0 {
			w.cur.t = s.rebuildLocked(&w.st.hasher, n) // before the delete: see the file comment
			w.locate()
		}
	}
	if !w.byRecord && w.cur.t.NeedsCompact(w.cur.pos) {
		// An arena's garbage bound: compact before the delete, as above.
		// The key keeps its slot in the compacted table.
		w.cur.t = s.compactLocked(&w.st.hasher, w.cur.t)
	}
	if s.sharedLocked() {
		w.writable(false)
	}
	if !w.cur.t.Delete(w.cur.pos) {
		s.used.Add(-1) // the slot became EMPTY
	}
	s.live.Add(-1)
	if x := w.st.extra; x != nil {
		x.deletedLocked(s)
	}
	w.cur.pos, w.cur.e = table.NoPos, nil
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
	w.adm = admitReserved
}

// deleteRecordLocked is the engine's entry point for a delete by record:
// it deletes the entry of record r, valid in segment i's table (PopOldest,
// evictions). It deletes by slot, not by key, which also removes keys that
// no lookup finds (NaN). keepSize: do not shrink the table (an eviction
// from the segment that the evicting insert is about to refill). Every
// segment lock must be held, by the caller, which releases them.
func (st *state[K, V]) deleteRecordLocked(fn string, i int, r table.Record[K, V], keepSize bool) {
	var w writer[K, V] // set field by field: see init
	w.st, w.fn, w.s, w.i, w.byRecord = st, fn, &st.segs[i], i, true
	w.cur.t, w.cur.pos, w.cur.e, w.cur.free = w.s.table.Load(), r.Pos, r.Entry, table.NoPos
	w.remove(!keepSize)
	if invariants {
		st.mustCheckSegment(fn, i)
	}
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
