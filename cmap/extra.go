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
//     segment lock held (admit), where the count is exact: it evicts the
//     oldest entry there (EvictOldest) or reports ErrFull (RejectNew).
//
// The write engine (write.go) calls the hooks of this file, and no other
// code path changes a table.

// extra is the state of the optional features of a Map. A Map built
// without them has none (state.extra == nil), and pays one predictable
// branch per write step for their existence, and nothing on Load.
type extra[K comparable, V any] struct {
	// ordered: every segment has an insertion log (WithInsertionOrder, or
	// WithMaxLen with EvictOldest). Immutable.
	ordered bool
	// single: Entry[K, V] has size zero (see internal/table's Log).
	single bool
	// maxLen > 0 bounds the map (WithMaxLen), with policy. Immutable.
	maxLen int64
	policy BoundPolicy
	// fixedGroups is the number of groups of every segment's table of a
	// RejectNew map: its floor, and its size while its entries fit. Set
	// by New once the layout is chosen; immutable afterwards.
	fixedGroups int
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

func newExtra[K comparable, V any](c *config) *extra[K, V] {
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
			if testHookPublish != nil {
				testHookPublish() // a stall between taking seq and publishing
			}
			return v >> 1
		}
		if spins >= 16 {
			runtime.Gosched()
		}
	}
}

// testHookPublish, if set (by tests only, before any map is used), runs
// in lockSeq, after the lock is taken and before the store that publishes
// an entry.
var testHookPublish func()

// unlockSeq releases the publication lock taken for seq.
func (x *extra[K, V]) unlockSeq(seq uint64) { x.seq.Store((seq + 1) << 1) }

// reserve takes a reservation for a new key if the map holds fewer than
// maxLen; it reports whether it did. The caller holds a segment lock.
func (x *extra[K, V]) reserve() bool {
	for {
		n := x.reserved.Load()
		if n >= x.maxLen {
			return false
		}
		if x.reserved.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release gives back a reservation that no insert used.
func (x *extra[K, V]) release() { x.reserved.Add(-1) }

// errFull returns the error of fn inserting into a full RejectNew map.
func (x *extra[K, V]) errFull(fn string) error {
	return fmt.Errorf("%w: %s of a new key beyond WithMaxLen(%d, RejectNew)", ErrFull, fn, x.maxLen)
}

// admit is the bound's decision on a write of an absent key, taken with
// a segment lock held: admitNone if the map is unbounded, admitReserved
// if it took a reservation for inserting the key, admitFull if the map
// holds its maximum (exact only if every lock is held). The writer acts on
// it (write.go's admit).
func (x *extra[K, V]) admit() admission {
	if x.maxLen == 0 {
		return admitNone
	}
	if x.reserve() {
		return admitReserved
	}
	return admitFull
}

// publishedLocked records in segment s's log that ne was published in
// slot p with insertion number seq, after the counts were updated, and
// compacts the log if stale records abound. The segment lock must be held
// and the table writable; the log itself never writes a record that a
// snapshot shares (see internal/table's Log, "Sharing").
func (x *extra[K, V]) publishedLocked(s *segment[K, V], seq uint64, p table.Pos, ne *table.Entry[K, V]) {
	s.log.Append(seq, p, ne)
	if s.log.NeedsCompact(int(s.live.Load())) {
		s.log.Compact(s.table.Load())
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

// clearedLocked resets the extra state, if any, after Clear emptied every
// segment, which held cleared entries. Every segment lock must be held.
func (st *state[K, V]) clearedLocked(cleared int) {
	x := st.extra
	if x == nil {
		return
	}
	if x.ordered {
		for i := range st.segs {
			st.segs[i].log = table.NewLog[K, V](x.single)
		}
	}
	if x.maxLen > 0 {
		x.reserved.Add(-int64(cleared))
	}
}

// bound returns the map's WithMaxLen bound, or 0 if it has none.
func (st *state[K, V]) bound() int64 {
	if st.extra == nil {
		return 0
	}
	return st.extra.maxLen
}

// ordered reports whether the map keeps insertion order.
func (st *state[K, V]) ordered() bool { return st.extra != nil && st.extra.ordered }
