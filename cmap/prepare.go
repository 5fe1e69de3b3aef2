package cmap

import (
	"fmt"
	"sync/atomic"

	"github.com/segmap/segmap/internal/table"
)

// Prepared tables: the part of a growth that costs most, getting the new
// table's memory from the operating system (a page fault per 4 KiB page as
// the copy first touches it: BenchmarkPreparedCopy in internal/table), is
// paid before the growth and outside the segment lock, by one writer, so
// that the rebuild under the lock only copies (docs/design.md, "Prepared
// tables").
//
//  1. Claim. A write that inserts (put) and leaves the segment's table at
//     prepAt of its load bound or more, in a table of prepMinGroups groups
//     or more, claims the preparation: it moves the segment's prep state
//     from prepNone to prepWanted (one CAS: at most one preparation per
//     segment is in flight), noting the table it prepares for and the
//     size the next rebuild would choose (prepGroups).
//  2. Prepare. That writer, after it released every lock (close), makes
//     the table with Table.Prepare, holding no lock.
//  3. Park. It takes the segment lock again and parks the table on the
//     segment (prepDone) if the segment's table is still the one it
//     prepared for; otherwise, or if the preparation panicked, it drops
//     the table and moves the state back to prepNone.
//  4. Use. rebuildLocked unparks the table (prepNone) before it copies,
//     and copies into it if its size is the one chosen; else it drops it.
//
// Every replacement of the segment's table drops a parked table
// (dropPreparedLocked: replaceLocked, cloneLocked, Clear), and a parked
// table is used only while its segment's table is the one it was prepared
// for. So a parked table is always empty: it is taken off the segment
// before anything is written into it, and a rebuild that fails halfway
// (a hasher that panics) leaves a partly filled table that nothing
// reaches.

// Prep states (prep.state).
const (
	// prepNone: no table parked, no preparation in flight.
	prepNone uint32 = iota
	// prepWanted: one writer claimed the preparation and is making the
	// table, holding no lock; only it changes the state then.
	prepWanted
	// prepDone: a table is parked (prep.t).
	prepDone
)

// prepMinGroups is the smallest table whose growth is prepared: smaller
// ones copy in a few microseconds.
const prepMinGroups = 64

// prepAt returns the used slots (live + dead) at which a table of g groups
// has its next table prepared: 7/8 of the load bound, an eighth of the
// bound (about 0.6 inserts per group) before the growth.
func prepAt(g int) int { return prepAtUsed(table.MaxUsed(g)) }

// prepAtUsed is prepAt of a table whose load bound (MaxUsed) is u.
func prepAtUsed(u int) int { return u - u/8 }

// prep is a segment's prepared table. Its fields are read and written with
// the segment lock held, but for state, which is atomic so that a claim is
// one CAS.
type prep[K comparable, V any] struct {
	// state is prepNone, prepWanted or prepDone. Moves: prepNone →
	// prepWanted (a claim, CAS); prepWanted → prepDone or prepNone (the
	// claimer only); prepDone → prepNone (a rebuild that takes t, or a
	// replacement that drops it, under the segment lock).
	state atomic.Uint32
	// t is the parked table: not nil if and only if state is prepDone.
	// Empty, in the map's layout, never seen by a reader.
	t *table.Table[K, V]
	// of is the table t was prepared for; while t is parked, it is the
	// segment's current table (every replacement drops t). Nil when t is.
	of *table.Table[K, V]
	// used counts the rebuilds that copied into a prepared table, for
	// Stats.Prepared.
	used atomic.Uint64
}

// prepClaim is what a write that claimed a preparation carries to its
// close: the table it prepares for (nil: no claim) and the size.
type prepClaim[K comparable, V any] struct {
	of *table.Table[K, V]
	n  int
}

// testHookPrepare, if set (by tests only), runs at the start of a
// preparation, holding no lock, with the segment's index.
var testHookPrepare func(i int)

// testHookNoPrepare, if set (by tests and benchmarks only), stops writes
// from claiming preparations.
var testHookNoPrepare atomic.Bool

// prepDue reports whether an insert that left table t with live entries
// and s.dead tombstones should claim its next table's preparation. The
// segment lock must be held. (It inlines into put: the common answer is
// two compares.)
func (s *segment[K, V]) prepDue(t *table.Table[K, V], live int) bool {
	return t.Groups() >= prepMinGroups && live+s.dead() >= prepAt(t.Groups()) && s.prep.state.Load() == prepNone
}

// claimPrep claims the preparation of the table that will replace cur.t
// when it fills up, for close to make. The segment lock must be held.
func (w *writer[K, V]) claimPrep() {
	w.prep = w.s.claim(w.cur.t)
}

// claim claims the preparation of the table that will replace t, the
// segment's current table, when it fills up, and returns the claim (its
// of is nil if another writer holds it, or preparations are off). The
// caller holds the segment lock, or t's lock of a group it writes (a
// group-lock write, grouplock.go: minGroups is then read as such a
// writer may read it, and the counts are atomic).
func (s *segment[K, V]) claim(t *table.Table[K, V]) prepClaim[K, V] {
	if testHookNoPrepare.Load() || !s.prep.state.CompareAndSwap(prepNone, prepWanted) {
		return prepClaim[K, V]{}
	}
	// The size the growth at the bound will choose: the live entries
	// then are the bound less the tombstones (as many as now, if the
	// inserts until then reuse none).
	return prepClaim[K, V]{of: t, n: max(s.growthGroups(t.MaxUsed()-s.dead()), s.minGroups)}
}

