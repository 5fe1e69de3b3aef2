package cmap

import (
	"fmt"
	"math"
	"runtime"
	"sync/atomic"

	"github.com/segmap/segmap/internal/table"
)

// Group-lock writes (docs/design.md, "Group locks"). In a flat map without
// options (state.glock: no WithMaxLen bound, no insertion order; those keep
// the segment-lock path of write.go for every write), an ordinary write
// takes no segment lock: it locks the groups whose words it changes, with
// the lock bit of each group's version word (internal/table's
// flat_lock.go), in the cache line that it writes anyway.
//
// The protocol, for a write of key hashed h in segment table t:
//
//  1. The lock of key's home group owns key: every writer of key takes it
//     first (LockGroup, which waits holding nothing), so no other writer
//     inserts, deletes or moves key meanwhile.
//  2. If t is sealed (after taking it), the write releases it and falls
//     back: it waits for the sealer (the segment lock) and tries again, or
//     takes the segment-lock path (write.go) if the table stays sealed
//     (frozen by a snapshot, pinned by an iterator).
//  3. It locates key with a probe that validates each group it does not
//     hold by its version word (Flat.LocateFree); if key is in another
//     group, or its insert goes into another group, it takes that
//     group's lock with TryLockGroup only: on failure it releases the home
//     group and starts over. A writer therefore never waits while holding
//     a group lock, and no deadlock between writers is possible.
//  4. An insert into an EMPTY slot reserves it in the load bound (used,
//     atomically); beyond the bound, or for a delete that would leave the
//     table sparse (the shrink rule), the write falls back to the
//     segment-lock path, which rebuilds.
//  5. It writes (Flat.Insert, Replace, Delete: the same stores in the same
//     order as under the segment lock), updates live and used while still
//     holding the group locks, and releases them.
//
// Whole-table operations (write.go's engine, rebuilds and clones, Clear,
// Snapshot, iterator pins, Stats, Reserve, the invariant checks) run under
// the segment lock with the table sealed (lockSeg): sealed set, then every
// group lock seen free. A table replaced or frozen stays sealed forever,
// so a writer still holding the old table's pointer backs off (step 2).
// A field that a sealer writes with the segment lock held (minGroups) may
// be read by a group-lock writer that saw the table unsealed: either the
// writer's load of sealed saw the unseal, which follows the sealer's
// writes, or it came before the seal, and the sealer then waits for the
// writer's unlock before writing.

// gwrite is a group-lock write in progress: the table, the groups locked,
// and where key is or goes.
type gwrite[K comparable, V any] struct {
	st  *state[K, V]
	sl  *slot[K, V] // the slot of t's segment
	c   *stripe     // the count stripe of key's home group in sl
	t   *table.Flat[K, V]
	h   uint64
	key K
	// g0 is key's home group, locked; g1 the other group locked, or g0.
	g0, g1 uint64
	// pos is key's slot, or NoPos if absent; free is where an insert goes
	// (NoPos unless prepared), in a group held, and freeEmpty whether it
	// is EMPTY, in which case reserved is set: used counts it already.
	pos       table.Pos
	free      table.Pos
	freeEmpty bool
	reserved  bool
	// delTaken: a delete's share of the shrink rule is taken (live
	// counts the delete already): del spends it, unlock gives it back.
	delTaken bool
	// bump: the write deleted from group bumpG (DeleteHeld), whose
	// version unlock bumps as it releases the group's lock.
	bump  bool
	bumpG uint64
	// prep is the preparation this write's insert claimed (prepare.go):
	// made once the locks are released (close).
	prep prepClaim[K, V]
}

// gresult is how an attempt at a group-lock write ended.
type gresult uint8

const (
	gOK     gresult = iota // the locks are held
	gSealed                // the table is sealed: wait for the sealer
	gSlow                  // the write needs the segment lock (rebuild)
)

// testHookGroupLocked, if set (by tests only, while no writer runs), is
// called by a group-lock write once it holds its locks, before it writes.
var testHookGroupLocked func(key any)

