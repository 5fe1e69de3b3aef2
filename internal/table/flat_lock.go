package table

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Group locks of flat tables (docs/design.md, "Group locks"). Bit 0 of a
// group's version word (word 1) is the group's write lock; the version
// proper counts in steps of 2. Every read-modify-write of the word is one
// atomic operation, so that a lock, an unlock and a version bump that race
// compose exactly (a Store of a Load's result would lose one of them: a
// lock bit stuck set, or a bump lost):
//
//	lock    CompareAndSwap(v, v|1) from an even v
//	unlock  AndUint64(^1)
//	bump    AddUint64(2)   (Replace, Delete)
//	both    AddUint64(1)   (UnlockGroupBump, after DeleteHeld: the
//	                        holder's 1 carries into the version)
//
// A reader compares the whole word before and after its scan of a group:
// a lock or an unlock in between makes it retry the group, needlessly but
// soundly; the soundness of its answer does not depend on the lock at all
// (a writer holding a group lock writes in the same order as a writer
// holding the segment lock always did), so a reader never waits for a
// lock, and readers ignore the bit otherwise.
//
// sealed excludes group-lock writers from the whole table: a sealer (the
// holder of the segment lock, which alone writes sealed) sets it and then
// waits until no group is locked (WaitUnlocked on each). A group-lock
// writer loads sealed after its lock's CompareAndSwap and writes nothing
// if it is set. All these operations are sequentially consistent, so of
// a writer's lock-then-load and a sealer's store-then-load, one sees the
// other's first operation: either the writer sees sealed (and backs off)
// or the sealer sees the lock bit (and waits for it).

// lockBit is the lock bit of a version word.
const lockBit = 1

// versionStep is a version bump: the version proper is the word's bits
// above the lock bit.
const versionStep = 2

// lockSpins and lockYields bound the busy phases of LockGroup and
// WaitUnlocked before they sleep.
const (
	lockSpins  = 64
	lockYields = 64
)

// groupLockTestHook, if set (by tests only, while no writer runs), is
// called by Seal-time waits (WaitUnlocked) when they find a group locked.
var groupLockTestHook func(g uint64)

// SetGroupLockWaitHook sets the hook that WaitUnlocked calls when it finds
// a group locked (nil: none). For tests only, while no writer runs.
func SetGroupLockWaitHook(f func(g uint64)) { groupLockTestHook = f }

// verWord returns the version word of group g.
func (t *Flat[K, V]) verWord(g uint64) *uint64 {
	return &t.words[int(g)*t.stride+1]
}

// TryLockGroup takes group g's lock if it is free, and reports whether it
// did. It never waits.
func (t *Flat[K, V]) TryLockGroup(g uint64) bool {
	p := &t.words[int(g)*t.stride+1] // verWord, written out: see Flat.group
	v := atomic.LoadUint64(p)
	return v&lockBit == 0 && atomic.CompareAndSwapUint64(p, v, v|lockBit)
}

// LockGroup takes group g's lock, waiting for it: it spins briefly, then
// yields the processor, then sleeps in short naps. A holder holds a group
// lock for one write (or one Compute callback), so the wait is short
// unless the holder is a slow callback.
func (t *Flat[K, V]) LockGroup(g uint64) {
	if !t.TryLockGroup(g) { // the fast path, inlined into the writers
		t.lockGroupSlow(g)
	}
}

// lockGroupSlow is LockGroup's wait, after its first try failed.
func (t *Flat[K, V]) lockGroupSlow(g uint64) {
	for i := 0; !t.TryLockGroup(g); i++ {
		backoff(i)
	}
}

// UnlockGroup releases group g's lock, which the caller holds.
func (t *Flat[K, V]) UnlockGroup(g uint64) {
	atomic.AndUint64(t.verWord(g), ^uint64(lockBit))
}

// UnlockGroupBump releases group g's lock, which the caller holds, and
// bumps its version, in one atomic operation: the word is v|lockBit while
// the lock is held, and adding lockBit clears the bit and carries into
// the version (v+versionStep). For a holder that deleted with DeleteHeld.
func (t *Flat[K, V]) UnlockGroupBump(g uint64) {
	atomic.AddUint64(t.verWord(g), lockBit)
}

// Version returns group g's version word: the version proper in the bits
// above lockBit, and the lock bit.
func (t *Flat[K, V]) Version(g uint64) uint64 { return atomic.LoadUint64(t.verWord(g)) }

// GroupLocked reports whether group g's lock is held now.
func (t *Flat[K, V]) GroupLocked(g uint64) bool {
	return atomic.LoadUint64(t.verWord(g))&lockBit != 0
}

// WaitUnlocked waits until group g's lock is free (it may be taken again
// at once: a sealer calls it after setting sealed, when a new holder
// writes nothing).
func (t *Flat[K, V]) WaitUnlocked(g uint64) {
	for i := 0; t.GroupLocked(g); i++ {
		if i == 0 && groupLockTestHook != nil {
			groupLockTestHook(g)
		}
		backoff(i)
	}
}

