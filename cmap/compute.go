package cmap

import (
	"fmt"

	"github.com/segmap/segmap/internal/table"
)

// ComputeOp tells [Map.Compute] what to do with the key. The zero value is
// CancelOp, and the numbering is xsync v4's.
type ComputeOp int

const (
	// CancelOp leaves the map as it was.
	CancelOp ComputeOp = iota
	// UpdateOp stores the returned value.
	UpdateOp
	// DeleteOp deletes the key.
	DeleteOp
)

// String returns the op's name: "CancelOp", "UpdateOp", "DeleteOp", or
// "ComputeOp(n)" for any other value n.
func (op ComputeOp) String() string {
	switch op {
	case CancelOp:
		return "CancelOp"
	case UpdateOp:
		return "UpdateOp"
	case DeleteOp:
		return "DeleteOp"
	}
	return fmt.Sprintf("ComputeOp(%d)", int(op))
}

// Callbacks. The rules for the function given to Compute (its key's
// segment lock is held: what is safe inside, what deadlocks, what a slow
// or panicking one stalls) are written once, in the doc of Compute; those
// for LoadOrCompute and LoadOrTryCompute (no lock held; all is safe but a
// LoadOr call of its own key) in the doc of LoadOrCompute, to which
// LoadOrTryCompute refers. TestCallbackSafeMethods and
// TestCallbackDeadlocks check these lists.

// Compute runs f once, atomically for key: f sees the current value (old,
// with loaded true) or the zero value (loaded false), and its op decides
// what happens, with no other write to key in between. It returns
// (newValue, true) after UpdateOp; (current value, true) after CancelOp on
// a present key; (deleted value, false) after DeleteOp on a present key;
// and (zero, false) when the key stays absent. The numbering of ComputeOp
// (CancelOp is 0) and these results are those of xsync v4's Compute.
//
// f runs with the lock of key's segment held (every segment lock instead,
// for an absent key on a full map bounded by [WithMaxLen]: the map must
// evict or refuse atomically with f's decision); in a flat map with no
// options, with the lock of key's group instead (and of the group of its
// slot or free slot), where the rules below hold as written, "deadlocks"
// meaning "may deadlock, depending on the hash". So:
//   - A slow f stalls, for as long as it runs, exactly: the writers of
//     key's segment (all writers, on that full-map path), Range, Stats and
//     Reserve when they reach that segment, and Snapshot, Clear, Oldest,
//     Newest, PopOldest and inserts into a full bounded map, which need
//     every lock. None of those holds the lock of another segment while it
//     waits, so the writers of other segments, and every reader, do not
//     wait. For a slow computation, use [Map.LoadOrCompute], whose f runs
//     with no lock held.
//   - Safe inside f: Load and Len of m, and LoadOrStore, LoadOrCompute and
//     LoadOrTryCompute of a key that is present (they then take no lock);
//     a write to a key of another segment waits for that segment's writers
//     only (but two Compute callbacks that each write to the other's
//     segment deadlock, and so does an insert into a full bounded map:
//     see below).
//   - Deadlocks: any other write (Store, Swap, TryStore, Delete,
//     LoadAndDelete, CompareAndSwap, CompareAndDelete, Compute, and the
//     LoadOr methods for an absent key) to a key of the same segment,
//     which for a key other than f's own depends on the hash, and so
//     passes tests and hangs in production; an insert of a new key of any
//     segment into a full bounded map ([WithMaxLen]), which takes every
//     segment's lock to evict or to refuse; and Range, All, Keys, Values,
//     Snapshot, Stats, Clear, Reserve, Oldest, Newest and PopOldest, which
//     need every segment's lock.
//   - If f panics, the panic propagates, the map is left as it was and the
//     locks are released.
//
// Compute panics if f is nil or returns an op other than the three, and
// on a full [RejectNew] map if f stores a new key, with an error wrapping
// [ErrFull].
func (m *Map[K, V]) Compute(key K, f func(old V, loaded bool) (newValue V, op ComputeOp)) (actual V, ok bool) {
	if f == nil {
		panic("cmap: Compute: nil function")
	}
	st := m.state()
	if st.arena && st.extra == nil { // both immutable
		var i int
		actual, ok, i = st.acompute(key, f)
		st.handOff(int32(i) + 1) // unlockMu's second half: see acompute
		return actual, ok
	}
	h := st.hash(key)
	if st.glock && table.FlatOneWord[K, V]() { // a constant, and immutable
		var none V
		var done bool
		if actual, ok, done = st.fwrite("Compute", fCompute, key, h, none, none, false, f); done {
			return actual, ok
		}
	}
	return st.computeEngine(key, h, f)
}