// prepare makes and parks the table that write w claimed (claimPrep). It
// runs in close, after every lock was released.
func (w *writer[K, V]) prepare() {
	c := w.prep
	w.prep = prepClaim[K, V]{}
	w.st.prepare(w.i, c)
}

// prepare makes and parks the table that claim c of segment i asked for,
// holding no lock when called. If it panics, the state goes back to
// prepNone and no lock is held.
func (st *state[K, V]) prepare(i int, c prepClaim[K, V]) {
	s := &st.segs[i]
	parked := false
	defer func() {
		if !parked {
			s.prep.state.Store(prepNone) // this write owns the state while prepWanted
		}
	}()
	if testHookPrepare != nil {
		testHookPrepare(i)
	}
	nt := c.of.Prepare(c.n)
	// The plain segment lock, not lockSeg: parking writes only the prep
	// fields, which group-lock writers do not read, so the table need not
	// be sealed.
	st.locks.Lock(i)
	defer st.locks.Unlock(i)
	if s.table.Load() == c.of {
		s.prep.t, s.prep.of = nt, c.of
		s.prep.state.Store(prepDone)
		parked = true
	}
}

// takePreparedLocked unparks the segment's prepared table and returns it
// if it has n groups and was prepared for the current table; else it
// drops it and returns nil. The segment lock must be held.
func (s *segment[K, V]) takePreparedLocked(n int) *table.Table[K, V] {
	if s.prep.state.Load() != prepDone {
		return nil
	}
	nt, of := s.prep.t, s.prep.of
	s.dropPreparedLocked()
	if of != s.table.Load() || nt.Groups() != n {
		return nil
	}
	return nt
}

// dropPreparedLocked drops the parked table, if any: every replacement
// of the segment's table calls it. A preparation in flight (prepWanted) is
// left to its writer, which will find the table replaced and drop its
// own. The segment lock must be held.
func (s *segment[K, V]) dropPreparedLocked() {
	if s.prep.state.Load() == prepDone {
		s.prep.t, s.prep.of = nil, nil
		s.prep.state.Store(prepNone)
	}
}

// parkLocked parks nt, an empty table made by Table.Prepare, for the
// segment's current table, in place of any parked one, unless a
// preparation is in flight; it reports whether it did. The segment lock
// must be held. (Reserve: it prepares its tables before taking the lock.)
func (s *segment[K, V]) parkLocked(nt *table.Table[K, V]) bool {
	s.dropPreparedLocked()
	if !s.prep.state.CompareAndSwap(prepNone, prepDone) {
		return false
	}
	s.prep.t, s.prep.of = nt, s.table.Load()
	return true
}

// copyLocked copies the segment's table t into a table of n groups, the
// parked one if it fits (takePreparedLocked), a new one otherwise, and
// returns it with the new log (nil without insertion order), the live
// count and whether the parked table was used. If hashing panics, the
// segment is as it was but for a parked table, dropped. The segment lock
// must be held.
func (s *segment[K, V]) copyLocked(hash func(K) uint64, t *table.Table[K, V], n int) (nt *table.Table[K, V], nl *table.Log[K, V], live int, prepared bool) {
	nt = s.takePreparedLocked(n)
	prepared = nt != nil
	if !prepared {
		nt = t.Empty(n)
	}
	if s.log != nil {
		// Re-insert in log order: the new log is the old one compacted,
		// in a new array (the old one may be a snapshot's).
		nl, live = t.CopyLogInto(nt, hash, s.log)
	} else {
		live = t.CopyInto(nt, hash)
	}
	return nt, nl, live, prepared
}

// checkPrepLocked verifies the prepared table's invariants, with the
// segment lock held: a table parked exactly when the state says so, for
// the current table, empty and in its layout.
func (s *segment[K, V]) checkPrepLocked(hash func(K) uint64) error {
	p := &s.prep
	switch st := p.state.Load(); {
	case st == prepDone:
		if p.t == nil {
			return fmt.Errorf("prepared state with no table parked")
		}
		t := s.table.Load()
		if p.of != t {
			return fmt.Errorf("parked table prepared for a table that is not the segment's")
		}
		if p.t == t || p.t.IsFlat() != t.IsFlat() || p.t.IsArena() != t.IsArena() {
			return fmt.Errorf("parked table is the current table or in another layout")
		}
		if err := p.t.CheckInvariants(hash, 0, 0); err != nil {
			return fmt.Errorf("parked table not empty: %w", err)
		}
	case st == prepNone || st == prepWanted:
		if p.t != nil || p.of != nil {
			return fmt.Errorf("a table parked in prep state %d", st)
		}
	default:
		return fmt.Errorf("prep state %d", st)
	}
	return nil
}
