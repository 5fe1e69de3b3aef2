package striped

import "sync"

// Stripes is a fixed set of mutexes, a power of two of them, addressed by
// index from 0 to Len()-1. Each mutex is padded to its own cache lines, so
// goroutines that lock different stripes never contend for a cache line
// (no false sharing).
//
// Lock order: ascending index is the global lock order of a Stripes.
// [Stripes.LockAll] and [Stripes.LockIndices] take their stripes in that
// order, so any number of goroutines may call them at once, with
// overlapping sets listed in any order and with duplicates, and none of
// them can deadlock against another. A goroutine that already holds stripes
// and takes more outside of a single such call must keep to the order
// itself: it may only Lock stripes with higher indices than every stripe
// it holds (or use [Stripes.TryLock]). The mutexes are not reentrant:
// locking a stripe that the goroutine already holds, directly or through
// LockIndices or LockAll, deadlocks. The order is that of one Stripes;
// two different ones have no order between them.
//
// As with [sync.Mutex], a locked stripe is not associated with a
// goroutine: one goroutine may lock it and another unlock it. In the terms
// of the Go memory model, the n'th call of Unlock(i) is synchronized before
// the m'th call of Lock(i) returns, for n < m; the calls that lock or
// unlock several stripes do so stripe by stripe.
//
// All methods are safe for concurrent use by multiple goroutines. A
// Stripes is made by [NewStripes] and must not be copied; its zero value
// has no stripes, and every method that takes an index panics on it.
type Stripes struct {
	_  noCopy
	mu []mutexPadded // len(mu) is a power of two, fixed at NewStripes
}

// NewStripes returns n unlocked stripes, n rounded up to a power of two.
// It panics if n < 1 or n > 1<<30.
func NewStripes(n int) *Stripes {
	return &Stripes{mu: make([]mutexPadded, stripeCount("NewStripes", n))}
}

// Len returns the number of stripes, a power of two that never changes.
func (s *Stripes) Len() int { return len(s.mu) }

// Lock locks stripe i, blocking until it is available. It panics, holding
// nothing, if i is not in [0, Len()).
func (s *Stripes) Lock(i int) {
	if uint(i) >= uint(len(s.mu)) {
		panicIndex("Stripes.Lock", i, len(s.mu))
	}
	s.mu[i].Lock()
}

// Unlock unlocks stripe i. It panics if i is not in [0, Len()); like
// [sync.Mutex.Unlock], it is a fatal run-time error if stripe i is not
// locked.
func (s *Stripes) Unlock(i int) {
	if uint(i) >= uint(len(s.mu)) {
		panicIndex("Stripes.Unlock", i, len(s.mu))
	}
	s.mu[i].Unlock()
}

// Mutex returns stripe i's mutex itself, for callers on hot paths (a
// direct Lock and Unlock inline where the checked methods do not) or that
// need a [sync.Locker]. It panics if i is not in [0, Len()). The lock
// order above applies to it as to [Stripes.Lock].
func (s *Stripes) Mutex(i int) *sync.Mutex { return &s.mu[i].Mutex }

// TryLock tries to lock stripe i without blocking and reports whether it
// did. It panics if i is not in [0, Len()). Because it never waits, it
// cannot deadlock: it is the one way to take a stripe out of the global
// order.
func (s *Stripes) TryLock(i int) bool {
	if uint(i) >= uint(len(s.mu)) {
		panicIndex("Stripes.TryLock", i, len(s.mu))
	}
	return s.mu[i].TryLock()
}

// LockAll locks every stripe in ascending index order and returns when it
// holds them all; from then until [Stripes.UnlockAll], no other goroutine
// holds any stripe. It takes the stripes one at a time, so it waits for
// the holders of each stripe in turn and does not stop a goroutine from
// locking a stripe that LockAll has not reached yet.
func (s *Stripes) LockAll() {
	for i := range s.mu {
		s.mu[i].Lock()
	}
}

// UnlockAll unlocks every stripe. Every stripe must be locked, typically
// by [Stripes.LockAll]; it is a fatal run-time error if one is not.
func (s *Stripes) UnlockAll() {
	for i := range s.mu {
		s.mu[i].Unlock()
	}
}

// LockIndices locks the stripes idx in ascending index order, each once
// however often it is listed, and returns a func that unlocks exactly
// those stripes. The func must be called once, by any goroutine; a second
// call panics. LockIndices does not keep or modify idx.
//
// If an index is not in [0, Len()), LockIndices panics naming the first
// such index and holds nothing. With no indices, it locks nothing and
// returns a func that unlocks nothing.
//
// The taking is not atomic: LockIndices may hold some of the stripes while
// it waits for the others. It allocates twice per call (the held set and
// the func), three times if more than 4 stripes are listed.
func (s *Stripes) LockIndices(idx ...int) (unlock func()) {
	h := &held{s: s}
	h.checkIndices("Stripes.LockIndices", idx, len(s.mu))
	h.lock()
	return h.unlock
}