// gbegin starts a group-lock write of key, hashed h, holding the locks it
// needs: for an insert (insert: if key is absent) the free slot's group
// and its reservation; del: the write deletes key if present, with no
// condition, so it takes the delete's share of the shrink rule
// (takeDelete) and falls back beyond it (a conditional delete passes
// false and takes the share once its condition holds). It reports false
// if the write must take the segment-lock path instead (nothing held
// then).
func (st *state[K, V]) gbegin(g *gwrite[K, V], h uint64, key K, insert, del bool) bool {
	for reshared := false; ; {
		switch st.gopen(g, h, key, insert, del) {
		case gOK:
			return true
		case gSlow:
			// The stripe's share is spent: share out the room again
			// and try once more, unless the room is spent too.
			if reshared || !st.reshareFor(g) {
				return false
			}
			reshared = true
			continue
		}
		// Sealed: wait for the sealer, then try again, unless the table
		// stays sealed (frozen or pinned: the engine copies it).
		_, i := st.seg(h)
		st.mus[i].Lock()
		sealed := st.segs[i].table.Load().Flat().Sealed()
		st.unlockMu(i)
		if sealed {
			return false
		}
	}
}

// gopen is one attempt of gbegin.
func (st *state[K, V]) gopen(g *gwrite[K, V], h uint64, key K, insert, del bool) gresult {
	for try := 0; ; try++ {
		sl := st.slotOf(st.rd.Load(), h)
		tt := sl.table.Load()
		t := tt.Flat()
		if t.Sealed() {
			return gSealed
		}
		g0 := t.Home(h)
		t.LockGroup(g0)
		// Checked after the lock: see internal/table's flat_lock.go.
		if t.Sealed() {
			t.UnlockGroup(g0)
			return gSealed
		}
		c := &sl.cs[g0&(countStripes-1)]
		// Field by field, not *g = gwrite{...}: the compiler builds a
		// composite literal in a temporary with 8-byte stores and copies
		// it with 16-byte loads, which the CPU cannot forward from its
		// store buffer (a stall of a dozen cycles per write).
		g.st, g.sl, g.c, g.t, g.h, g.key = st, sl, c, t, h, key
		g.g0, g.g1, g.free, g.freeEmpty, g.reserved, g.prep = g0, g0, table.NoPos, false, false, prepClaim[K, V]{}
		g.bump, g.delTaken = false, false
		pos, free, _ := t.LocateFree(h, key)
		g.pos = pos
		var other uint64 // the second group to lock
		switch {
		case pos != table.NoPos:
			other = table.GroupOf(pos)
		case insert:
			other = table.GroupOf(free)
		default:
			other = g0
		}
		if other != g0 {
			if !t.TryLockGroup(other) {
				t.UnlockGroup(g0)
				backoff(try)
				continue
			}
			g.g1 = other
		}
		if pos == table.NoPos && insert {
			// The candidate group may have filled since the probe.
			if g.free, g.freeEmpty = t.FreeIn(other); g.free == table.NoPos {
				g.unlock()
				backoff(try)
				continue
			}
			if g.freeEmpty {
				if atomic.AddInt64(&c.used, 1) > atomic.LoadInt64(&c.usedMax) {
					// Beyond the stripe's share of the load bound's
					// room (setQuotas): the segment lock's holder
					// inserts, or rebuilds, with the exact count.
					atomic.AddInt64(&c.used, -1)
					g.unlock()
					return gSlow
				}
				g.reserved = true
			}
		}
		if del && pos != table.NoPos && !g.takeDelete() {
			g.unlock()
			return gSlow
		}
		if testHookGroupLocked != nil {
			testHookGroupLocked(key)
		}
		return gOK
	}
}

