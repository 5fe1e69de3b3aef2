package cmap

import (
	"fmt"

	"github.com/segmap/segmap/internal/table"
)

// The light writes of an arena map without options (st.arena, st.extra
// nil): Store, Swap, TryStore, LoadOrStore, Delete, LoadAndDelete,
// CompareAndSwap, CompareAndDelete and Compute of a key
// whose write needs nothing but its segment's lock and one change to the
// current table. Each takes the lock plainly, locates key (or takes the
// lock-free lookup's hint) and, if the table is not shared with a
// snapshot or an iterator and the change needs no rebuild, compaction,
// shrink or preparation, makes it as the engine's put or remove would
// (the same table calls, the same counts) and unlocks. Anything else goes
// on in the write engine (write.go), handed the lock and the cursor
// (writer.resume), so that no write locates its key twice. They exist
// because each of the engine's steps is a call (docs/design.md, "Light
// writes of an arena map", has the instructions per operation). Nothing
// in a light write can panic but a Compute's f, which runs before the
// change, under a deferred unlock.

// alockHint takes the lock of segment i (s) and locates key, hashed h,
// which a lock-free lookup found with hint hn, as the engine's open does:
// key's slot is hn's if hn still holds in the current table. (The light
// writes without a hint spell the same steps out, since a function
// holding them does not inline: cost 179.)
func (st *state[K, V]) alockHint(s *segment[K, V], i int, h uint64, key K, hn *hint[K, V]) (c cursor[K, V]) {
	if testHookHint != nil {
		testHookHint()
	}
	st.mus[i].Lock()
	c.t = s.table.Load()
	if hn.holds(c.t) {
		c.pos, c.free = hn.pos, table.NoPos
		return c
	}
	c.pos, _, c.free, c.freeEmpty = c.t.Arena().Locate(h, key)
	return c
}

// aunlock ends a light write of segment i: in a segmap_invariants build it
// checks the segment (as the engine's close), then it releases the lock.
func (st *state[K, V]) aunlock(fn string, i int) {
	if invariants {
		err := guarded(&st.hasher, func(hash func(K) uint64) error { return st.checkSegmentSampled(i, hash) })
		st.unlockMu(i)
		if err != nil {
			panic(fmt.Sprintf("cmap: %s: invariant broken: %v", fn, err))
		}
		return
	}
	st.unlockMu(i)
}

// aroom reports whether an insert at c, where key is absent, is a light
// write: the engine's put would neither rebuild the table first (the load
// bound: used slots, live and dead, at most MaxUsed) nor claim the
// preparation of the next one after it (prepDue), the same tests with
// the counts after the insert.
func (s *segment[K, V]) aroom(c *cursor[K, V]) bool {
	used := int(s.used.Load())
	if c.freeEmpty {
		used++
	}
	g, max := c.t.Limits()
	if used > max {
		return false
	}
	return g < prepMinGroups || used < prepAtUsed(max) || s.prep.state.Load() != prepNone
}

// ainsert inserts key, absent with c.free its slot, as the engine's put
// would, if that is a light write (the table is not shared and aroom): it
// reports whether it did. Segment s's lock is held.
func (s *segment[K, V]) ainsert(c *cursor[K, V], h uint64, key K, value V) bool {
	if s.sharedLocked() || !s.aroom(c) {
		return false
	}
	c.t.Arena().Insert(c.free, h, key, value)
	if c.freeEmpty {
		s.used.bump(1)
	}
	s.live.bump(1)
	return true
}

// aremove deletes key, present at c.pos, as the engine's remove would, if
// that is a light write (the table is not shared, and the delete leaves
// it neither to shrink nor to compact: remove's tests): it reports whether
// it did. The record's length comes from key (Arena.RecLen). Segment s's
// lock is held.
func (s *segment[K, V]) aremove(c *cursor[K, V], key K) bool {
	a := c.t.Arena()
	n := a.RecLen(key)
	if g, _ := c.t.Limits(); s.sharedLocked() || int(s.live.Load())-1 < g*table.SlotsPerGroup/8 || a.CompactsFor(n) {
		return false
	}
	if !a.DeleteRec(c.pos, n) {
		s.used.bump(-1) // the slot became EMPTY
	}
	s.live.bump(-1)
	return true
}

// aswap is swap's light write (see the file comment).
func (st *state[K, V]) aswap(fn string, key K, h uint64, value V, prev bool) (previous V, loaded bool, err error) {
	s, i := st.seg(h)
	st.mus[i].Lock() // the fast path inlines
	c := cursor[K, V]{t: s.table.Load()}
	c.pos, _, c.free, c.freeEmpty = c.t.Arena().Locate(h, key)
	if c.pos != table.NoPos && !s.sharedLocked() {
		a := c.t.Arena()
		if prev {
			previous, loaded = a.ValueAt(c.pos), true
		}
		a.Replace(c.pos, key, value)
		st.aunlock(fn, i)
		return previous, loaded, nil
	}
	if c.pos == table.NoPos && s.ainsert(&c, h, key, value) {
		st.aunlock(fn, i)
		return previous, loaded, nil
	}
	var w writer[K, V]
	defer w.close()
	w.resume(st, fn, key, h, i, c)
	return w.swap(value, nil, prev)
}

