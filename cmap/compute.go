package cmap

import (
	"fmt"

	"github.com/segmap/segmap/internal/table"
)

// ComputeOp tells [Map.Compute] what to do with the key.
type ComputeOp int

const (
	// UpdateOp stores the returned value.
	UpdateOp ComputeOp = iota
	// DeleteOp deletes the key.
	DeleteOp
	// CancelOp leaves the map as it was.
	CancelOp
)

// Compute runs f once, atomically for key: f sees the current value (old,
// with loaded true) or the zero value (loaded false), and its op decides
// what happens, with no other write to key in between. It returns
// (newValue, true) after UpdateOp; (current value, true) after CancelOp on
// a present key; (deleted value, false) after DeleteOp on a present key;
// and (zero, false) when the key stays absent. This is the contract of
// xsync v4's Compute.
//
// f runs with the lock of key's segment held: it may Load from m (reads
// take no lock), but must not write to m or call any method of m that
// writes, which could deadlock, and should be quick, since it blocks the
// writers of that segment. On a map bounded by [WithMaxLen] that is full,
// f for an absent key runs with every segment lock held instead (the map
// must evict or refuse atomically with f's decision). If f panics, the
// panic propagates, the key is left as it was and the locks are released.
// Compute panics if f is nil, and on a full [RejectNew] map if f stores a
// new key, with an error wrapping [ErrFull].
func (m *Map[K, V]) Compute(key K, f func(old V, loaded bool) (newValue V, op ComputeOp)) (actual V, ok bool) {
	if f == nil {
		panic("cmap: Compute: nil function")
	}
	st := m.state()
	h := st.hash(key)
	if st.extra != nil {
		return st.computeExtra(key, h, f)
	}
	s, i := st.seg(h)
	mu := st.mus[i]
	mu.Lock()
	defer mu.Unlock()
	t := s.table.Load()
	pos, e, free, freeEmpty := t.Locate(h, key)
	var old V
	if e != nil {
		old = e.Value
	}
	nv, op := f(old, e != nil)
	switch op {
	case UpdateOp:
		st.putLocked(s, t, h, &table.Entry[K, V]{Key: key, Value: nv}, pos, free, freeEmpty)
		return nv, true
	case DeleteOp:
		if e == nil {
			return actual, false
		}
		st.deleteLocked(s, t, h, key, pos)
		return old, false
	case CancelOp:
		return old, e != nil
	default:
		panic(fmt.Sprintf("cmap: Compute: invalid ComputeOp %d", op))
	}
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
// key's segment held, with the same rules as [Map.Compute]'s f: it may
// Load from m but must not write to m. If f panics, the panic propagates,
// nothing is stored and the lock is released. LoadOrCompute panics if f is
// nil.
func (m *Map[K, V]) LoadOrCompute(key K, f func() V) (actual V, loaded bool) {
	if f == nil {
		panic("cmap: LoadOrCompute: nil function")
	}
	st := m.state()
	h := st.hash(key)
	s, i := st.seg(h)
	if e := s.table.Load().Find(h, key); e != nil {
		return e.Value, true
	}
	if st.extra != nil {
		return st.loadOrComputeExtra(key, h, f)
	}
	mu := st.mus[i]
	mu.Lock()
	defer mu.Unlock()
	t := s.table.Load()
	pos, e, free, freeEmpty := t.Locate(h, key)
	if e != nil {
		return e.Value, true
	}
	v := f()
	st.putLocked(s, t, h, &table.Entry[K, V]{Key: key, Value: v}, pos, free, freeEmpty)
	return v, false
}
