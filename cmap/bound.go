package cmap

import (
	"errors"
	"fmt"

	"github.com/segmap/segmap/internal/table"
)

// ErrFull is the error of an insert into a map that holds its maximum
// number of entries under [WithMaxLen] with [RejectNew]: [Map.TryStore]
// returns it, and the other writes panic with an error wrapping it. Test
// for it with [errors.Is].
var ErrFull = errors.New("cmap: map is full")

// TryStore sets the value for key, like [Map.Store], unless that would
// insert a new key into a map bounded with [WithMaxLen] and [RejectNew]
// that holds its maximum number of entries: then it changes nothing and
// returns an error wrapping [ErrFull]. The answer is exact: ErrFull means
// that the map held its maximum, without key, at one instant during the
// call (to make sure, a TryStore that finds the map full checks again with
// every segment lock held). Updating an existing key always succeeds.
//
// On a map bounded with [EvictOldest] it evicts as Store does and returns
// nil; on an unbounded map it is Store and returns nil.
func (m *Map[K, V]) TryStore(key K, value V) error {
	st := m.state()
	if st.extra == nil {
		m.swap("TryStore", key, value)
		return nil
	}
	_, err := st.writeExtra("TryStore", key, st.hasher.Hash(key), func(V, bool) (V, ComputeOp) {
		return value, UpdateOp
	})
	return err
}

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

// result is what a write of a map with extra features did.
type result[V any] struct {
	old    V         // the value found, if loaded
	loaded bool      // the key was present when decide ran
	value  V         // the value decide returned
	op     ComputeOp // decide's op (CancelOp if it could not be done)
}

// writeExtra is every write of a map with extra features (insertion order,
// a bound): with key's segment locked, it calls decide once with the
// current value (or the zero value and false) and carries out decide's op.
// If the map is bounded and key is absent, it takes a reservation before
// calling decide; if the map is full, it starts again with every segment
// lock held (writeAll), where a new key evicts the oldest entry or fails
// with ErrFull, which writeExtra returns. fn names the method for panics.
//
// decide runs with the lock of key's segment, or every segment lock, held;
// if it panics, the map is unchanged and every lock is released.
func (st *state[K, V]) writeExtra(fn string, key K, h uint64, decide func(old V, loaded bool) (V, ComputeOp)) (result[V], error) {
	if r, ok := st.writeSegment(fn, key, h, decide); ok {
		return r, nil
	}
	return st.writeAll(fn, key, h, decide)
}

// writeSegment is writeExtra's usual path, under key's segment lock; it
// reports false, having done nothing and called nothing, if key is absent
// and the map full.
func (st *state[K, V]) writeSegment(fn string, key K, h uint64, decide func(V, bool) (V, ComputeOp)) (r result[V], done bool) {
	x := st.extra
	s, i := st.seg(h)
	reserved := false
	st.locks.Lock(i)
	defer func() {
		if reserved {
			x.release() // decide did not insert, or panicked
		}
		st.locks.Unlock(i)
	}()
	t := s.table.Load()
	pos, e, free, freeEmpty := t.Locate(h, key)
	if e != nil {
		r.old, r.loaded = e.Value, true
	} else if x.maxLen > 0 {
		if !x.reserve() {
			return r, false
		}
		reserved = true
	}
	r.value, r.op = decide(r.old, r.loaded)
	if st.applyLocked(fn, s, t, h, key, e != nil, pos, free, freeEmpty, r.value, r.op) {
		reserved = false // the insert took it
	}
	return r, true
}

