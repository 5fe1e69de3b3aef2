package cmap

import (
	"fmt"
	"math/rand/v2"

	"github.com/segmap/segmap/internal/table"
)

// The map's invariant checker. Tests call it on a quiescent map (the
// test-only CheckInvariants); built with the tag segmap_invariants
// (invariants_on.go), the map also calls it continuously, as the Go
// runtime's maps do under a constant:
//
//   - close, at the end of every write of the engine, with the write's
//     locks still held: the write's segment (checkSegmentLocked), and,
//     if the write holds every lock, the bound's count (checkCountsLocked);
//   - deleteRecordLocked, at the end of a delete by record (PopOldest, an
//     eviction): that segment;
//   - rebuildLocked and cloneLocked, on the table and log they built
//     (segment.checkLocked).
//
// A violation panics, naming it, after the write released its locks.
// Without the tag, invariants is a false constant and every call is
// dropped by the compiler.
//
// A whole-segment check is O(capacity), so a write checks its segment
// whole only sometimes (sampled): always if the table has at most
// checkSlots slots, else with probability checkSlots/capacity, which
// bounds the mean cost per write at about checkSlots slot checks however
// large the segment. A violation that stays (a count off by one, a key in
// the wrong place) is then caught within about capacity/checkSlots writes
// to its segment. Every write checks its segment's counts against the
// table's bound (O(1)); rebuilds and copies, O(capacity) themselves,
// check the whole segment every time.
//
// A continuous check hashes keys with the map's hasher, which a user's
// hasher may make panic (tests do, to check the map survives it); such a
// panic skips the check instead of escaping from it, since it says
// nothing about the map (guarded).

// checkSegmentLocked verifies segment i, whose lock is held by a writer
// between writes (or by the checker): its table's invariants (internal
// table's CheckInvariants) with the segment's live and dead counts, the
// floor, the log, each key in the segment its hash selects, and the
// options' per-segment state (checkOptionsLocked). hash is the map's hash
// function, guarded or not.
func (st *state[K, V]) checkSegmentLocked(i int, hash func(K) uint64) error {
	s := &st.segs[i]
	err := s.checkLocked(hash)
	if err == nil {
		err = st.checkOptionsLocked(i)
	}
	if err == nil {
		s.table.Load().RangeKV(func(k K, _ V) bool {
			if _, j := st.seg(hash(k)); j != i && k == k {
				err = fmt.Errorf("key %v in segment %d, hashes to %d", k, i, j)
			}
			return err == nil
		})
	}
	if err != nil {
		return fmt.Errorf("segment %d: %w", i, err)
	}
	return nil
}

// checkLocked verifies what segment s alone guarantees between writes,
// with its lock held: its table's invariants given its live and dead
// counts, the table at or above the floor, the prepared table
// (checkPrepLocked), and, with insertion order, its
// log (internal/table's Log.Check: seqs increase, each live entry has
// exactly one valid record) holding at most LogSlack stale records beyond
// one per live entry.
func (s *segment[K, V]) checkLocked(hash func(K) uint64) error {
	t := s.table.Load()
	live := int(s.live.Load())
	if err := t.CheckInvariants(hash, live, s.dead()); err != nil {
		return err
	}
	if t.Groups() < s.minGroups {
		return fmt.Errorf("%d groups below the floor %d", t.Groups(), s.minGroups)
	}
	if err := s.checkPrepLocked(hash); err != nil {
		return err
	}
	if s.log != nil {
		if err := s.log.Check(t, live); err != nil {
			return err
		}
		if s.log.Held()-live > live+table.LogSlack {
			return fmt.Errorf("log holds %d records for %d live entries: more than %d stale beyond one per entry",
				s.log.Held(), live, table.LogSlack)
		}
	}
	return nil
}

// checkOptionsLocked verifies segment i's part of the optional features'
// state, with its lock held: a log exactly if the map keeps insertion
// order, a fixed layout exactly if it is bounded with RejectNew, and then
// a floor at least the layout. (A fixed segment's table may be above the
// floor with few entries: a Reserve can raise the floor and a smaller one
// lower it again, and the table shrinks back only at the segment's next
// delete (TestRejectNewReserveThenSmaller), so that is no invariant.)
func (st *state[K, V]) checkOptionsLocked(i int) error {
	s := &st.segs[i]
	x := st.extra
	if x == nil {
		if s.log != nil || s.fixed {
			return fmt.Errorf("a log or a layout without the options")
		}
		return nil
	}
	if (s.log != nil) != x.ordered {
		return fmt.Errorf("log %v for ordered = %v", s.log != nil, x.ordered)
	}
	if s.fixed != (x.policy == RejectNew) {
		return fmt.Errorf("fixed = %v with policy %v", s.fixed, x.policy)
	}
	if s.fixed && s.minGroups < x.fixedGroups {
		return fmt.Errorf("floor %d below the fixed size %d", s.minGroups, x.fixedGroups)
	}
	return nil
}

