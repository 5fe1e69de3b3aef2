package cmap

import "fmt"

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

// Callbacks. The functions given to Compute, LoadOrCompute and
// LoadOrTryCompute run with the lock of the key's segment held (every
// segment lock, on a full bounded map). Inside one, these methods of the
// same map are safe: Load, Len, and LoadOrStore, LoadOrCompute and
// LoadOrTryCompute of a key that is present (they then take no lock).
// These deadlock: any write (Store, Swap, TryStore, Delete,
// LoadAndDelete, CompareAndSwap, CompareAndDelete, Compute, and the
// LoadOr methods for an absent key) to a key of the same segment, which
// for a key other than the callback's own depends on the hash and so
// passes tests and hangs in production; and Range, All, Keys, Values,
// Snapshot, Stats, Clear, Reserve, Oldest, Newest and PopOldest, which
// lock every segment in turn. While a callback runs, its segment's writers,
// Range (when it reaches the segment), Snapshot and Clear wait for it.
// TestCallbackSafeMethods and TestCallbackDeadlocks check these lists.

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
// evict or refuse atomically with f's decision). Inside f it is safe to
// call Load and Len of m, and LoadOrStore, LoadOrCompute or
// LoadOrTryCompute of a present key; any other write to a key of the same
// segment, or Range, All, Keys, Values, Snapshot, Stats, Clear, Reserve,
// Oldest, Newest or PopOldest, deadlocks. A slow f stalls, for as long as
// it runs, the writers of its segment and Range, Snapshot and Clear. If f
// panics, the panic propagates, the map is left as it was and the locks
// are released. Compute panics if f is nil or returns an op other than the
// three, and on a full [RejectNew] map if f stores a new key, with an
// error wrapping [ErrFull].
func (m *Map[K, V]) Compute(key K, f func(old V, loaded bool) (newValue V, op ComputeOp)) (actual V, ok bool) {
	if f == nil {
		panic("cmap: Compute: nil function")
	}
	st := m.state()
	h := st.hasher.Hash(key)
	var w writer[K, V]
	defer w.close()
	st.open(&w, "Compute", key, h, hint[K, V]{})
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
// value was loaded, false if computed. f is called at most once per absent
// key, even when many goroutines ask for the same key at once: the others
// wait for it and load its result. On a full bounded map it evicts or
// panics as [Map.LoadOrStore] does, f then running with every segment lock
// held.
//
// When key is present no lock is taken. Otherwise f runs with the lock of
// key's segment held, with the rules of [Map.Compute]'s f: it may call
// Load and Len of m, and the LoadOr methods of a present key; other
// writes to its segment, and the methods that lock every segment, deadlock;
// a slow f stalls its segment's writers, Range, Snapshot and Clear. If f
// panics, the panic propagates, nothing is stored and the lock is
// released. LoadOrCompute panics if f is nil.
func (m *Map[K, V]) LoadOrCompute(key K, f func() V) (actual V, loaded bool) {
	if f == nil {
		panic("cmap: LoadOrCompute: nil function")
	}
	actual, loaded, _ = m.loadOrCompute("LoadOrCompute", key, func() (V, error) { return f(), nil })
	return actual, loaded
}

// LoadOrTryCompute is LoadOrCompute for an f that can fail. If key is
// present it returns (value, true, nil) without calling f. Otherwise it
// calls f, at most one call at a time per key: on a nil error, f's value
// is stored and returned as (value, false, nil); on an error, nothing is
// stored and (zero, false, err) is returned, and the next caller for key
// calls f again. On a bounded map it behaves as LoadOrCompute.
//
// f runs with the lock of key's segment held, with the rules of
// [Map.Compute]'s f: it may call Load and Len of m, and the LoadOr methods
// of a present key; other writes to its segment, and the methods that lock
// every segment, deadlock; a slow f stalls its segment's writers, Range,
// Snapshot and Clear. If f panics, the panic propagates, nothing is stored
// and the lock is released. LoadOrTryCompute panics if f is nil.
func (m *Map[K, V]) LoadOrTryCompute(key K, f func() (V, error)) (value V, loaded bool, err error) {
	if f == nil {
		panic("cmap: LoadOrTryCompute: nil function")
	}
	return m.loadOrCompute("LoadOrTryCompute", key, f)
}

// loadOrCompute is LoadOrTryCompute; fn names the method called.
func (m *Map[K, V]) loadOrCompute(fn string, key K, f func() (V, error)) (value V, loaded bool, err error) {
	st := m.state()
	h := st.hasher.Hash(key)
	if v, ok, _ := st.lookup(h, key); ok {
		return v, true, nil
	}
	var w writer[K, V]
	defer w.close()
	st.open(&w, fn, key, h, hint[K, V]{})
	if w.found() {
		return w.value(), true, nil
	}
	v, err := f()
	if err != nil {
		return value, false, err
	}
	if err := w.put(v, st.entry(key, v)); err != nil {
		panic(err)
	}
	return v, false, nil
}
