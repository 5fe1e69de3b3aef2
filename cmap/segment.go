package cmap

import (
	"sync/atomic"
	"unsafe"

	"github.com/segmap/segmap/internal/release"
	"github.com/segmap/segmap/internal/table"
)

// slot is segment i's part of the readers' array (state.rd): its table
// and its count, the two things a reader that takes no lock reads of it.
// Clear replaces the whole array; every other change writes into the
// current slot, through the segment's pointers.
type slot[K comparable, V any] struct {
	// table is the segment's current table. Replaced whole (never resized
	// in place) under the segment lock; loaded atomically by readers.
	// Never nil.
	table atomic.Pointer[table.Table[K, V]]
	// The readers' half: 128 bytes, since x86 fetches cache lines in
	// adjacent pairs; a writer stores here only to swap tables (measured:
	// mix-90 at 2 Ps ~15% faster than with 64-byte halves).
	_ [120]byte
	// live and used, plus the stripes' shares below (segCount, liveN),
	// are the number of entries in table (tag bytes) and that number
	// plus the tombstones of table (the slots that count against its
	// load bound: used <= MaxUsed). These two words change atomically,
	// under the segment lock only, on inserts and deletes (an overwrite
	// changes neither; used only on an insert into an EMPTY slot and on a
	// delete that leaves one); group-lock writers (grouplock.go) count in
	// the stripes instead. The sums are exact whenever no write is in
	// flight (the table sealed, with its group locks all free). Read by
	// Len (live) and by the writers' bound checks.
	live atomic.Int64
	used atomic.Int64
	_    [112]byte
	// cs holds the shares of live and used that group-lock writers
	// (grouplock.go) count, a line pair each, so that writers of
	// different groups do not write one line: the segment's counts are
	// live and used above plus the sums of the stripes' (segCount, Len).
	// Always zero in a map without group locks.
	cs [countStripes]stripe
}

// countStripes is the number of count stripes of a segment (a power of
// two). A group-lock writer counts in stripe g & (countStripes-1) of its
// key's home group g, so two writers of different groups share a stripe
// with probability 1/countStripes.
const countStripes = 4

// A stripe is 8-byte aligned on every platform, so its live and used
// words are too (sync/atomic's 64-bit functions need it on 32-bit ones):
// this fails to compile where it is not.
var _ [unsafe.Alignof(stripe{}) - 8]byte

// stripe is one share of a group-lock segment's counts (slot.cs).
type stripe struct {
	// live and used are the stripe's shares of the segment's live and
	// used counts: changed atomically by group-lock writers, in the
	// stripe of their key's home group, whose lock they hold (never by the
	// segment lock's holder), so they are quiescent while the table is sealed and its
	// group locks free. Either may be negative: a share counts the
	// changes its writers made, and the entries they delete may have
	// been counted by the segment lock's writers. Plain words, changed
	// and read with sync/atomic's functions (AddInt64, LoadInt64), which
	// the compiler makes single instructions wherever cmap is
	// instantiated; atomic.Int64's methods were calls in the writes of a
	// program that does not import sync/atomic (go1.26.8, go tool
	// objdump). The field before keeps them 8-byte aligned on 32-bit
	// platforms, as atomic.Int64 is.
	_          [0]atomic.Int64
	live, used int64
	// usedMax and liveMin are the bounds that group-lock writers keep
	// used above and live (less one) at or above, falling back to the
	// segment lock beyond them (grouplock.go): the stripe's share of the
	// table's room for inserts into EMPTY slots (the load bound) and for
	// deletes (the shrink rule), so that together the stripes never
	// break either rule. Written by setQuotas with the segment lock held:
	// at an unseal, or in a reshare (state.reshare), while group-lock
	// writers run; so written and read atomically. A writer adds to its
	// count first and loads the bound after: a reshare closes every
	// stripe (usedMax = math.MinInt64, liveMin = math.MaxInt64) before it
	// reads the counts, so that any writer whose test passed had its add
	// in the counts the reshare reads (sync/atomic's operations are
	// sequentially consistent), and any later one fails and gives its
	// add back.
	usedMax, liveMin int64
	// prepUsed is the used share at which a group-lock insert claims the
	// preparation of the next table (prepAt), set and read as usedMax;
	// math.MaxInt64 in a table too small to prepare (prepMinGroups).
	prepUsed int64
	_        [88]byte
}

