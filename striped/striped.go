package striped

import "hash/maphash"

// Striped is a set of mutexes chosen by key: a key's hash picks one of a
// fixed, power-of-two number of stripes ([Stripes]), so that operations on
// different keys usually run in parallel while operations on the same key
// are serialized. It is Guava's Striped for Go.
//
// The hash is [maphash.Comparable] with a random seed made by [New], so
// the stripe of a key is fixed for the life of a Striped, differs from one
// Striped to the next, and cannot be predicted by whoever chooses the keys.
//
// Different keys may share a stripe, and the mutexes are not reentrant: a
// goroutine that holds the lock of one key must not Lock another key,
// which may well be on the same stripe, and then waits for itself. To hold
// several keys at once, use [Striped.LockKeys]: it maps the keys to their
// stripes, locks each stripe once, and locks them in the global order of
// the underlying [Stripes] (ascending index), so that no two LockKeys or
// LockAll calls can deadlock, whatever keys they list in whatever order.
//
// The lock of a key is not associated with a goroutine, and the memory
// model is that of [sync.Mutex] applied to its stripe: everything done
// under the lock of a key is visible to the next goroutine that locks a
// key on the same stripe.
//
// All methods are safe for concurrent use by multiple goroutines. A
// Striped is made by [New] and must not be copied; its zero value is not
// usable.
type Striped[K comparable] struct {
	_       noCopy
	seed    maphash.Seed
	stripes Stripes
}

// New returns a Striped with n stripes, n rounded up to a power of two,
// and a fresh random hash seed. It panics if n < 1 or n > 1<<30.
//
// More stripes mean less contention between unrelated keys and more
// memory: each stripe takes 128 bytes.
func New[K comparable](n int) *Striped[K] {
	return &Striped[K]{
		seed:    maphash.MakeSeed(),
		stripes: Stripes{mu: make([]mutexPadded, stripeCount("New", n))},
	}
}

// Len returns the number of stripes, a power of two that never changes.
func (s *Striped[K]) Len() int { return len(s.stripes.mu) }

// Index returns the stripe of key, in [0, Len()). It is the same for
// equal keys during the life of s and means nothing for another Striped.
// Like a Go map, it panics if key is an interface value whose dynamic type
// is not comparable.
func (s *Striped[K]) Index(key K) int {
	return int(maphash.Comparable(s.seed, key) & uint64(len(s.stripes.mu)-1))
}

// Stripes returns the stripes underneath s, addressed by [Striped.Index]:
// s.Lock(key) is s.Stripes().Lock(s.Index(key)). Use it to lock a stripe
// by index, for instance to visit state kept per stripe; the locks and
// their order are shared with s.
func (s *Striped[K]) Stripes() *Stripes { return &s.stripes }

// Lock locks the stripe of key, blocking until it is available. If key is
// not hashable, it panics (see [Striped.Index]) holding nothing.
func (s *Striped[K]) Lock(key K) { s.stripes.mu[s.Index(key)].Lock() }

// Unlock unlocks the stripe of key. It is a fatal run-time error if that
// stripe is not locked.
func (s *Striped[K]) Unlock(key K) { s.stripes.mu[s.Index(key)].Unlock() }

// TryLock tries to lock the stripe of key without blocking and reports
// whether it did. It fails also when the stripe is held for another key.
func (s *Striped[K]) TryLock(key K) bool { return s.stripes.mu[s.Index(key)].TryLock() }

// LockKeys locks the stripes of keys, each stripe once however many of the
// keys share it, in ascending stripe order, and returns a func that
// unlocks exactly those stripes. The func must be called once, by any
// goroutine; a second call panics. LockKeys does not keep or modify keys.
//
// Every key is hashed before any stripe is locked: if a key is not
// hashable, LockKeys panics holding nothing. With no keys, it locks
// nothing and returns a func that unlocks nothing.
//
// The taking is not atomic: LockKeys may hold some of the stripes while it
// waits for the others. Because all multi-lock calls of s take stripes in
// the same order, they cannot deadlock against one another.
func (s *Striped[K]) LockKeys(keys ...K) (unlock func()) {
	h := &held{s: &s.stripes}
	h.idx = s.appendIndices(h.buf[:0], keys)
	h.sortIndices()
	h.lock()
	return h.unlock
}

// appendIndices appends the stripe of each key to dst.
func (s *Striped[K]) appendIndices(dst []int, keys []K) []int {
	for _, k := range keys {
		dst = append(dst, s.Index(k))
	}
	return dst
}

// LockAll locks every stripe in ascending order and returns when it holds
// them all; from then until [Striped.UnlockAll], no other goroutine holds
// the lock of any key. See [Stripes.LockAll].
func (s *Striped[K]) LockAll() { s.stripes.LockAll() }

// UnlockAll unlocks every stripe. Every stripe must be locked, typically
// by [Striped.LockAll]; it is a fatal run-time error if one is not.
func (s *Striped[K]) UnlockAll() { s.stripes.UnlockAll() }

