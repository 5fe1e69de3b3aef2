package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// The cache workload: a map in front of a slow backend, the main use of
// LoadOrCompute. Each map does the job with its own idiom, written as a
// user would: cmap and xsync v4 with their LoadOrCompute (xsync v4 runs
// the function with a bucket locked; cmap with no lock, sharing one call
// among the callers of a key), sync.Map with Load, then the backend, then
// LoadOrStore (every concurrent miss of a key calls the backend).

// cacheBackend is how long one backend call takes.
const cacheBackend = time.Millisecond

// cacheMissEvery: one request in cacheMissEvery asks for a key not yet
// cached; cacheShare consecutive such requests (across goroutines) ask
// for the same key, so that callers of one key overlap.
const (
	cacheMissEvery = 64
	cacheShare     = 4
)

// cacher is a map that can serve the cache workload: get returns key's
// value, calling fill (the backend) if it is not cached, and caching its
// result.
type cacher[K comparable] interface {
	get(key K, fill func() uint64) uint64
}

// caches reports whether im's maps implement cacher.
func (im *impl) caches() bool {
	_, ok := im.u64().(cacher[uint64])
	return ok
}

// get implements cacher with cmap's LoadOrCompute.
func (c cmapMap[K]) get(k K, fill func() uint64) uint64 {
	v, _ := c.m.LoadOrCompute(k, fill)
	return v
}

// get implements cacher with xsync v4's LoadOrCompute.
func (x xsync4[K]) get(k K, fill func() uint64) uint64 {
	v, _ := x.m.LoadOrCompute(k, func() (uint64, bool) { return fill(), false })
	return v
}

// get implements cacher with sync.Map's idiom: Load, else compute and
// LoadOrStore, keeping the value stored first.
func (s *syncMap[K]) get(k K, fill func() uint64) uint64 {
	if v, ok := s.m.Load(k); ok {
		return v.(uint64)
	}
	v, _ := s.m.LoadOrStore(k, fill())
	return v.(uint64)
}

// cacheResult is one cache run.
type cacheResult struct {
	requests, misses, calls uint64 // misses: requests of a key not yet cached
	elapsed                 time.Duration
	hitP99, missP99         time.Duration
	hitMax                  time.Duration
}

// cacheRun runs goroutines requesting keys from m (pre-filled with keys
// [0, n), of the 2n in keys) for d: hits of the cached keys, and one
// request in cacheMissEvery for a new key from [n, 2n), the same one for
// cacheShare consecutive misses. Each call of the backend sleeps
// cacheBackend.
func cacheRun[K comparable](m benchMap[K], keys []K, n, goroutines int, seed uint64, d time.Duration) cacheResult {
	c := m.(cacher[K])
	var stop atomic.Bool
	var missSeq, calls atomic.Uint64
	type local struct {
		requests, misses uint64
		hits, miss       []int64
	}
	locals := make([]local, goroutines)
	var wg sync.WaitGroup
	start := time.Now()
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRNG(seed, g)
			l := &locals[g]
			for !stop.Load() {
				x := r.next()
				miss := x%cacheMissEvery == 0
				var k K
				if miss {
					k = keys[n+int(missSeq.Add(1)/cacheShare)%n]
				} else {
					k = keys[reduce(x>>8, uint64(n))]
				}
				t0 := time.Now()
				c.get(k, func() uint64 {
					calls.Add(1)
					time.Sleep(cacheBackend)
					return x
				})
				dt := time.Since(t0).Nanoseconds()
				l.requests++
				if miss {
					l.misses++
					l.miss = append(l.miss, dt)
				} else if l.requests%16 == 0 { // a sample of the hits
					l.hits = append(l.hits, dt)
				}
			}
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	res := cacheResult{elapsed: time.Since(start), calls: calls.Load()}
	var hits, misses []int64
	for _, l := range locals {
		res.requests += l.requests
		res.misses += l.misses
		hits = append(hits, l.hits...)
		misses = append(misses, l.miss...)
	}
	h, mi := summarize(hits), summarize(misses)
	res.hitP99, res.hitMax, res.missP99 = h.p99, h.max, mi.p99
	return res
}