// aloadOrStore is LoadOrStore's light write, after a lookup found key
// absent (see the file comment).
func (st *state[K, V]) aloadOrStore(key K, h uint64, value V) (actual V, loaded bool) {
	s, i := st.seg(h)
	st.mus[i].Lock() // the fast path inlines
	c := cursor[K, V]{t: s.table.Load()}
	c.pos, _, c.free, c.freeEmpty = c.t.Arena().Locate(h, key)
	if c.pos != table.NoPos { // stored since the lookup
		actual = c.t.Arena().ValueAt(c.pos)
		st.aunlock("LoadOrStore", i)
		return actual, true
	}
	if s.ainsert(&c, h, key, value) {
		st.aunlock("LoadOrStore", i)
		return value, false
	}
	var w writer[K, V]
	defer w.close()
	w.resume(st, "LoadOrStore", key, h, i, c)
	if err := w.put(value, nil); err != nil { // (no options: never ErrFull)
		panic(err)
	}
	return value, false
}

// adelete is loadAndDelete's light write, after a lookup found key with
// hint hn (see the file comment).
func (st *state[K, V]) adelete(key K, h uint64, hn *hint[K, V], want bool) (value V, loaded bool) {
	s, i := st.seg(h)
	c := st.alockHint(s, i, h, key, hn)
	if c.pos == table.NoPos {
		st.aunlock("LoadAndDelete", i)
		return value, false
	}
	if want {
		value = c.t.Arena().ValueAt(c.pos)
	}
	if s.aremove(&c, key) {
		st.aunlock("LoadAndDelete", i)
		return value, true
	}
	var w writer[K, V]
	defer w.close()
	w.resume(st, "LoadAndDelete", key, h, i, c)
	w.del()
	return value, true
}

// acompareAndSwap is CompareAndSwap's light write, after a lookup found
// key holding old, with hint hn (see the file comment). V is comparable
// (holds checked it) and holds no interface, so the comparison cannot
// panic.
func (st *state[K, V]) acompareAndSwap(key K, h uint64, hn *hint[K, V], old, new V) bool {
	s, i := st.seg(h)
	c := st.alockHint(s, i, h, key, hn)
	if c.pos == table.NoPos || any(c.t.Arena().ValueAt(c.pos)) != any(old) {
		st.aunlock("CompareAndSwap", i)
		return false
	}
	if !s.sharedLocked() {
		c.t.Arena().Replace(c.pos, key, new)
		st.aunlock("CompareAndSwap", i)
		return true
	}
	var w writer[K, V]
	defer w.close()
	w.resume(st, "CompareAndSwap", key, h, i, c)
	return w.put(new, nil) == nil // a replace: never ErrFull
}

// acompareAndDelete is CompareAndDelete's light write, as
// acompareAndSwap.
func (st *state[K, V]) acompareAndDelete(key K, h uint64, hn *hint[K, V], old V) bool {
	s, i := st.seg(h)
	c := st.alockHint(s, i, h, key, hn)
	if c.pos == table.NoPos || any(c.t.Arena().ValueAt(c.pos)) != any(old) {
		st.aunlock("CompareAndDelete", i)
		return false
	}
	if s.aremove(&c, key) {
		st.aunlock("CompareAndDelete", i)
		return true
	}
	var w writer[K, V]
	defer w.close()
	w.resume(st, "CompareAndDelete", key, h, i, c)
	w.del()
	return true
}

// acompute is Compute's light write (see the file comment) of key,
// hashed h, in segment i (s). The caller hands off segment i after it
// (state.handOff), the second half of unlockMu, left out of the deferred
// unlock to keep it short. f runs with the lock held, as in the engine,
// before the one change; the deferred unlock releases the lock if f
// panics (or the segmap_invariants build's check, which is why that
// check runs before the unlock).
func (st *state[K, V]) acompute(s *segment[K, V], i int, key K, h uint64, f func(old V, loaded bool) (V, ComputeOp)) (actual V, ok bool) {
	st.mus[i].Lock() // the fast path inlines
	c := cursor[K, V]{t: s.table.Load()}
	c.pos, _, c.free, c.freeEmpty = c.t.Arena().Locate(h, key)
	if c.pos == table.NoPos || s.sharedLocked() {
		var w writer[K, V]
		defer w.close()
		w.resume(st, "Compute", key, h, i, c)
		return w.compute(f)
	}
	defer st.mus[i].Unlock()
	a := c.t.Arena()
	old := a.ValueAt(c.pos)
	v, op := f(old, true)
	switch op {
	case UpdateOp:
		a.Replace(c.pos, key, v)
		actual, ok = v, true
	case CancelOp:
		actual, ok = old, true
	case DeleteOp:
		var w writer[K, V] // the engine's remove: it may shrink or compact
		w.init(st, "Compute", key, h)
		w.cur = c
		w.del()
		actual = old
	default:
		panic(fmt.Sprintf("cmap: Compute: invalid ComputeOp %d", int(op)))
	}
	if invariants {
		st.mustCheckSegment("Compute", i) // a panic here is unlocked too
	}
	return actual, ok
}
