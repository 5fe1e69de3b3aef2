package stress

import (
	"sync"
	"sync/atomic"
)

// shardedMap is a correct Map with Clear: Go maps in shards, each under its
// own mutex, that grow and shrink as xsync's and cmap's tables do, by
// rebuilding a shard's map under its lock. The broken maps with a Clear
// embed it and break one thing each.
type shardedMap struct {
	shards [shardCount]shard
	// growing counts the rebuilds in progress, for the broken Clear that
	// gives up when it meets one.
	growing atomic.Int32
}

const shardCount = 16

// shard is one shard: m and its capacity, under mu.
type shard struct {
	mu  sync.Mutex
	m   map[uint64]uint64
	cap int // len(m) stays within (cap/4, cap] but for cap at its minimum
}

const shardMinCap = 8

func newShardedMap() *shardedMap {
	s := new(shardedMap)
	for i := range s.shards {
		s.shards[i].m = make(map[uint64]uint64, shardMinCap)
		s.shards[i].cap = shardMinCap
	}
	return s
}

func (s *shardedMap) shard(k uint64) *shard { return &s.shards[mix64(k)%shardCount] }

// locked runs f on k's shard under its lock, then grows or shrinks the
// shard if it is out of bounds.
func (s *shardedMap) locked(k uint64, f func(m map[uint64]uint64)) {
	sh := s.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	f(sh.m)
	switch n := len(sh.m); {
	case n > sh.cap:
		s.rebuildLocked(sh, 2*sh.cap)
	case n < sh.cap/4 && sh.cap > shardMinCap:
		s.rebuildLocked(sh, sh.cap/2)
	}
}

// rebuildLocked copies sh's map into a new one of capacity c.
func (s *shardedMap) rebuildLocked(sh *shard, c int) {
	s.growing.Add(1)
	defer s.growing.Add(-1)
	m := make(map[uint64]uint64, c)
	for k, v := range sh.m {
		m[k] = v
	}
	sh.m, sh.cap = m, c
}

func (s *shardedMap) Load(k uint64) (v uint64, ok bool) {
	s.locked(k, func(m map[uint64]uint64) { v, ok = m[k] })
	return v, ok
}

func (s *shardedMap) Store(k, v uint64) { s.locked(k, func(m map[uint64]uint64) { m[k] = v }) }

func (s *shardedMap) LoadOrStore(k, v uint64) (a uint64, loaded bool) {
	s.locked(k, func(m map[uint64]uint64) {
		if a, loaded = m[k]; !loaded {
			m[k], a = v, v
		}
	})
	return a, loaded
}

func (s *shardedMap) LoadAndDelete(k uint64) (v uint64, ok bool) {
	s.locked(k, func(m map[uint64]uint64) {
		v, ok = m[k]
		delete(m, k)
	})
	return v, ok
}

func (s *shardedMap) Delete(k uint64) { s.locked(k, func(m map[uint64]uint64) { delete(m, k) }) }

func (s *shardedMap) Swap(k, v uint64) (p uint64, ok bool) {
	s.locked(k, func(m map[uint64]uint64) {
		p, ok = m[k]
		m[k] = v
	})
	return p, ok
}

func (s *shardedMap) CompareAndSwap(k, old, new uint64) (ok bool) {
	s.locked(k, func(m map[uint64]uint64) {
		if v, found := m[k]; found && v == old {
			m[k], ok = new, true
		}
	})
	return ok
}

func (s *shardedMap) CompareAndDelete(k, old uint64) (ok bool) {
	s.locked(k, func(m map[uint64]uint64) {
		if v, found := m[k]; found && v == old {
			delete(m, k)
			ok = true
		}
	})
	return ok
}

// Range visits each shard's entries as of one instant, shard after shard:
// sync.Map's promise, key by key.
func (s *shardedMap) Range(f func(k, v uint64) bool) {
	for i := range s.shards {
		for _, e := range s.shards[i].entries() {
			if !f(e.k, e.v) {
				return
			}
		}
	}
}

func (sh *shard) entries() []kv {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	es := make([]kv, 0, len(sh.m))
	for k, v := range sh.m {
		es = append(es, kv{k, v})
	}
	return es
}

// Clear empties every shard with all the shard locks held at once: one
// instant.
func (s *shardedMap) Clear() {
	for i := range s.shards {
		s.shards[i].mu.Lock()
		defer s.shards[i].mu.Unlock()
	}
	for i := range s.shards {
		s.shards[i].emptyLocked()
	}
}

func (sh *shard) emptyLocked() {
	sh.m, sh.cap = make(map[uint64]uint64, shardMinCap), shardMinCap
}

// clearShardByShard empties the shards one at a time, each under its own
// lock: no operation on one key sees a Clear half done, but one that
// stores a key in a shard already emptied and then one in a shard not yet
// emptied sees the later key removed and the earlier one kept.
type clearShardByShard struct{ *shardedMap }

func (c clearShardByShard) Clear() {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		sh.emptyLocked()
		sh.mu.Unlock()
	}
}

// clearSkippedOnGrow does nothing when it meets a shard being rebuilt, as
// xsync v4.5.0's Map does when its Clear meets a resize.
type clearSkippedOnGrow struct{ *shardedMap }

func (c clearSkippedOnGrow) Clear() {
	if c.growing.Load() > 0 {
		return
	}
	c.shardedMap.Clear()
}

// checkThenAct is a LoadOrStore that is a plain Load then Store, with
// nothing to widen the window between them: two goroutines can both find
// the key absent and both store. It wraps a correct map of either kind.
type checkThenAct struct{ Map }

func (c checkThenAct) LoadOrStore(k, v uint64) (uint64, bool) {
	if old, ok := c.Load(k); ok {
		return old, true
	}
	c.Store(k, v)
	return v, false
}

// checkThenActClear is checkThenAct over a map with Clear, which it keeps.
type checkThenActClear struct {
	checkThenAct
	clearer
}