// RWStriped is [Striped] with reader/writer locks: the stripe of a key is
// a [sync.RWMutex], held by one writer or by any number of readers. Keys
// are mapped to stripes as in Striped, and the stripes are an
// [RWStripes].
//
// Read locks are part of the lock order, because a writer waiting for a
// stripe blocks new readers of that stripe, as with sync.RWMutex. So a
// goroutine that holds the lock of a key, in either mode, must not lock
// another key in either mode; [RWStriped.LockKeys] and
// [RWStriped.RLockKeys] take several keys in the global order and cannot
// deadlock against each other or against [RWStriped.LockAll] and
// [RWStriped.RLockAll].
//
// The memory model is that of sync.RWMutex applied to each stripe. All
// methods are safe for concurrent use by multiple goroutines. An
// RWStriped is made by [NewRW] and must not be copied; its zero value is
// not usable.
type RWStriped[K comparable] struct {
	_       noCopy
	seed    maphash.Seed
	stripes RWStripes
}

// NewRW returns an RWStriped with n stripes, n rounded up to a power of
// two, and a fresh random hash seed. It panics if n < 1 or n > 1<<30.
func NewRW[K comparable](n int) *RWStriped[K] {
	return &RWStriped[K]{
		seed:    maphash.MakeSeed(),
		stripes: RWStripes{rw: make([]rwMutexPadded, stripeCount("NewRW", n))},
	}
}

// Len returns the number of stripes, a power of two that never changes.
func (s *RWStriped[K]) Len() int { return len(s.stripes.rw) }

// Index returns the stripe of key, in [0, Len()); see [Striped.Index].
func (s *RWStriped[K]) Index(key K) int {
	return int(maphash.Comparable(s.seed, key) & uint64(len(s.stripes.rw)-1))
}

// Stripes returns the stripes underneath s, addressed by
// [RWStriped.Index]; the locks and their order are shared with s.
func (s *RWStriped[K]) Stripes() *RWStripes { return &s.stripes }

// Lock write-locks the stripe of key, blocking until no other goroutine
// holds it in either mode. If key is not hashable, it panics holding
// nothing.
func (s *RWStriped[K]) Lock(key K) { s.stripes.rw[s.Index(key)].Lock() }

// Unlock write-unlocks the stripe of key. It is a fatal run-time error if
// that stripe is not write-locked.
func (s *RWStriped[K]) Unlock(key K) { s.stripes.rw[s.Index(key)].Unlock() }

// RLock read-locks the stripe of key, blocking while a writer holds it or
// waits for it. If key is not hashable, it panics holding nothing.
func (s *RWStriped[K]) RLock(key K) { s.stripes.rw[s.Index(key)].RLock() }

// RUnlock undoes one RLock of the stripe of key. It is a fatal run-time
// error if that stripe is not read-locked.
func (s *RWStriped[K]) RUnlock(key K) { s.stripes.rw[s.Index(key)].RUnlock() }

// TryLock tries to write-lock the stripe of key without blocking and
// reports whether it did.
func (s *RWStriped[K]) TryLock(key K) bool { return s.stripes.rw[s.Index(key)].TryLock() }

// TryRLock tries to read-lock the stripe of key without blocking and
// reports whether it did.
func (s *RWStriped[K]) TryRLock(key K) bool { return s.stripes.rw[s.Index(key)].TryRLock() }

// LockKeys write-locks the stripes of keys, each once, in ascending stripe
// order, and returns a func that unlocks exactly those stripes. It behaves
// as [Striped.LockKeys] in every other way.
func (s *RWStriped[K]) LockKeys(keys ...K) (unlock func()) {
	h := &held{rw: &s.stripes}
	h.idx = s.appendIndices(h.buf[:0], keys)
	h.sortIndices()
	h.lock()
	return h.unlock
}

// RLockKeys read-locks the stripes of keys, each once, in ascending stripe
// order, and returns a func that read-unlocks exactly those stripes. It
// behaves as [Striped.LockKeys] in every other way.
func (s *RWStriped[K]) RLockKeys(keys ...K) (runlock func()) {
	h := &held{rw: &s.stripes, read: true}
	h.idx = s.appendIndices(h.buf[:0], keys)
	h.sortIndices()
	h.lock()
	return h.unlock
}

// appendIndices appends the stripe of each key to dst.
func (s *RWStriped[K]) appendIndices(dst []int, keys []K) []int {
	for _, k := range keys {
		dst = append(dst, s.Index(k))
	}
	return dst
}

// LockAll write-locks every stripe in ascending order; see
// [RWStripes.LockAll].
func (s *RWStriped[K]) LockAll() { s.stripes.LockAll() }

// UnlockAll write-unlocks every stripe; see [RWStripes.UnlockAll].
func (s *RWStriped[K]) UnlockAll() { s.stripes.UnlockAll() }

// RLockAll read-locks every stripe in ascending order; see
// [RWStripes.RLockAll].
func (s *RWStriped[K]) RLockAll() { s.stripes.RLockAll() }

// RUnlockAll undoes one RLock of every stripe; see [RWStripes.RUnlockAll].
func (s *RWStriped[K]) RUnlockAll() { s.stripes.RUnlockAll() }
