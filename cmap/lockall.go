package cmap

import (
	"runtime"
	"sync/atomic"
)

// Taking every segment lock. Snapshot, Clear, Oldest, Newest, PopOldest
// and an insert into a full bounded map need every segment lock at once.
// Taking them in index order and waiting for each in turn (striped's
// LockAll) would hold the locks already taken while waiting for a busy
// one: a Compute whose f is slow would then stall, through the waiting
// Snapshot, the writers of every segment before its own. lockAll never
// waits while it holds a lock: it takes every lock with TryLock, and if
// one is busy it releases all it took and waits for that one alone, then
// tries again, holding it. The writers of other segments therefore wait
// for it only while it sweeps with TryLock (no waiting involved) and
// while it holds every lock; it holds them all at one instant, so a
// snapshot or a clear is of one instant.
//
// In a group-lock map (grouplock.go), lockAll also seals every table once
// it holds every lock, waiting for the group locks held; a group lock
// still held after sealPatience rounds is waited for with every segment
// lock released (its holder may be a Compute callback waiting for one of
// them), and the sweep starts over.
//
// Deadlock: lockAll waits (for allMu, or for one segment lock, or one
// group lock) holding
// nothing of its own, except allMu while waiting for a segment lock. No
// holder of a segment lock waits for allMu without first releasing its
// own (the full-map insert drops its segment's lock before calling
// lockAll), so the usual rule applies: only a goroutine that calls a
// method needing every lock while it holds a segment lock (inside a
// Compute callback) deadlocks, with itself.
//
// Progress: allMu lets one lockAll at a time compete, so two never keep
// each other from completing. Against single-segment writers, which hold
// one lock for a short write, each round ends with the busy lock handed
// over (its releaser yields: "Hand-off" below; and sync.Mutex gives it to
// a waiter of over a millisecond) and the next sweep usually succeeds. A
// stream of slow Computes on different segments, overlapping without a
// gap, delays lockAll until a gap comes.

// Hand-off. A writer descheduled while it holds a lock (its time slice
// ended, or GOMAXPROCS goroutines were already running) keeps the lock
// until the scheduler runs it again; when it releases the lock, sync.Mutex
// makes the waiting lockAll runnable but lets the writer run on, taking
// and releasing locks, until its own time slice ends, up to 10 ms later.
// On one P, or with more goroutines than Ps, a Snapshot of a map whose
// writers take segment locks took 10–61 ms that way. So lockAll records
// what it waits for (state.awaited: a segment lock, or group locks while
// it seals), and a writer that releases it yields the processor at once
// (handOff), for lockAll to take it. Only writers releasing what lockAll
// waits for yield (the one segment's lock; or, while it seals, any group
// lock), and only while it waits: a slow Compute holding a segment lock
// makes the writers of other segments yield nothing
// [TestLockAllHandOff, TestLockAllHandOffGroups].

// awaitGroups is state.awaited while lockAll seals the tables and waits
// for their group locks.
const awaitGroups = -1

// testHookLockAllWaits, if set (by tests only, while no map is in use),
// is called by lockAll just before it waits: for segment i's lock, or
// for a group lock (i == awaitGroups).
var testHookLockAllWaits func(i int)

// handOff yields the processor if lockAll waits for w, which the caller
// has just released: segment i's lock (w == i+1), or a group lock (w ==
// awaitGroups).
func (st *state[K, V]) handOff(w int32) {
	if atomic.LoadInt32(&st.awaited) == w {
		runtime.Gosched()
	}
}

// lockAll takes every segment lock; unlockAll (st.locks.UnlockAll)
// releases them.
func (st *state[K, V]) lockAll() {
	st.allMu.Lock()
	defer st.allMu.Unlock()
	// Cleared after a panic too, or writers would yield needlessly.
	defer atomic.StoreInt32(&st.awaited, 0)
	held := -1 // the one lock held when a sweep starts, if any
	for {
		busy := st.tryLockAll(held)
		if busy >= 0 {
			atomic.StoreInt32(&st.awaited, int32(busy)+1)
			if testHookLockAllWaits != nil {
				testHookLockAllWaits(busy)
			}
			st.mus[busy].Lock()               // wait for it, holding nothing else
			atomic.StoreInt32(&st.awaited, 0) // not waiting while it sweeps
			held = busy
			continue
		}
		if !st.glock {
			return
		}
		// Seal every table (grouplock.go); a group lock held too long
		// is waited for holding no segment lock.
		atomic.StoreInt32(&st.awaited, awaitGroups)
		t, g := st.trySealAll()
		if t == nil {
			return
		}
		st.unlockAll()
		if testHookLockAllWaits != nil {
			testHookLockAllWaits(awaitGroups)
		}
		t.WaitUnlocked(uint64(g))
		atomic.StoreInt32(&st.awaited, 0)
		held = -1
	}
}

// tryLockAll takes every segment lock but held (already held by the
// caller, if not -1) with TryLock, and returns -1 holding them all; or,
// at the first lock it cannot take, it releases every lock it and the
// caller held and returns that lock's index.
func (st *state[K, V]) tryLockAll(held int) int {
	for i := range st.mus {
		if i == held || st.mus[i].TryLock() {
			continue
		}
		for j := range i { // held too, if below i
			st.mus[j].Unlock()
		}
		if held > i {
			st.mus[held].Unlock()
		}
		return i
	}
	return -1
}

// unlockAll releases every segment lock, taken by lockAll, unsealing the
// tables that are neither frozen nor pinned (see unlockSeg).
func (st *state[K, V]) unlockAll() {
	if st.glock {
		for i := range st.segs {
			st.unsealLocked(i)
		}
	}
	st.locks.UnlockAll()
}