// reshareFor reshares the room of the segment of write g, whose stripe
// g.c ran out of its share (gopen returned gSlow, holding nothing), and
// reports whether g.c has a share again, of the load bound's room or of
// the shrink rule's deletes (either: a write that needed the other fails
// its one more try and takes the segment-lock path).
func (st *state[K, V]) reshareFor(g *gwrite[K, V]) bool {
	_, i := st.seg(g.h)
	if !st.reshare(i, g.c) {
		return false
	}
	c := g.c
	return atomic.LoadInt64(&c.used) < atomic.LoadInt64(&c.usedMax) || atomic.LoadInt64(&c.live) > atomic.LoadInt64(&c.liveMin)
}

// backoff is attempt try's pause before a group-lock write starts over
// after a TryLockGroup failed: it yields from the second retry on.
func backoff(try int) {
	if try > 0 {
		runtime.Gosched()
	}
}

// found reports whether key is present.
func (g *gwrite[K, V]) found() bool { return g.pos != table.NoPos }

// value returns key's value; key must be present.
func (g *gwrite[K, V]) value() V {
	_, v := g.t.At(g.pos)
	return v
}

// put stores v for key: in place of its value, or into the prepared free
// slot.
func (g *gwrite[K, V]) put(v V) {
	if g.pos != table.NoPos {
		g.pos = g.t.Replace(g.pos, g.key, v)
		return
	}
	g.t.Insert(g.free, g.h, g.key, v)
	atomic.AddInt64(&g.c.live, 1)
	g.reserved = false // the entry holds it now
	g.pos, g.free = g.free, table.NoPos
	// The table is filling up: claim its successor's preparation, as the
	// segment-lock path does (write.go's put), once the stripe has used
	// its share of the room before prepAt (setQuotas).
	if tt := g.sl.table.Load(); tt.Groups() >= prepMinGroups && atomic.LoadInt64(&g.c.used) >= atomic.LoadInt64(&g.c.prepUsed) {
		if s, _ := g.st.seg(g.h); s.prep.state.Load() == prepNone {
			g.prep = s.claim(tt)
		}
	}
}

// prepareClaimed makes the table this write claimed, if any; no lock may
// be held.
func (g *gwrite[K, V]) prepareClaimed() {
	if c := g.prep; c.of != nil {
		g.prep = prepClaim[K, V]{}
		_, i := g.st.seg(g.h)
		g.st.prepare(i, c)
	}
}

// takeDelete takes the share of the shrink rule (setQuotas) of a delete
// of key, which is present, from the stripe, for a writer that will
// delete it: with one add, as an insert's room is taken (gopen), so that
// deleters of other groups in the stripe, holding other locks, cannot
// all pass on its last share. It reports false, taking nothing, beyond
// the share: the segment lock's holder applies the rule, with the exact
// count. del spends the share; unlock gives back one not spent. A
// conditional delete takes it once its condition holds, so that Len
// never counts a delete that does not happen.
func (g *gwrite[K, V]) takeDelete() bool {
	if !g.c.takeDelete() {
		return false
	}
	g.delTaken = true
	if testHookDeleteTaken != nil {
		testHookDeleteTaken(g.key)
	}
	return true
}

// takeDelete takes one delete's share of the shrink rule from the stripe
// (live counts the delete from then on), or reports false, taking
// nothing, if the stripe has none left: the add is the test, so that two
// writers holding different group locks cannot both take the last share.
// The caller holds the lock of the key's home group, in this stripe.
func (c *stripe) takeDelete() bool {
	if atomic.AddInt64(&c.live, -1) < atomic.LoadInt64(&c.liveMin) {
		atomic.AddInt64(&c.live, 1)
		return false
	}
	return true
}

// testHookDeleteTaken, if set (by tests only, while no writer runs), is
// called by a group-lock delete once it has taken its share of the
// shrink rule (takeDelete, fwrite), holding its group locks.
var testHookDeleteTaken func(key any)

// del deletes key, which is present.
func (g *gwrite[K, V]) del() {
	g.bump, g.bumpG = true, table.GroupOf(g.pos)
	if !g.t.DeleteHeld(g.pos) { // unlock bumps the version
		atomic.AddInt64(&g.c.used, -1) // the slot became EMPTY
	}
	if g.delTaken {
		g.delTaken = false // counted by takeDelete
	} else {
		atomic.AddInt64(&g.c.live, -1)
	}
	g.pos = table.NoPos
}

