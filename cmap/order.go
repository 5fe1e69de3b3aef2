package cmap

import (
	"fmt"
	"reflect"
	"runtime"
	"sync/atomic"

	"github.com/segmap/segmap/internal/table"
)

// Insertion order and bounded maps (WithInsertionOrder, WithMaxLen): the
// design is in docs/design.md, "Insertion order and bounded maps". In
// short:
//
//   - Each segment keeps an insertion log (internal/table's Log): a record
//     (seq, slot, entry) appended under the segment lock whenever an entry
//     is published. A record is stale once its slot no longer holds its
//     entry, so deletes and overwrites cost the log nothing; the log is
//     compacted when the table is rebuilt and when stale records
//     outnumber live ones.
//   - seq comes from one map-wide counter that is also a tiny lock around
//     the store that publishes the entry (lockSeq), so that seq order is
//     exactly the order in which lock-free readers can first see entries.
//   - Oldest, Newest and PopOldest take every segment lock (in the global
//     order) and compare the segments' oldest or newest valid records:
//     O(segments).
//   - The bound is a reservation counter: a writer takes a reservation
//     (reserve) under its segment lock before inserting a new key, and
//     gives it back after deleting one, so sum(live) <= reserved <= maxLen
//     at every instant, and reserved == sum(live) whenever no segment lock
//     is held. A writer that finds the counter full retries with every
//     segment lock held (writeAll), where the count is exact: it evicts
//     the oldest entry there (EvictOldest) or reports ErrFull (RejectNew).

// extra is the state of the optional features of a Map. A Map built
// without them has none (state.extra == nil), and pays one predictable
// branch per write for their existence.
type extra[K comparable, V any] struct {
	// ordered: every segment has an insertion log (WithInsertionOrder, or
	// WithMaxLen with EvictOldest). Immutable.
	ordered bool
	// single: Entry[K, V] has size zero (see internal/table's Log).
	single bool
	// maxLen > 0 bounds the map (WithMaxLen), with policy. Immutable.
	maxLen int64
	policy BoundPolicy
	// layout is the number of groups of every segment's table of a
	// RejectNew map: its floor, and its size while its entries fit.
	layout int
	// onEvict is WithOnEvict's function, or nil. Immutable.
	onEvict func(K, V)
	_       [64]byte

	// seq is the map-wide insertion counter, and the lock that orders the
	// publication of entries: even when free, odd while a writer publishes
	// (lockSeq). Record seqs are seq/2 at the time of the publication.
	seq atomic.Uint64
	_   [56]byte

	// reserved is the number of reservations held: sum(live) <= reserved
	// <= maxLen at every instant (a reservation is taken before a new key's
	// live count goes up and released after it goes down), and
	// reserved == sum(live) whenever no segment lock is held. Taken and
	// released only by holders of a segment lock.
	reserved atomic.Int64
	_        [56]byte
}

func newExtra[K comparable, V any](c *config, segs int) *extra[K, V] {
	x := &extra[K, V]{
		ordered: c.ordered || c.policy == EvictOldest,
		single:  reflect.TypeFor[table.Entry[K, V]]().Size() == 0,
		maxLen:  int64(c.maxLen),
		policy:  c.policy,
	}
	if c.hasOnEvict {
		if c.onEvictKV != [2]reflect.Type{reflect.TypeFor[K](), reflect.TypeFor[V]()} {
			panic(fmt.Sprintf("cmap: WithOnEvict: function of (%v, %v) given to a Map of (%v, %v)",
				c.onEvictKV[0], c.onEvictKV[1], reflect.TypeFor[K](), reflect.TypeFor[V]()))
		}
		if c.maxLen == 0 || c.policy != EvictOldest {
			panic("cmap: WithOnEvict: the map evicts nothing without WithMaxLen(n, EvictOldest)")
		}
		x.onEvict = c.onEvict.(func(K, V))
	}
	if c.policy == RejectNew {
		// Each segment's share of maxLen keys (mean + 7σ + 1, as for
		// Reserve), with an eighth of the load bound to spare for
		// tombstones, so that same-size cleanups stay rare.
		x.layout = layoutGroups("WithMaxLen", c.maxLen, segs, true)
	}
	return x
}