// liveN returns the slot's live count: its own and its stripes'. It is
// the sum of several words, each read atomically: exact when no write is
// in flight, as Len promises (a segment-lock writer changes live only,
// a group-lock writer one stripe only, so a single write moves it once).
func (sl *slot[K, V]) liveN() int64 {
	return segCount{base: &sl.live, cs: &sl.cs}.Load()
}

// segCount is one of a segment's counts (live or used) as the holder of
// its lock sees it: the slot's word plus the stripes' shares. Changes go
// into the slot's word; the stripes, which only group-lock writers
// change, are quiescent while the lock's holder has sealed the table, so
// the sum is then exact. Its methods have atomic.Int64's meaning for that
// sum.
type segCount struct {
	base *atomic.Int64
	// cs is the slot's stripes in a group-lock map, else nil (they stay
	// zero); used selects the stripes' used share rather than live.
	cs   *[countStripes]stripe
	used bool
}

// shares returns the stripes' sum.
func (c segCount) shares() int64 {
	n := int64(0)
	if c.cs != nil {
		for i := range c.cs {
			if c.used {
				n += atomic.LoadInt64(&c.cs[i].used)
			} else {
				n += atomic.LoadInt64(&c.cs[i].live)
			}
		}
	}
	return n
}

// Load returns the count.
func (c segCount) Load() int64 { return c.base.Load() + c.shares() }

// Add adds d to the count and returns the new count. The slot's word has
// one writer, the holder of the segment lock, whose release (an atomic
// read-modify-write) follows: a load and a release store make the add
// (internal/release), with no locked instruction.
func (c segCount) Add(d int64) int64 {
	v := c.base.Load() + d
	release.StoreInt64(c.base, v)
	return v + c.shares()
}

// bump is Add without the stripes, for a map without group locks (whose
// stripes stay zero), and without the result: short enough to inline.
func (c segCount) bump(d int64) { release.StoreInt64(c.base, c.base.Load()+d) }

// Store sets the count to v.
func (c segCount) Store(v int64) { c.base.Store(v - c.shares()) }

// segment is the part of a Map whose keys have the same top hash bits. Its
// writers hold its lock, stripe i of state.locks (i = its index, also
// state.mus[i]), or, in a group-lock map, the locks of the groups they
// write (grouplock.go), while its table is not sealed; its readers hold
// nothing and read its slot of the readers' array only. This file manages its table: copy-on-write, grow,
// clean and shrink, each by building a new table and swapping it in.
type segment[K comparable, V any] struct {
	// table, live and used are the fields of the segment's slot in the current
	// readers' array (see attach), through which its writers reach them
	// (live and used with the slot's count stripes: segCount).
	// Set by init, and by Clear with every lock held; read under the
	// segment lock.
	table *atomic.Pointer[table.Table[K, V]]
	live  segCount
	used  segCount
	// minGroups is the floor set by Reserve: the table never shrinks below
	// it. A power of two >= 1.
	minGroups int
	// frozen: table (and log) is shared with a snapshot and must never
	// change again; the next write copies it. Cleared when table is
	// replaced.
	frozen bool
	// quiet: in a group-lock map, table is sealed and no group-lock
	// writer has been inside it since the seal: its sealer saw every group
	// lock free (lockSeg, trySealAll), or it was born sealed (replaced,
	// cloned, or by Clear) and never unsealed. Cleared by the unseal.
	// Only then may the lock's holder share out the counts' room again
	// (setQuotas): a holder that locked without sealing (unpin), or a
	// lockAll that let go of a seal whose group lock stayed held, must
	// not write the limits that group-lock writers are reading.
	quiet bool
	// fixed: the map is bounded with RejectNew and sized once (minGroups
	// is extra.fixedGroups or more): a rebuild keeps that size while the
	// live entries fit in it. Immutable.
	fixed bool
	// pins counts iterators reading table; while > 0 writers copy it first,
	// as for frozen. Reset to 0 when table is replaced (iterators holding
	// the old table then unpin nothing).
	pins int
	// resizes counts the rebuilds and clones of the table, for Stats;
	// Clear's replacements are not counted.
	resizes atomic.Uint64
	// log is nil unless the map keeps insertion order (WithInsertionOrder);
	// then it is the insertion log of table: every entry of table has
	// exactly one valid record in it (see internal/table's Log). It is
	// replaced, with a new array, whenever table is; while frozen is set a
	// snapshot shares its array, which is then only read.
	log *table.Log[K, V]
	// prep is the table prepared for the next rebuild, if any
	// (prepare.go).
	prep prep[K, V]
	// (The writers' line: 128 bytes, for the reason given on slot.)
}

