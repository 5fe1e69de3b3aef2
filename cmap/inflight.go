package cmap

import (
	"sync"
	"sync/atomic"
)

// Calls in flight. LoadOrCompute and LoadOrTryCompute run their f under no
// lock of the map. The callers of one absent key share one call of f: the
// first (the leader) registers a call for the key and runs its f; the
// others find the call registered and wait for its outcome. For a key k of
// segment i, in three steps:
//
//  1. join, under segment i's lock: if k is present, it is loaded (no call
//     at all); else if a call for k is registered, the caller waits for it;
//     else the caller registers a new call and leads it. Since both checks
//     are made under the lock under which a leader's insert also removes
//     its call, a caller never sees k absent and no call in flight while
//     a leader's value is being stored.
//  2. the leader runs f with no lock held.
//  3. on success, the leader inserts f's value through the write engine
//     (open, put; so bounds, eviction, insertion order and OnEvict work as
//     for LoadOrStore), unless another writer stored k while f ran: then
//     it loads that value and discards f's. Under the same lock (the
//     write's) it removes the call from the registry, and after the write
//     it hands the outcome to the waiters. On an error, or if f panics or
//     exits its goroutine, it takes segment i's lock only to remove the
//     call.
//
// Linearization: a caller that loads k in step 1 takes effect there; a
// leader that stores or loads in step 3 takes effect at that write's
// instant, and its waiters just after it (it falls within each waiter's
// call, which began before the call ended); an error takes effect at the
// instant its caller found k absent in step 1.
//
// The registry costs nothing on the path of a present key (the lock-free
// lookup answers before step 1), and allocates one call per miss.

// callOutcome is what the waiters of a call do once it has ended.
type callOutcome uint8

const (
	// callPending: f, or the insert, has not ended.
	callPending callOutcome = iota
	// callLoaded: value is key's value at the instant the call ended
	// (stored by the leader, or by another writer while f ran); the
	// waiters return it with loaded = true.
	callLoaded
	// callFailed: f returned err; nothing was stored. LoadOrTryCompute's
	// waiters return err; LoadOrCompute's, which cannot return an error,
	// start over.
	callFailed
	// callFull: f succeeded but the map is bounded with RejectNew and was
	// full at the insert; nothing was stored. The waiters fail as their
	// own insert would have: LoadOrTryCompute's return an error wrapping
	// ErrFull, LoadOrCompute's panic with one.
	callFull
	// callAbandoned: f panicked or exited its goroutine (or the insert
	// panicked); nothing was stored. The waiters start over: each loads key
	// if it is present by then, or one of them runs its own f.
	callAbandoned
)

// call is one f in flight for a key. The leader sets outcome, value and
// err before done is released, and nobody writes them afterwards; the
// waiters read them after done.Wait returns.
type call[V any] struct {
	done    sync.WaitGroup // 1 while f runs
	outcome callOutcome
	value   V
	err     error
	// waiters counts the callers that joined the call (tests read it),
	// under the lock of key's segment.
	waiters int
}

// inflight is the registry of calls in flight of one map: for each
// segment, a Go map from key to its call, read and written only under
// that segment's lock. Keys that are not equal to themselves (NaN) are
// never registered: no lookup could find them, so every such call leads.
type inflight[K comparable, V any] struct {
	// shards is nil until the map's first miss; then it has one element
	// per segment, each nil until the segment's first miss. Only the
	// elements are written, under their segment's lock.
	shards atomic.Pointer[[]map[K]*call[V]]
}

// callsLocked returns segment i's registry, making it if needed. Segment
// i's lock must be held.
func (st *state[K, V]) callsLocked(i int) map[K]*call[V] {
	p := st.calls.shards.Load()
	if p == nil {
		s := make([]map[K]*call[V], len(st.segs))
		if !st.calls.shards.CompareAndSwap(nil, &s) {
			p = st.calls.shards.Load()
		} else {
			p = &s
		}
	}
	m := (*p)[i]
	if m == nil {
		m = make(map[K]*call[V])
		(*p)[i] = m
	}
	return m
}

