package cmap

import (
	"fmt"
	"unsafe"

	"github.com/segmap/segmap/internal/release"
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

// resumePut hands the rest of a light write that stores value for key,
// hashed h, located at c with segment i's lock held, to the write engine
// (writer.resume), as Map.swap's engine step would run it (previous and
// loaded only if prev). resumeDelete does so for a delete. They are apart
// from the light writes so that those hold no writer and defer nothing
// (see Map.swap): the engine's deferred close, which releases the lock if
// the engine panics, is theirs.
func (st *state[K, V]) resumePut(fn string, key K, h uint64, i int, c *cursor[K, V], value V, prev bool) (previous V, loaded bool, err error) {
	var w writer[K, V]
	defer w.close()
	w.resume(st, fn, key, h, i, *c)
	return w.swap(value, nil, prev)
}

// resumeDelete: see resumePut.
func (st *state[K, V]) resumeDelete(fn string, key K, h uint64, i int, c *cursor[K, V]) {
	var w writer[K, V]
	defer w.close()
	w.resume(st, fn, key, h, i, *c)
	w.del()
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
	if _, _, err := st.resumePut("LoadOrStore", key, h, i, &c, value, false); err != nil { // (no options: never ErrFull)
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
	st.resumeDelete("LoadAndDelete", key, h, i, &c)
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
	_, _, err := st.resumePut("CompareAndSwap", key, h, i, &c, new, false)
	return err == nil // a replace: never ErrFull
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
	st.resumeDelete("CompareAndDelete", key, h, i, &c)
	return true
}

// The light writes of a short key: Store, Swap and TryStore (aswap),
// Compute (acompute), and Delete and LoadAndDelete (adeleteShort), of a key of
// 4 to 16 bytes hashed by the default hasher (shortKey). Each hashes the
// key inline, as Load does, and locates it in its home group with Load's
// steps (ArenaHome, Matches, Ref, Check, Chunk, Short, KeyWords), with no
// version check, since nothing but the lock's holder changes the table:
// the key's slot, or, if the group stops probes, its absence and the slot
// for its insert (ArenaGroup.Room), which Arena.Locate would give; a value
// of at most a word is read and stored through the group (Value1,
// ValueWord). That saves Locate's call, loop and key comparison call
// (keyEq), and the calls of ValueAt and Replace, for the keys that their
// home group settles, nearly all at the load bound; a key that it does
// not settle takes Locate. The KeyWords of a record of n bytes identify
// it among the records of n bytes (Short checks the length). Each write
// spells the steps out: a helper holding them, or one function for the
// three writes, measured 2 to 25% more instructions per write (a call
// returning the group, the spills of a larger function). The view of key
// as a string: see Load (ShortStr reports true only if K's underlying type
// is string).

// shortKey reports whether key is a string of 4 to 16 bytes hashed by
// the default hasher.
func (st *state[K, V]) shortKey(key K) bool {
	return unsafe.Sizeof(key) == unsafe.Sizeof("") && st.hasher.ShortStr() && uint(len(*(*string)(unsafe.Pointer(&key))))-4 <= 12
}

// aswap is swap's light write (see the file comment), of any key.
func (st *state[K, V]) aswap(fn string, key K, value V, prev bool) (previous V, loaded bool, err error) {
	var h, a, b, n uint64
	short := false
	if unsafe.Sizeof(key) == unsafe.Sizeof("") && st.hasher.ShortStr() {
		if s := *(*string)(unsafe.Pointer(&key)); uint(len(s))-4 <= 12 {
			a, b = table.KeyWords(s)
			n = uint64(len(s))
			h, short = st.hasher.StrMix(a, b, n), true
		}
	}
	if !short {
		h = st.hash(key)
	}
	s, i := st.seg(h)
	st.mus[i].Lock() // the fast path inlines
	c := cursor[K, V]{t: s.table.Load(), pos: table.NoPos}
	var g table.ArenaGroup[K, V]
	var j uintptr // key's slot in g, if home
	home, settled := false, false
	if short {
		g = c.t.ArenaHome(h)
		for m := g.Matches(); m != 0; m &= m - 1 {
			if r := g.Ref(g.Slot(m)); g.Check(r, h) {
				if rs := g.Short(g.Chunk(r), r, n); rs != "" {
					if x, y := table.KeyWords(rs); x == a && y == b {
						j, home, settled = g.Slot(m), true, true
						c.pos, c.free = g.Pos(h, j), table.NoPos
						break
					}
				}
			}
		}
		if !home {
			var fi uintptr
			if fi, c.freeEmpty, settled = g.Room(h); settled {
				c.free = g.Pos(h, fi)
			}
		}
	}
	if !settled {
		c.pos, _, c.free, c.freeEmpty = c.t.Arena().Locate(h, key)
	}
	if c.pos != table.NoPos && !s.sharedLocked() {
		if prev {
			if home && unsafe.Sizeof(previous) <= 8 { // a constant: see Value1
				previous = g.Value1(j)
			} else {
				previous = c.t.Arena().ValueAt(c.pos)
			}
			loaded = true
		}
		if home && unsafe.Sizeof(value) <= 8 { // constants: see ValueWord
			if unsafe.Sizeof(value) != 0 {
				release.Store(g.ValueWord(j, value))
			}
		} else {
			c.t.Arena().Replace(c.pos, key, value)
		}
		st.aunlock(fn, i)
		return previous, loaded, nil
	}
	if c.pos == table.NoPos && s.ainsert(&c, h, key, value) {
		st.aunlock(fn, i)
		return previous, loaded, nil
	}
	return st.resumePut(fn, key, h, i, &c, value, prev)
}

// acompute is Compute's light write (see the file comment), of any key,
// with aswap's steps up to the change. It returns the index of key's
// segment, which the caller hands off after it (state.handOff), the
// second half of unlockMu, left out of the deferred unlock to keep it
// short. f runs with the lock held, as in the engine, before the one
// change; the deferred unlock releases the lock if f panics (or the
// segmap_invariants build's check, which is why that check runs before
// the unlock).
func (st *state[K, V]) acompute(key K, f func(old V, loaded bool) (V, ComputeOp)) (actual V, ok bool, i int) {
	var h, a, b, n uint64
	short := false
	if unsafe.Sizeof(key) == unsafe.Sizeof("") && st.hasher.ShortStr() {
		if s := *(*string)(unsafe.Pointer(&key)); uint(len(s))-4 <= 12 {
			a, b = table.KeyWords(s)
			n = uint64(len(s))
			h, short = st.hasher.StrMix(a, b, n), true
		}
	}
	if !short {
		h = st.hash(key)
	}
	s, i := st.seg(h)
	st.mus[i].Lock() // the fast path inlines
	c := cursor[K, V]{t: s.table.Load(), pos: table.NoPos}
	var g table.ArenaGroup[K, V]
	var j uintptr // key's slot in g, if home
	home, settled := false, false
	if short {
		g = c.t.ArenaHome(h)
		for m := g.Matches(); m != 0; m &= m - 1 {
			if r := g.Ref(g.Slot(m)); g.Check(r, h) {
				if rs := g.Short(g.Chunk(r), r, n); rs != "" {
					if x, y := table.KeyWords(rs); x == a && y == b {
						j, home, settled = g.Slot(m), true, true
						c.pos, c.free = g.Pos(h, j), table.NoPos
						break
					}
				}
			}
		}
		if !home {
			var fi uintptr
			if fi, c.freeEmpty, settled = g.Room(h); settled {
				c.free = g.Pos(h, fi)
			}
		}
	}
	if !settled {
		c.pos, _, c.free, c.freeEmpty = c.t.Arena().Locate(h, key)
	}
	if c.pos == table.NoPos || s.sharedLocked() {
		var w writer[K, V]
		defer w.close()
		w.resume(st, "Compute", key, h, i, c)
		actual, ok = w.compute(f)
		return actual, ok, i
	}
	defer st.mus[i].Unlock()
	var old V
	if home && unsafe.Sizeof(old) <= 8 { // a constant: see Value1
		old = g.Value1(j)
	} else {
		old = c.t.Arena().ValueAt(c.pos)
	}
	v, op := f(old, true)
	switch op {
	case UpdateOp:
		if home && unsafe.Sizeof(v) <= 8 { // constants: see ValueWord
			if unsafe.Sizeof(v) != 0 {
				release.Store(g.ValueWord(j, v))
			}
		} else {
			c.t.Arena().Replace(c.pos, key, v)
		}
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
	return actual, ok, i
}

// adeleteShort is loadAndDelete of a short key (shortKey) in an arena
// map without options: a lock-free probe, as Load's (its home group
// inlined), then, unless that finds the key absent, a light write (see the
// file comment) with aswap's steps up to the change; the value is read
// only if want.
func (st *state[K, V]) adeleteShort(key K, want bool) (value V, loaded bool) {
	var h, a, b, n uint64
	if unsafe.Sizeof(key) == unsafe.Sizeof("") { // a constant; shortKey(key) holds
		s := *(*string)(unsafe.Pointer(&key))
		a, b = table.KeyWords(s)
		n = uint64(len(s))
		h = st.hasher.StrMix(a, b, n)
	}
	// Lock-free first, as Load: a key absent from a home group that
	// settles it (Settled: the version did not move, and the group stops
	// probes) is absent, and the delete takes no lock; if the group does
	// not settle it, the rest of the probe (FindAfter, or Find if the
	// group changed) tells, still lock-free.
	t := st.table(h)
	g := t.ArenaHome(h)
	home := false
	for m := g.Matches(); m != 0; m &= m - 1 {
		if r := g.Ref(g.Slot(m)); g.Check(r, h) {
			if rs := g.Short(g.Chunk(r), r, n); rs != "" {
				if x, y := table.KeyWords(rs); x == a && y == b {
					home = true
					break
				}
			}
		}
	}
	if !home && !g.Settled(h, false) {
		var ok bool
		if !g.Moved() {
			_, ok = t.Arena().FindAfter(h, key)
		} else {
			_, ok = t.Arena().Find(h, key)
		}
		home = ok // present beyond its home group: the locked step finds it
	}
	if !home {
		return value, false
	}
	s, i := st.seg(h)
	st.mus[i].Lock() // the fast path inlines
	c := cursor[K, V]{t: s.table.Load(), pos: table.NoPos}
	g = c.t.ArenaHome(h)
	var j uintptr // key's slot in g, if home
	home, settled := false, false
	for m := g.Matches(); m != 0; m &= m - 1 { // under the lock, as aswap's
		if r := g.Ref(g.Slot(m)); g.Check(r, h) {
			if rs := g.Short(g.Chunk(r), r, n); rs != "" {
				if x, y := table.KeyWords(rs); x == a && y == b {
					j, home, settled = g.Slot(m), true, true
					c.pos, c.free = g.Pos(h, j), table.NoPos
					break
				}
			}
		}
	}
	if !home {
		_, _, settled = g.Room(h) // absent, if it settles (a delete inserts nothing)
	}
	if !settled {
		c.pos, _, c.free, c.freeEmpty = c.t.Arena().Locate(h, key)
	}
	if c.pos == table.NoPos { // deleted since Load found it
		st.aunlock("LoadAndDelete", i)
		return value, false
	}
	if want {
		if home && unsafe.Sizeof(value) <= 8 { // a constant: see Value1
			value = g.Value1(j)
		} else {
			value = c.t.Arena().ValueAt(c.pos)
		}
	}
	if s.aremove(&c, key) {
		st.aunlock("LoadAndDelete", i)
		return value, true
	}
	st.resumeDelete("LoadAndDelete", key, h, i, &c)
	return value, true
}