// attach makes sl the segment's slot: its writers reach its table and
// count through it from now on. Called by init, and by Clear with every
// segment lock held.
func (s *segment[K, V]) attach(sl *slot[K, V], glock bool) {
	var cs *[countStripes]stripe
	if glock {
		cs = &sl.cs
	}
	s.table = &sl.table
	s.live = segCount{base: &sl.live, cs: cs}
	s.used = segCount{base: &sl.used, cs: cs, used: true}
}

// dead returns the number of tombstones in the table (used - live): exact
// with the segment lock held and the table sealed.
func (s *segment[K, V]) dead() int { return int(s.used.Load() - s.live.Load()) }

// sharedLocked reports whether the current table may be read by a snapshot
// or an iterator and so must be copied before a write. The segment lock
// must be held.
func (s *segment[K, V]) sharedLocked() bool { return s.frozen || s.pins > 0 }

// replaceLocked publishes nt (holding live entries and no tombstones) as
// the segment's table. The atomic store orders every write that filled nt
// before any reader's load of the pointer. It does not count a resize:
// its callers that rebuild do. The segment lock must be held.
func (s *segment[K, V]) replaceLocked(nt *table.Table[K, V], live int) {
	s.dropPreparedLocked()
	s.table.Store(nt)
	s.live.Store(int64(live))
	s.used.Store(int64(live))
	s.quiet = true // nt is born sealed (a group-lock map's)
	s.frozen = false
	s.pins = 0
}

// cloneLocked replaces the shared table t by a verbatim copy, keeping the
// live and dead counts, and returns it. Nothing is hashed (hasher serves
// the invariant check of a segmap_invariants build only). Every entry
// keeps its slot, so the log, if any, stays valid for the copy as it is
// (it protects the records a snapshot shares itself: see internal/table's
// Log). The segment lock must be held.
func (s *segment[K, V]) cloneLocked(hasher *table.Hasher[K], t *table.Table[K, V]) *table.Table[K, V] {
	return s.sameSlotsLocked(hasher, t.Clone(), "copy")
}

// compactLocked replaces the arena table t, whose garbage a delete is
// about to take over its bound (NeedsCompact), by its compaction
// (Table.Compacted): the same slots, tombstones included, so the live
// and dead counts stay and a writer's position in t stays valid, with an
// arena that holds only the live keys' records. Nothing is hashed, so
// nothing a user wrote can panic in it. The new table is private: it also
// serves as the copy a shared t needs. The segment lock must be held.
func (s *segment[K, V]) compactLocked(hasher *table.Hasher[K], t *table.Table[K, V]) *table.Table[K, V] {
	return s.sameSlotsLocked(hasher, t.Compacted(), "compaction")
}

// sameSlotsLocked publishes nt, a new table that holds the current
// table's entries in the same slots, as the segment's table, keeping the
// live and dead counts, and returns it. It counts a resize. The segment
// lock must be held.
func (s *segment[K, V]) sameSlotsLocked(hasher *table.Hasher[K], nt *table.Table[K, V], what string) *table.Table[K, V] {
	s.dropPreparedLocked()
	s.table.Store(nt)
	s.quiet = true // nt is born sealed (a group-lock map's)
	s.frozen = false
	s.pins = 0
	s.resizes.Add(1)
	if invariants {
		s.mustCheckRebuilt(hasher, what)
	}
	return nt
}