// lockSeq takes the publication lock and returns the entry's insertion
// number. The caller publishes one entry (the slot store that is its
// linearization point) and calls unlockSeq.
//
// Why a lock and not a plain atomic increment: insertion numbers must
// follow the order in which readers can see entries. With seq taken by an
// increment before the slot store, writer A could take 5, stall, and let
// writer B (another segment) take 6 and publish; a reader then sees B's
// key and not A's, so A's insert is later than B's in any linearization,
// yet Oldest would call A older. Taking it after the store fails the same
// way with the stall after the store. Holding the counter across the
// store makes the two one atomic step. The critical section is a single
// store, so contenders spin briefly, yielding in case the holder was
// preempted.
func (x *extra[K, V]) lockSeq() uint64 {
	for spins := 0; ; spins++ {
		if v := x.seq.Load(); v&1 == 0 && x.seq.CompareAndSwap(v, v|1) {
			return v >> 1
		}
		if spins >= 16 {
			runtime.Gosched()
		}
	}
}

// testHookPublish, if set (by tests only, before any map is used), runs
// between lockSeq and the store that publishes an entry.
var testHookPublish func()

// unlockSeq releases the publication lock taken for seq.
func (x *extra[K, V]) unlockSeq(seq uint64) { x.seq.Store((seq + 1) << 1) }

// publishLocked is putLocked for a map with extra features: the entry is
// published under the publication lock and recorded in the segment's log.
// The segment lock must be held; an insert must hold a reservation if the
// map is bounded.
func (st *state[K, V]) publishLocked(s *segment[K, V], t *table.Table[K, V], h uint64, ne *table.Entry[K, V], pos, free table.Pos, freeEmpty bool) {
	x := st.extra
	if !x.ordered {
		st.putLocked(s, t, h, ne, pos, free, freeEmpty)
		return
	}
	if nt := s.writableLocked(&st.hasher, t, pos == table.NoPos && freeEmpty); nt != t {
		t = nt
		pos, _, free, freeEmpty = t.Locate(h, ne.Key)
	}
	seq := x.lockSeq()
	if testHookPublish != nil {
		testHookPublish() // a stall between taking seq and publishing
	}
	if pos != table.NoPos {
		t.Replace(pos, ne)
	} else {
		t.Insert(free, h, ne)
	}
	x.unlockSeq(seq)
	if pos == table.NoPos {
		pos = free
		if !freeEmpty {
			s.dead--
		}
		s.live.Add(1)
	}
	// The log never writes a record that a snapshot shares (see
	// internal/table's Log, "Sharing").
	s.log.Append(seq, pos, ne)
	if s.log.NeedsCompact(int(s.live.Load())) {
		s.log.Compact(t)
	}
}

// deletedLocked is the extra work of a delete from segment s of a map with
// extra features, after the live count went down: the reservation is
// released, and the log compacted if stale records abound. The segment
// lock must be held, and the segment written since any snapshot (as a
// delete does first).
func (x *extra[K, V]) deletedLocked(s *segment[K, V]) {
	if x.maxLen > 0 {
		x.reserved.Add(-1)
	}
	if s.log != nil && s.log.NeedsCompact(int(s.live.Load())) {
		s.log.Compact(s.table.Load())
	}
}

// clearedLocked resets the extra state after Clear emptied every segment,
// which held cleared entries. Every segment lock must be held.
func (st *state[K, V]) clearedLocked(cleared int) {
	x := st.extra
	if x.ordered {
		for i := range st.segs {
			st.segs[i].log = table.NewLog[K, V](x.single)
		}
	}
	if x.maxLen > 0 {
		x.reserved.Add(-int64(cleared))
	}
}