// unlock gives back an unused reservation and releases the locks.
func (g *gwrite[K, V]) unlock() {
	if g.reserved {
		atomic.AddInt64(&g.c.used, -1)
		g.reserved = false
	}
	if g.delTaken {
		atomic.AddInt64(&g.c.live, 1)
		g.delTaken = false
	}
	if g.g1 != g.g0 {
		g.unlockGroup(g.g1)
	}
	g.unlockGroup(g.g0)
}

// unlockGroup releases the lock of group gr, one of those held, bumping
// its version if the write deleted from it.
func (g *gwrite[K, V]) unlockGroup(gr uint64) {
	if g.bump && gr == g.bumpG {
		g.bump = false
		g.t.UnlockGroupBump(gr)
		return
	}
	g.t.UnlockGroup(gr)
}

// close ends the write: unlock, then, in a segmap_invariants build, the
// continuous check of the segment (with the segment lock and the table
// sealed, after the group locks are released: a check holding them would
// wait for itself). fn names the method.
func (g *gwrite[K, V]) close(fn string) {
	g.unlock()
	g.st.handOff(awaitGroups)
	if invariants {
		_, i := g.st.seg(g.h)
		g.st.mustCheckSealed(fn, i)
	}
	g.prepareClaimed()
}

// lockSeg takes segment i's lock and, in a group-lock map, seals its
// table: after it, no group-lock writer writes the table until unlockSeg.
// A table already sealed (frozen, pinned) had its group locks waited for
// by whoever sealed it.
func (st *state[K, V]) lockSeg(i int) {
	st.mus[i].Lock()
	if st.glock {
		if t := st.segs[i].table.Load().Flat(); !t.Sealed() {
			if testHookSeal != nil {
				testHookSeal(i)
			}
			t.Seal()
			t.WaitAllUnlocked(0)
			st.segs[i].quiet = true
		}
	}
}

// testHookSeal, if set (by tests only, while no writer runs), is called
// by lockSeg before it seals segment i's table.
var testHookSeal func(i int)

// unlockSeg releases segment i's lock, taken by lockSeg (or plainly),
// unsealing its current table unless it is frozen or pinned.
func (st *state[K, V]) unlockSeg(i int) {
	if st.glock {
		st.unsealLocked(i)
	}
	st.unlockMu(i)
}

// unlockMu releases segment i's lock, taken plainly, and hands it off to
// lockAll if lockAll waits for it.
func (st *state[K, V]) unlockMu(i int) {
	st.mus[i].Unlock()
	st.handOff(int32(i) + 1)
}

// unsealLocked unseals segment i's current table unless it is frozen or
// pinned; the segment's lock is held.
func (st *state[K, V]) unsealLocked(i int) {
	if s := &st.segs[i]; !s.frozen && s.pins == 0 {
		t := s.table.Load()
		if s.quiet {
			s.setQuotas(t, 0)
			s.quiet = false
		}
		t.Flat().Unseal()
	}
}