// RWStripes is a fixed set of reader/writer mutexes, a power of two of
// them, addressed by index from 0 to Len()-1, each padded to its own cache
// lines. It is [Stripes] with [sync.RWMutex] in place of [sync.Mutex]:
// each stripe can be held by one writer or by any number of readers.
//
// Lock order: ascending index, for read and write locks alike.
// [RWStripes.LockAll], [RWStripes.RLockAll], [RWStripes.LockIndices] and
// [RWStripes.RLockIndices] take their stripes in that order, so none of
// them can deadlock against another. Read locks are part of the order
// because a writer waiting for a stripe blocks new readers of that stripe,
// as with sync.RWMutex. For the same reason a goroutine must not read-lock
// a stripe it already holds, in either mode: that can deadlock. Outside a
// single multi-lock call, a goroutine that holds stripes may only lock
// stripes with higher indices than every stripe it holds (or use the Try
// forms).
//
// The memory model is that of sync.RWMutex, applied to each stripe on its
// own; the calls that lock or unlock several stripes do so stripe by
// stripe.
//
// All methods are safe for concurrent use by multiple goroutines. An
// RWStripes is made by [NewRWStripes] and must not be copied; its zero
// value has no stripes, and every method that takes an index panics on it.
type RWStripes struct {
	_  noCopy
	rw []rwMutexPadded // len(rw) is a power of two, fixed at NewRWStripes
}

// NewRWStripes returns n unlocked reader/writer stripes, n rounded up to a
// power of two. It panics if n < 1 or n > 1<<30.
func NewRWStripes(n int) *RWStripes {
	return &RWStripes{rw: make([]rwMutexPadded, stripeCount("NewRWStripes", n))}
}

// Len returns the number of stripes, a power of two that never changes.
func (s *RWStripes) Len() int { return len(s.rw) }

// Lock locks stripe i for writing, blocking until no other goroutine holds
// it in either mode. It panics, holding nothing, if i is not in
// [0, Len()).
func (s *RWStripes) Lock(i int) {
	if uint(i) >= uint(len(s.rw)) {
		panicIndex("RWStripes.Lock", i, len(s.rw))
	}
	s.rw[i].Lock()
}

// Unlock unlocks stripe i for writing. It panics if i is not in
// [0, Len()); it is a fatal run-time error if stripe i is not
// write-locked.
func (s *RWStripes) Unlock(i int) {
	if uint(i) >= uint(len(s.rw)) {
		panicIndex("RWStripes.Unlock", i, len(s.rw))
	}
	s.rw[i].Unlock()
}

// RLock locks stripe i for reading, blocking while a writer holds it or
// waits for it. It panics, holding nothing, if i is not in [0, Len()).
func (s *RWStripes) RLock(i int) {
	if uint(i) >= uint(len(s.rw)) {
		panicIndex("RWStripes.RLock", i, len(s.rw))
	}
	s.rw[i].RLock()
}

// RUnlock undoes one RLock of stripe i. It panics if i is not in
// [0, Len()); it is a fatal run-time error if stripe i is not read-locked.
func (s *RWStripes) RUnlock(i int) {
	if uint(i) >= uint(len(s.rw)) {
		panicIndex("RWStripes.RUnlock", i, len(s.rw))
	}
	s.rw[i].RUnlock()
}

// TryLock tries to lock stripe i for writing without blocking and reports
// whether it did. It panics if i is not in [0, Len()).
func (s *RWStripes) TryLock(i int) bool {
	if uint(i) >= uint(len(s.rw)) {
		panicIndex("RWStripes.TryLock", i, len(s.rw))
	}
	return s.rw[i].TryLock()
}

// TryRLock tries to lock stripe i for reading without blocking and reports
// whether it did. It panics if i is not in [0, Len()).
func (s *RWStripes) TryRLock(i int) bool {
	if uint(i) >= uint(len(s.rw)) {
		panicIndex("RWStripes.TryRLock", i, len(s.rw))
	}
	return s.rw[i].TryRLock()
}

// LockAll write-locks every stripe in ascending index order and returns
// when it holds them all; from then until [RWStripes.UnlockAll], no other
// goroutine holds any stripe in either mode. It takes the stripes one at a
// time, like [Stripes.LockAll].
func (s *RWStripes) LockAll() {
	for i := range s.rw {
		s.rw[i].Lock()
	}
}

// UnlockAll write-unlocks every stripe. Every stripe must be write-locked,
// typically by [RWStripes.LockAll]; it is a fatal run-time error if one is
// not.
func (s *RWStripes) UnlockAll() {
	for i := range s.rw {
		s.rw[i].Unlock()
	}
}

// RLockAll read-locks every stripe in ascending index order and returns
// when it holds them all; from then until [RWStripes.RUnlockAll], no
// goroutine holds any stripe for writing, while readers may come and go.
func (s *RWStripes) RLockAll() {
	for i := range s.rw {
		s.rw[i].RLock()
	}
}

// RUnlockAll undoes one RLock of every stripe. Every stripe must be
// read-locked, typically by [RWStripes.RLockAll]; it is a fatal run-time
// error if one is not.
func (s *RWStripes) RUnlockAll() {
	for i := range s.rw {
		s.rw[i].RUnlock()
	}
}

// LockIndices write-locks the stripes idx in ascending index order, each
// once however often it is listed, and returns a func that unlocks exactly
// those stripes. It behaves as [Stripes.LockIndices] in every other way:
// the func must be called once, a bad index panics before anything is
// locked, and idx is neither kept nor modified.
func (s *RWStripes) LockIndices(idx ...int) (unlock func()) {
	h := &held{rw: s}
	h.checkIndices("RWStripes.LockIndices", idx, len(s.rw))
	h.lock()
	return h.unlock
}

// RLockIndices read-locks the stripes idx in ascending index order, each
// once however often it is listed, and returns a func that read-unlocks
// exactly those stripes. It behaves as [Stripes.LockIndices] in every
// other way.
func (s *RWStripes) RLockIndices(idx ...int) (runlock func()) {
	h := &held{rw: s, read: true}
	h.checkIndices("RWStripes.RLockIndices", idx, len(s.rw))
	h.lock()
	return h.unlock
}