// WaitAllUnlocked waits until each group's lock has been seen free, as
// WaitUnlocked, for groups in order. If limit > 0 it gives up at the first
// group still locked after limit rounds of back-off and returns it; else
// it returns -1 after every group. The caller has set sealed.
func (t *Flat[K, V]) WaitAllUnlocked(limit int) int {
	for g := range uint64(t.Groups()) {
		for i := 0; t.GroupLocked(g); i++ {
			if i == 0 && groupLockTestHook != nil {
				groupLockTestHook(g)
			}
			if limit > 0 && i >= limit {
				return int(g)
			}
			backoff(i)
		}
	}
	return -1
}

// backoff is round i of a wait for a group lock: spin, then yield, then
// sleep.
func backoff(i int) {
	switch {
	case i < lockSpins:
		// spin: a holder writing one slot is done within a few hundred
		// nanoseconds
	case i < lockSpins+lockYields:
		runtime.Gosched()
	default:
		time.Sleep(20 * time.Microsecond)
	}
}

// Sealed reports whether t is sealed: group-lock writers must not write
// it (see the top of this file).
func (t *Flat[K, V]) Sealed() bool { return atomic.LoadUint32(&t.sealed) != 0 }

// Seal sets t's sealed flag. Only the holder of t's segment lock may call
// it; it must then wait for the group locks (WaitAllUnlocked) before it
// reads or writes the table as a whole.
func (t *Flat[K, V]) Seal() { atomic.StoreUint32(&t.sealed, 1) }

// Unseal clears t's sealed flag: group-lock writers may write t again.
// Only the holder of t's segment lock may call it, on the segment's
// current table, neither frozen nor pinned.
func (t *Flat[K, V]) Unseal() { atomic.StoreUint32(&t.sealed, 0) }

// LocateFree finds, for a writer holding the lock of key's home group
// (which owns key: no other writer inserts or deletes key meanwhile), the
// slot holding key, or, if key is absent, the slot where an insert should
// go, as Locate does. Groups other than the home group may be changed by
// their writers meanwhile, so each group's reading stands only if its
// version word did not move during it (as for a reader's probe); one that
// did is read again. A group that does not stop probes never comes to stop
// them (a delete writes EMPTY only into a group that stops them), so the
// answer "absent" is sound; the free slot found is only a candidate: the
// caller locks its group and checks it again (FreeIn).
func (t *Flat[K, V]) LocateFree(h uint64, key K) (pos Pos, free Pos, freeIsEmpty bool) {
	tw := tagWord[uint64](tagOf(h))
	g := h & t.mask
	free = NoPos
	for range t.mask + 1 { // t.Groups(), a call from cmap's instantiation
		grp := t.group(g)
		var ctrl uint64
		for {
			ver := atomic.LoadUint64(&grp[1])
			ctrl = loadCtrl(grp)
			pos = NoPos
			for m := matchWord(ctrl, tw); m != 0; m &= m - 1 {
				i := slotOf(m)
				if t.loadKey(grp, flatHeader+i*t.sw) == key {
					pos = Pos(g<<3) + Pos(i)
					break
				}
			}
			if atomic.LoadUint64(&grp[1]) == ver {
				break
			}
		}
		if pos != NoPos {
			return pos, NoPos, false
		}
		if f := matchFree(ctrl); free == NoPos && stops(f, t.sp) {
			i := slotOf(f)
			free, freeIsEmpty = Pos(g<<3)+Pos(i), byteAt(ctrl, i) == ctrlEmpty
		}
		if stops(matchEmpty(ctrl), t.sp) {
			return NoPos, free, freeIsEmpty
		}
		g = (g + 1) & t.mask
	}
	panic("table: flat probe found no stopping group: load bound broken")
}

// FreeIn returns the first free slot of group g, whose lock the caller
// holds, and whether it is EMPTY, if the group has more than sp free
// slots (room for an insert); else NoPos.
func (t *Flat[K, V]) FreeIn(g uint64) (Pos, bool) {
	ctrl := loadCtrl(t.group(g))
	f := matchFree(ctrl)
	if !stops(f, t.sp) {
		return NoPos, false
	}
	i := slotOf(f)
	return Pos(g<<3) + Pos(i), byteAt(ctrl, i) == ctrlEmpty
}

// GroupOf returns the group of slot p.
// (Generic in p's type, which is always Pos, only to be inlined into
// cmap's instantiations: see word in ctrl.go.)
func GroupOf[P ~int](p P) uint64 { return uint64(p) >> 3 }

// Home returns the home group of hash h.
func (t *Flat[K, V]) Home(h uint64) uint64 { return h & t.mask }