// orderedState returns the map's state, or panics naming fn if the map
// does not keep insertion order.
func (m *Map[K, V]) orderedState(fn string) *state[K, V] {
	st := m.state()
	if st.extra == nil || !st.extra.ordered {
		panic("cmap: " + fn + ": map built without WithInsertionOrder")
	}
	return st
}

// oldestLocked returns the index of the segment holding the oldest entry
// of the map and that entry's record; ok is false if the map is empty.
// Every segment lock must be held.
func (st *state[K, V]) oldestLocked() (seg int, r table.Record[K, V], ok bool) {
	for i := range st.segs {
		s := &st.segs[i]
		if ri, oki := s.log.Oldest(s.table.Load()); oki && (!ok || ri.Seq < r.Seq) {
			seg, r, ok = i, ri, true
		}
	}
	return seg, r, ok
}

// newestLocked is oldestLocked for the newest entry.
func (st *state[K, V]) newestLocked() (r table.Record[K, V], ok bool) {
	for i := range st.segs {
		s := &st.segs[i]
		if ri, oki := s.log.Newest(s.table.Load()); oki && (!ok || ri.Seq > r.Seq) {
			r, ok = ri, true
		}
	}
	return r, ok
}

// popOldestLocked deletes the oldest entry of the map and returns it, or
// nil if the map is empty. Every segment lock must be held.
func (st *state[K, V]) popOldestLocked() *table.Entry[K, V] {
	i, r, ok := st.oldestLocked()
	if !ok {
		return nil
	}
	s := &st.segs[i]
	// Copy the table first if a snapshot or an iterator shares it; the
	// copy moves the entry, and its log gives the new slot. Deleting by
	// slot, not by key, also removes NaN keys, which no lookup finds.
	if t := s.writableLocked(&st.hasher, s.table.Load(), false); t.At(r.Pos) != r.Entry {
		r, _ = s.log.Oldest(t)
	}
	st.deleteLocked(s, s.table.Load(), 0, r.Entry.Key, r.Pos) // the table is writable: h is not used
	return r.Entry
}

// Oldest returns the map's oldest entry: the one inserted or last stored
// (see [WithInsertionOrder]) before every other entry. ok is false if the
// map is empty. It is linearizable: it holds every segment lock at once
// (taken in the global order of package striped), so it costs O(segments)
// and makes writers wait meanwhile; readers never wait.
//
// It panics if the map was built without [WithInsertionOrder] (or
// [WithMaxLen] with [EvictOldest]).
func (m *Map[K, V]) Oldest() (key K, value V, ok bool) {
	st := m.orderedState("Oldest")
	st.locks.LockAll()
	_, r, ok := st.oldestLocked()
	st.locks.UnlockAll()
	if !ok {
		return key, value, false
	}
	return r.Entry.Key, r.Entry.Value, true
}

// Newest returns the map's newest entry: the one inserted or last stored
// after every other entry. ok is false if the map is empty. It is
// linearizable and costs what [Map.Oldest] costs.
//
// It panics if the map was built without [WithInsertionOrder].
func (m *Map[K, V]) Newest() (key K, value V, ok bool) {
	st := m.orderedState("Newest")
	st.locks.LockAll()
	r, ok := st.newestLocked()
	st.locks.UnlockAll()
	if !ok {
		return key, value, false
	}
	return r.Entry.Key, r.Entry.Value, true
}

// PopOldest deletes the map's oldest entry and returns it; ok is false if
// the map is empty. It is linearizable: the entry it returns is the oldest
// at the instant it deletes it, it deletes exactly that entry, and two
// calls, concurrent or not, never return the same entry (unless it was
// stored again in between). It costs what [Map.Oldest] costs, plus the
// delete. It does not call the [WithOnEvict] function.
//
// It panics if the map was built without [WithInsertionOrder].
func (m *Map[K, V]) PopOldest() (key K, value V, ok bool) {
	st := m.orderedState("PopOldest")
	st.locks.LockAll()
	defer st.locks.UnlockAll()
	e := st.popOldestLocked()
	if e == nil {
		return key, value, false
	}
	return e.Key, e.Value, true
}