// checkCountsLocked verifies the map-wide counts of the optional features,
// with every segment lock held and no reservation held by a write: the
// reservations equal the live entries, at most the bound, and nobody
// holds the publication lock.
func (st *state[K, V]) checkCountsLocked() error {
	x := st.extra
	if x == nil {
		return nil
	}
	if x.maxLen > 0 {
		live := int64(0)
		for i := range st.segs {
			live += st.segs[i].live.Load()
		}
		if r := x.reserved.Load(); r != live || r > x.maxLen {
			return fmt.Errorf("%d reservations for %d live entries, at most %d", r, live, x.maxLen)
		}
	}
	if x.seq.Load()&1 != 0 {
		return fmt.Errorf("publication lock held by nobody")
	}
	return nil
}

// checkSegment verifies segment i of a quiescent map: checkSegmentLocked,
// and no pin left by a finished iterator. It takes the segment's lock,
// which it releases even if the hasher panics.
func (st *state[K, V]) checkSegment(i int) error {
	st.lockSeg(i)
	defer st.unlockSeg(i)
	if err := st.checkSegmentLocked(i, st.hasher.Hash); err != nil {
		return err
	}
	if p := st.segs[i].pins; p != 0 {
		return fmt.Errorf("segment %d: %d pins left by finished iterators", i, p)
	}
	return nil
}

// checkExtra verifies the map-wide state of the optional features of a
// quiescent map (checkCountsLocked), taking every segment lock.
func (st *state[K, V]) checkExtra() error {
	if st.extra == nil {
		return nil
	}
	st.lockAll()
	defer st.unlockAll()
	return st.checkCountsLocked()
}

// check is the continuous check at the end of write w (close), with its
// locks held and its unused reservation given back: w's segment, and, if
// w holds every lock, the map's counts; with its segment's lock alone, the
// reservations at most the bound (other segments' writers may hold
// reservations for keys not yet counted).
func (w *writer[K, V]) check() error {
	st := w.st
	return guarded(&st.hasher, func(hash func(K) uint64) error {
		if err := st.checkSegmentSampled(w.i, hash); err != nil {
			return err
		}
		if w.held == heldAll {
			return st.checkCountsLocked()
		}
		if x := st.extra; x != nil && x.maxLen > 0 {
			if r := x.reserved.Load(); r > x.maxLen {
				return fmt.Errorf("%d reservations, above the bound %d", r, x.maxLen)
			}
		}
		return nil
	})
}

// checkSlots is the capacity up to which a write checks its whole
// segment every time; above it, a write does with probability
// checkSlots/capacity.
const checkSlots = 128

// checkSegmentSampled is the continuous check of segment i, whose lock is
// held, after a write: the counts within the table's bound, and the whole
// segment (checkSegmentLocked) if it is small, or if the sample falls on
// this write.
func (st *state[K, V]) checkSegmentSampled(i int, hash func(K) uint64) error {
	s := &st.segs[i]
	t := s.table.Load()
	if live := int(s.live.Load()); live < 0 || s.dead() < 0 || live+s.dead() > t.MaxUsed() {
		return fmt.Errorf("segment %d: %d live + %d dead, beyond [0, %d]", i, live, s.dead(), t.MaxUsed())
	}
	if c := t.Capacity(); c > checkSlots && rand.IntN(c) >= checkSlots {
		return nil
	}
	return st.checkSegmentLocked(i, hash)
}

// mustCheckSegment is the continuous check of segment i after a delete by
// record, with every lock held by the caller (PopOldest, or an evicting
// write), which releases them: it panics on a violation.
func (st *state[K, V]) mustCheckSegment(fn string, i int) {
	err := guarded(&st.hasher, func(hash func(K) uint64) error { return st.checkSegmentSampled(i, hash) })
	if err != nil {
		panic(fmt.Sprintf("cmap: %s: invariant broken: %v", fn, err))
	}
}

// mustCheckRebuilt is the continuous check of segment s after a rebuild or
// a copy (what) replaced its table, with its lock held: it panics on a
// violation, and the caller's deferred unlock releases the lock.
func (s *segment[K, V]) mustCheckRebuilt(hasher *table.Hasher[K], what string) {
	if err := guarded(hasher, s.checkLocked); err != nil {
		panic(fmt.Sprintf("cmap: invariant broken by a table %s: %v", what, err))
	}
}

// hasherPanic is what a guarded hash panics with when the map's hasher
// panics.
type hasherPanic struct{ v any }

// guarded runs check with hasher's hash function, guarded: a panic of the
// hasher skips the check (nil), any other panic is returned as an error,
// so that the caller can release its locks before it reports it.
func guarded[K comparable](hasher *table.Hasher[K], check func(hash func(K) uint64) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(hasherPanic); ok {
				err = nil
				return
			}
			err = fmt.Errorf("the checker panicked: %v", r)
		}
	}()
	return check(func(k K) uint64 {
		defer func() {
			if r := recover(); r != nil {
				panic(hasherPanic{r})
			}
		}()
		return hasher.Hash(k)
	})
}

// mustCheckSealed is the continuous check of segment i after a group-lock
// write (grouplock.go), which holds no lock by then: it takes the segment
// lock, sealing the table, checks the segment (sampled), and panics on a
// violation after releasing the lock.
func (st *state[K, V]) mustCheckSealed(fn string, i int) {
	st.lockSeg(i)
	err := guarded(&st.hasher, func(hash func(K) uint64) error { return st.checkSegmentSampled(i, hash) })
	st.unlockSeg(i)
	if err != nil {
		panic(fmt.Sprintf("cmap: %s: invariant broken: %v", fn, err))
	}
}