// loadOrComputeSlow is LoadOrTryCompute of a key that the lock-free lookup
// did not find; fn names the method and try reports whether its caller
// can return f's errors (LoadOrTryCompute). An insert into a full
// RejectNew map fails with an error wrapping ErrFull, in the caller that
// called f and in those that waited for it: returned if try, else
// panicked.
func (st *state[K, V]) loadOrComputeSlow(fn string, key K, h uint64, f func() (V, error), try bool) (value V, loaded bool, err error) {
	_, i := st.seg(h)
	for {
		c, lead, v, ok := st.join(i, key, h)
		if ok {
			return v, true, nil
		}
		if lead {
			return st.lead(fn, i, key, h, c, f, try)
		}
		c.done.Wait()
		switch c.outcome {
		case callLoaded:
			return c.value, true, nil
		case callFailed:
			if try {
				return value, false, c.err
			}
		case callFull:
			if try {
				return value, false, st.extra.errFull(fn)
			}
			panic(st.extra.errFull(fn))
		}
		// callAbandoned, or a failure LoadOrCompute cannot return: start
		// over.
	}
}

// join is step 1 (see the file comment), under segment i's lock: it
// returns key's value if present (ok), or the call in flight for key, or
// a new call registered for key that the caller leads (lead).
func (st *state[K, V]) join(i int, key K, h uint64) (c *call[V], lead bool, v V, ok bool) {
	st.mus[i].Lock()
	defer st.unlockMu(i)
	// Under the lock no Clear runs (it holds every lock), and no writer
	// of the segment but group-lock writers (grouplock.go); a key they
	// store meanwhile is found by the insert, which loads it then.
	if v, ok, _ = st.lookup(h, key); ok {
		return nil, false, v, true
	}
	if key != key { // NaN: never found, never shared
		c = new(call[V])
		c.done.Add(1)
		return c, true, v, false
	}
	calls := st.callsLocked(i)
	if c = calls[key]; c != nil {
		c.waiters++
		return c, false, v, false
	}
	c = new(call[V])
	c.done.Add(1)
	calls[key] = c
	return c, true, v, false
}

// lead runs steps 2 and 3 (see the file comment) for call c of key, in
// segment i, and ends c whatever happens, even if f panics.
func (st *state[K, V]) lead(fn string, i int, key K, h uint64, c *call[V], f func() (V, error), try bool) (value V, loaded bool, err error) {
	ended := false
	defer func() {
		if ended {
			return
		}
		// f or the insert panicked, or f exited the goroutine; or the
		// OnEvict function panicked after the insert, which stands
		// (outcome set, c already forgotten).
		if c.outcome == callPending {
			st.mus[i].Lock()
			st.forgetLocked(i, key, c)
			st.unlockMu(i)
			c.outcome = callAbandoned
		}
		c.done.Done()
	}()
	v, err := f()
	if err != nil {
		st.mus[i].Lock()
		st.forgetLocked(i, key, c)
		st.unlockMu(i)
		c.outcome, c.err = callFailed, err
		ended = true
		c.done.Done()
		return value, false, err
	}
	value, loaded, err = st.insertComputed(fn, key, h, v, c)
	ended = true
	c.done.Done()
	if err != nil && !try {
		panic(err) // ErrFull, after the waiters were told
	}
	if err != nil {
		return value, false, err
	}
	return value, loaded, nil
}

// insertComputed stores v, the value a call c computed, for key through
// the write engine, or loads key's value if another writer stored key
// while f ran, and sets c's outcome. It removes c from the registry under
// the write's lock.
func (st *state[K, V]) insertComputed(fn string, key K, h uint64, v V, c *call[V]) (value V, loaded bool, err error) {
	if st.glock {
		if value, loaded, ok := st.ginsertComputed(fn, key, h, v, c); ok {
			return value, loaded, nil
		}
	}
	var w writer[K, V]
	defer w.close()
	w.init(st, fn, key, h)
	w.open(hint[K, V]{})
	switch {
	case w.found():
		value, loaded = w.value(), true
		c.outcome, c.value = callLoaded, value
	default:
		if err = w.put(v, st.entry(key, v)); err != nil {
			c.outcome = callFull
		} else {
			value = v
			c.outcome, c.value = callLoaded, v
		}
	}
	st.forgetLocked(w.i, key, c)
	return value, loaded, err
}

// forgetLocked removes call c of key from segment i's registry. Segment
// i's lock must be held.
func (st *state[K, V]) forgetLocked(i int, key K, c *call[V]) {
	if key != key {
		return
	}
	calls := st.callsLocked(i)
	if calls[key] == c {
		delete(calls, key)
	}
}