// writeAll is writeExtra's path for a full bounded map: with every segment
// lock held, the count of entries is exact. If key is still absent and
// the map still full, and decide asks to store, an EvictOldest map evicts
// its oldest entry and inserts key, and a RejectNew map returns ErrFull.
// The evicted entry is handed to the OnEvict function after every lock is
// released.
func (st *state[K, V]) writeAll(fn string, key K, h uint64, decide func(V, bool) (V, ComputeOp)) (r result[V], err error) {
	x := st.extra
	s, _ := st.seg(h)
	var evicted *table.Entry[K, V]
	func() {
		reserved := false
		st.locks.LockAll()
		defer func() {
			if reserved {
				x.release()
			}
			st.locks.UnlockAll()
		}()
		t := s.table.Load()
		pos, e, free, freeEmpty := t.Locate(h, key)
		full := false
		if e != nil {
			r.old, r.loaded = e.Value, true
		} else if x.reserve() {
			reserved = true
		} else {
			full = true // exactly maxLen entries, at this instant
		}
		r.value, r.op = decide(r.old, r.loaded)
		if full && r.op == UpdateOp {
			if x.policy == RejectNew {
				r.op, err = CancelOp, x.errFull(fn)
				return
			}
			// EvictOldest. The eviction gives its reservation back, and
			// nobody can take it: every segment lock is held.
			evicted = st.popOldestLocked()
			reserved = x.reserve()
			if evicted == nil || !reserved {
				panic("cmap: internal error: full map with nothing to evict")
			}
			t = s.table.Load() // the delete may have rebuilt it
			pos, _, free, freeEmpty = t.Locate(h, key)
		}
		if st.applyLocked(fn, s, t, h, key, e != nil, pos, free, freeEmpty, r.value, r.op) {
			reserved = false
		}
	}()
	if evicted != nil && x.onEvict != nil {
		x.onEvict(evicted.Key, evicted.Value)
	}
	return r, err
}

// applyLocked carries out op for key, located in t (the segment's current
// table) at pos if found, else to be inserted at free, with value. It
// reports whether it inserted a new key. The segment lock must be held;
// an insert into a bounded map must hold a reservation.
func (st *state[K, V]) applyLocked(fn string, s *segment[K, V], t *table.Table[K, V], h uint64, key K, found bool, pos, free table.Pos, freeEmpty bool, value V, op ComputeOp) (inserted bool) {
	switch op {
	case UpdateOp:
		st.publishLocked(s, t, h, &table.Entry[K, V]{Key: key, Value: value}, pos, free, freeEmpty)
		return !found
	case DeleteOp:
		if found {
			st.deleteLocked(s, t, h, key, pos)
		}
	case CancelOp:
	default:
		panic(fmt.Sprintf("cmap: %s: invalid ComputeOp %d", fn, op))
	}
	return false
}

// The entry points of the write methods on a map with extra features.

func (st *state[K, V]) swapExtra(fn string, key K, value V) (previous V, loaded bool) {
	r, err := st.writeExtra(fn, key, st.hasher.Hash(key), func(V, bool) (V, ComputeOp) {
		return value, UpdateOp
	})
	if err != nil {
		panic(err)
	}
	return r.old, r.loaded
}

func (st *state[K, V]) loadOrStoreExtra(key K, h uint64, value V) (actual V, loaded bool) {
	r, err := st.writeExtra("LoadOrStore", key, h, func(old V, loaded bool) (V, ComputeOp) {
		if loaded {
			return old, CancelOp
		}
		return value, UpdateOp
	})
	if err != nil {
		panic(err)
	}
	return r.value, r.loaded
}

func (st *state[K, V]) compareAndSwapExtra(key K, h uint64, old, new V) (swapped bool) {
	r, err := st.writeExtra("CompareAndSwap", key, h, func(cur V, loaded bool) (V, ComputeOp) {
		if loaded && any(cur) == any(old) {
			return new, UpdateOp
		}
		return cur, CancelOp
	})
	if err != nil {
		panic(err) // unreachable: CompareAndSwap never inserts
	}
	return r.op == UpdateOp
}

func (st *state[K, V]) computeExtra(key K, h uint64, f func(old V, loaded bool) (V, ComputeOp)) (actual V, ok bool) {
	r, err := st.writeExtra("Compute", key, h, f)
	if err != nil {
		panic(err)
	}
	switch r.op {
	case UpdateOp:
		return r.value, true
	case DeleteOp:
		return r.old, false
	default:
		return r.old, r.loaded
	}
}

func (st *state[K, V]) loadOrComputeExtra(key K, h uint64, f func() V) (actual V, loaded bool) {
	r, err := st.writeExtra("LoadOrCompute", key, h, func(old V, loaded bool) (V, ComputeOp) {
		if loaded {
			return old, CancelOp
		}
		return f(), UpdateOp
	})
	if err != nil {
		panic(err)
	}
	return r.value, r.loaded
}