// setQuotas shares out, among the count stripes of segment s, the room
// that its table t (current, or not yet published) leaves group-lock
// writers before the segment lock must take over: the inserts into EMPTY
// slots before the load bound (MaxUsed), the deletes before the shrink
// rule (shrinkGroups) applies, and the inserts before the next table's
// preparation is due (prepAt). The shares of each add up to the room, so
// that the stripes together never go beyond a rule the exact count would
// apply; a writer at its stripe's limit reshares (state.reshare) or
// takes the segment lock, whose holder counts exactly. Stripe first gets
// the shares' remainders: the stripe of the writer that asked for the
// reshare, so that it gets room while there is any.
//
// The segment lock must be held, and either the table sealed with every
// group lock free (no writer is counting) or every stripe closed
// (state.reshare: a writer still counting only moves its count by an add
// that its failed test gives back, a reservation given back, or a slot
// emptied, each of which leaves at least the room computed here, if that
// room is not below zero: see below). Each stripe's counts are read
// once: a bound computed from a second read could count such an add in
// one read and not the other, and go one beyond the room.
func (s *segment[K, V]) setQuotas(t *table.Table[K, V], first int) {
	cs := s.live.cs
	if cs == nil {
		return
	}
	var cu, cl [countStripes]int64
	used, live := s.used.base.Load(), s.live.base.Load()
	for i := range cs {
		cu[i], cl[i] = atomic.LoadInt64(&cs[i].used), atomic.LoadInt64(&cs[i].live)
		used, live = used+cu[i], live+cl[i]
	}
	if testHookQuotasRead != nil {
		testHookQuotasRead()
	}
	// A room below zero is possible only in a reshare, from adds given
	// back after the read: clamped to zero, it would leave each such
	// stripe an insert the table does not have once its add is given
	// back, so it closes the room instead (every insert into an EMPTY
	// slot then takes the segment-lock path, which seals and counts
	// exactly) [TestReshareTransientAddAtBound].
	room := int64(t.MaxUsed()) - used
	prep := max(0, int64(prepAt(t.Groups()))-used)
	// Deletes allowed before one leaves fewer than an eighth of the slots
	// live: all of them if the table is at its floor and never shrinks;
	// none if it is that sparse already (any delete may then shrink it,
	// even after inserts).
	dels := live - int64(t.Capacity()/8)
	floor := t.Groups() <= s.minGroups
	for i := range cs {
		c, r := &cs[i], (i-first)&(countStripes-1)
		prepUsed := cu[i] + share(prep, r)
		if t.Groups() < prepMinGroups { // no preparation: never reached
			prepUsed = math.MaxInt64
		}
		liveMin := cl[i] - share(max(dels, 0), r)
		switch {
		case floor:
			liveMin = math.MinInt64
		case dels < 0:
			liveMin = math.MaxInt64
		}
		atomic.StoreInt64(&c.prepUsed, prepUsed)
		atomic.StoreInt64(&c.liveMin, liveMin)
		usedMax := int64(math.MinInt64)
		if room >= 0 {
			usedMax = cu[i] + share(room, r)
		}
		atomic.StoreInt64(&c.usedMax, usedMax)
	}
}

// reshare shares out segment i's room among its count stripes again
// (setQuotas), with the segment lock held but the table not sealed, for a
// group-lock writer whose stripe c ran out of its share: so that a share
// spent while others have room costs a few atomic operations, not a seal
// (which waits for every group lock of the table, a pass over all its
// groups). It first closes every stripe, so that the counts it reads hold
// every insert and delete that passed its test (see stripe.usedMax).
// It reports false, changing nothing, if the table is sealed (a rebuild,
// a snapshot or an iteration has it: the writer takes the segment-lock
// path) or c is not one of the current table's stripes; the writer then
// takes the segment-lock path, as it does if its stripe still has no
// share after a reshare (the room is spent: a rebuild is due). The
// caller holds no lock.
func (st *state[K, V]) reshare(i int, c *stripe) bool {
	st.mus[i].Lock()
	defer st.unlockMu(i)
	s := &st.segs[i]
	t := s.table.Load()
	cs := s.live.cs
	if cs == nil || t.Flat().Sealed() {
		return false
	}
	first := -1
	for j := range cs {
		if &cs[j] == c {
			first = j
		}
	}
	if first < 0 {
		return false
	}
	for j := range cs {
		atomic.StoreInt64(&cs[j].usedMax, math.MinInt64)
		atomic.StoreInt64(&cs[j].liveMin, math.MaxInt64)
	}
	if testHookReshareClosed != nil {
		testHookReshareClosed()
	}
	s.setQuotas(t, first)
	return true
}