// rebuildLocked replaces the table by a copy of n groups (clamped to the
// floor), made into the prepared table if one is parked for it
// (prepare.go), and returns it. If hashing panics the segment is left
// exactly as it was, but for a parked table, dropped. The segment lock
// must be held.
func (s *segment[K, V]) rebuildLocked(hasher *table.Hasher[K], n int) *table.Table[K, V] {
	n = max(n, s.minGroups)
	nt, nl, live, prepared := s.copyLocked(hasher.Hash, s.table.Load(), n)
	s.replaceLocked(nt, live)
	s.resizes.Add(1)
	if prepared {
		s.prep.used.Add(1)
	}
	if nl != nil {
		s.log = nl
	}
	if invariants {
		s.mustCheckRebuilt(hasher, "rebuild")
	}
	return nt
}

// growthGroups returns the table size for a segment that holds live
// entries, to rebuild before it inserts one more or after it deleted
// one: the smallest power of two at which they use at most half the load
// bound, so that the next rebuild is far away. At a full table (live =
// MaxUsed(g), no tombstones) that is 2g: MaxUsed(2g) >= 2·MaxUsed(g).
// (Counting the entry about to be inserted would make it 4g, since
// MaxUsed(g)+1 is just over half of MaxUsed(2g): TestGrowthDoubles.) A
// fixed segment keeps its fixed size while the entries and one more fit
// in it.
func (s *segment[K, V]) growthGroups(live int) int {
	if s.fixed && live < table.MaxUsed(s.minGroups) { // room for one more
		return s.minGroups
	}
	return table.GroupsFor(2 * live)
}

// writableLocked returns the table a writer may change for an operation
// that is about to insert (insertEmpty: into an EMPTY slot) or only
// replace or delete: a private copy if the current table t is shared,
// grown or cleaned if an insert into an EMPTY slot would break the load
// bound. moved reports that entries may have moved (a rebuild, not a
// verbatim clone), so the caller must locate its key again. If hashing
// panics during a rebuild, the segment is left as it was. The segment lock
// must be held.
func (s *segment[K, V]) writableLocked(hasher *table.Hasher[K], t *table.Table[K, V], insertEmpty bool) (nt *table.Table[K, V], moved bool) {
	live := int(s.live.Load())
	if insertEmpty && live+s.dead()+1 > t.MaxUsed() {
		// Double if live entries need it, keep the size (dropping the
		// tombstones) if they do not, shrink if they are few.
		return s.rebuildLocked(hasher, s.growthGroups(live)), true
	}
	if s.sharedLocked() {
		// Copy-on-write after a snapshot or during an iteration. If one
		// more entry fits, clone the table verbatim (a memory copy, no
		// rehash: 2.4× cheaper than a rebuild for a segment of a 1e6
		// map, BenchmarkCloneOrCopy in internal/table), and keep the log;
		// otherwise rebuild, bigger if the live entries need it.
		if live+s.dead()+1 <= t.MaxUsed() {
			return s.cloneLocked(hasher, t), false
		}
		n := t.Groups()
		if live+1 > t.MaxUsed() {
			n = s.growthGroups(live)
		}
		return s.rebuildLocked(hasher, n), true
	}
	return t, false
}

// shrinkGroups returns the smaller size to rebuild table t to before a
// delete that leaves live entries, or 0 to keep it: a table shrinks when
// fewer than an eighth of its slots would hold entries, giving memory
// back. The rebuilt table has room for the entry about to be deleted and
// the tombstone its delete may leave. The segment lock must be held.
func (s *segment[K, V]) shrinkGroups(t *table.Table[K, V], live int) int {
	if t.Groups() <= s.minGroups || live >= t.Capacity()/8 {
		return 0
	}
	if n := max(s.growthGroups(live), s.minGroups); n < t.Groups() && table.MaxUsed(n) > live {
		return n
	}
	return 0
}