// computeEngine is the rest of Compute: key, hashed h, in its group's
// light write (gcompute) or in the write engine. It is apart from Compute
// so that the light writes are called from a small frame, as in Map.swap.
func (st *state[K, V]) computeEngine(key K, h uint64, f func(old V, loaded bool) (V, ComputeOp)) (actual V, ok bool) {
	if st.glock {
		var done bool
		if actual, ok, done = st.gcompute(key, h, f); done {
			return actual, ok
		}
	}
	var w writer[K, V]
	defer w.close()
	w.init(st, "Compute", key, h)
	w.open(hint[K, V]{})
	return w.compute(f)
}

// compute is the rest of Compute in the write engine, w open.
func (w *writer[K, V]) compute(f func(old V, loaded bool) (V, ComputeOp)) (actual V, ok bool) {
	var old V
	if w.found() {
		old = w.value()
	}
	actual, ok, err := w.apply(f(old, w.found()))
	if err != nil {
		panic(err)
	}
	return actual, ok
}

// LoadOrCompute returns the existing value for key if present. Otherwise,
// it calls f, stores its result and returns it; loaded is true if the
// value was loaded, false if this call computed and stored it.
//
// f runs with no lock of the map held: while it runs, every operation on
// other keys proceeds as if no computation were under way, and Store,
// Delete, Swap, Compute and every other write of key itself do not wait
// for it. Callers of key that find it absent while f runs share that one
// call: they wait for it and return its value with loaded true. f is
// called at most once at a time per key.
//
// LoadOrCompute is linearizable, at the instant it stores f's value (with
// the write engine, as LoadOrStore stores: on a full map bounded by
// [WithMaxLen] it evicts at that instant, or panics with an error wrapping
// [ErrFull] for [RejectNew], in every caller that shared the call;
// insertion order is that instant's). If
// another writer stored key while f ran, LoadOrCompute returns that value
// with loaded true, and f's value is discarded; the callers that waited
// for f then return the same value, also with loaded true.
//
// f may call any method of m, including writes to key (seen as another
// writer storing key); but LoadOrCompute or LoadOrTryCompute of key itself
// inside f waits for f, forever: that is not detected. If f panics (or
// exits its goroutine), the panic propagates in the goroutine that called
// f, nothing is stored, and each caller that waited for that call starts
// over: it loads key if it is present by then, or one of them calls its
// own f. A present key costs what [Map.Load] costs: no lock, and no
// allocation in a map of the flat layout. LoadOrCompute panics if f is
// nil.
func (m *Map[K, V]) LoadOrCompute(key K, f func() V) (actual V, loaded bool) {
	if f == nil {
		panic("cmap: LoadOrCompute: nil function")
	}
	actual, loaded, _ = m.loadOrCompute("LoadOrCompute", key, func() (V, error) { return f(), nil }, false)
	return actual, loaded
}

// LoadOrTryCompute is LoadOrCompute for an f that can fail. If key is
// present it returns (value, true, nil) without calling f. Otherwise it
// calls f with no lock held, and the callers of key that find it absent
// while f runs share that call's outcome: on a nil error, f's value is
// stored and returned, as (value, false, nil) to the caller that called f
// and (value, true, nil) to those that waited; on an error, nothing is
// stored and every one of them returns (zero, false, err) with f's error.
// The next caller to find key absent after the call ended calls f again,
// so a failing backend is called once per failure, not once per caller.
// A LoadOrCompute caller that waited for a failing LoadOrTryCompute call
// starts over instead, since it cannot return an error.
//
// Everything else is as for [Map.LoadOrCompute]: linearizable at the
// insert, which loads instead if another writer stored key while f ran;
// the rules for f; panics. On a full [RejectNew] map, the insert stores
// nothing, and LoadOrTryCompute returns (zero, false, err) with err
// wrapping [ErrFull], in the caller that called f and in those that
// waited for it (a LoadOrCompute that waited panics with it, as its own
// insert would).
// LoadOrTryCompute panics if f is nil.
func (m *Map[K, V]) LoadOrTryCompute(key K, f func() (V, error)) (value V, loaded bool, err error) {
	if f == nil {
		panic("cmap: LoadOrTryCompute: nil function")
	}
	return m.loadOrCompute("LoadOrTryCompute", key, f, true)
}

// loadOrCompute is LoadOrTryCompute; fn names the method called, and try
// is set if its caller can return f's errors. The path of a present key
// is the lock-free lookup; the rest is in inflight.go.
func (m *Map[K, V]) loadOrCompute(fn string, key K, f func() (V, error), try bool) (value V, loaded bool, err error) {
	if v, ok := m.Load(key); ok { // Load's inlined probe: a present key costs a Load
		return v, true, nil
	}
	st := m.state()
	return st.loadOrComputeSlow(fn, key, st.hash(key), f, try)
}