// testHookReshareClosed, if set (by tests only, while no writer runs), is
// called by reshare once it closed the stripes, before it reads the
// counts; testHookQuotasRead by setQuotas once it read them, before it
// stores the bounds.
var testHookReshareClosed, testHookQuotasRead func()

// share returns stripe i's share of n >= 0: the shares of the stripes add
// up to n, and differ by one at most.
func share(n int64, i int) int64 { return (n + int64(countStripes-1-i)) / countStripes }

// sealPatience is how many rounds of back-off (internal/table's backoff:
// spins, then yields) lockAll waits for one group lock, holding every
// segment lock, before it lets them all go to wait for that group alone:
// the holder may be a Compute callback, slow or waiting for a segment
// lock of lockAll's, and the writers of other segments must not wait for
// it. A holder writing one slot is done well within it.
const sealPatience = 80

// trySealAll seals every segment's table, with every segment lock held,
// and reports -1; or, if a group stays locked beyond sealPatience, it
// returns that table and group, leaving the tables sealed (unlockAll
// unseals them).
func (st *state[K, V]) trySealAll() (*table.Flat[K, V], int) {
	for i := range st.segs {
		t := st.segs[i].table.Load().Flat()
		if t.Sealed() {
			continue
		}
		t.Seal()
		if g := t.WaitAllUnlocked(sealPatience); g >= 0 {
			return t, g // not quiet: the holder is inside
		}
		st.segs[i].quiet = true
	}
	return nil, -1
}

// gcompute is Compute as a group-lock write: f runs with key's home group
// locked (and the group of key's slot, or of its free slot, with a
// reservation: an insert that f decides cannot fail). done is false if the
// write must take the segment-lock path (f has not run). If f panics, or
// returns an invalid op, the locks are released (deferred) and the map is
// as it was.
func (st *state[K, V]) gcompute(key K, h uint64, f func(old V, loaded bool) (V, ComputeOp)) (actual V, ok, done bool) {
	var g gwrite[K, V]
	if !st.gbegin(&g, h, key, true, false) {
		return actual, false, false
	}
	defer g.close("Compute")
	var old V
	if g.found() {
		old = g.value()
	}
	v, op := f(old, g.found())
	switch op {
	case UpdateOp:
		g.put(v)
		return v, true, true
	case DeleteOp:
		if !g.found() {
			return actual, false, true
		}
		g.del() // no shrink: the next delete of the segment decides it
		return old, false, true
	case CancelOp:
		if !g.found() {
			return actual, false, true
		}
		return old, true, true
	}
	panic(fmt.Sprintf("cmap: Compute: invalid ComputeOp %d", int(op)))
}

// ginsertComputed is insertComputed as a group-lock write, done with
// segment i's lock held (plainly, not sealing), as the registry's changes
// must be: so that the call's outcome is set and the call forgotten at
// once with the insert, for callers that join it (join takes that lock).
// ok is false if the write must take the engine's path (nothing done).
// Holding the segment lock while it waits for a group lock is safe: no
// holder of a group lock waits for a segment lock, but a Compute callback
// that calls LoadOrCompute of an absent key of its own segment, which the
// rules of Compute forbid.
func (st *state[K, V]) ginsertComputed(fn string, key K, h uint64, v V, c *call[V]) (value V, loaded, ok bool) {
	_, i := st.seg(h)
	st.mus[i].Lock()
	var g gwrite[K, V]
	// A sealed table, with the segment lock held here, is one that stays
	// sealed (no sealer can hold the lock): the engine copies it.
	if st.gopen(&g, h, key, true, false) != gOK {
		st.unlockMu(i)
		return value, false, false
	}
	if g.found() {
		value, loaded = g.value(), true
	} else {
		g.put(v)
		value = v
	}
	c.outcome, c.value = callLoaded, value
	g.unlock()
	st.forgetLocked(i, key, c)
	st.unlockMu(i)
	st.handOff(awaitGroups)
	if invariants {
		st.mustCheckSealed(fn, i)
	}
	g.prepareClaimed()
	return value, loaded, true
}
