package main

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	xsyncv4 "github.com/puzpuzpuz/xsync/v4"
)

// The wordcount workload: every goroutine counts words of a Zipf stream
// (s = 1.1) over N/5 distinct words (2e5 at N=1e6), one
// read-modify-write per word, each map with its own idiom: cmap and
// xsync v4 with Compute(word, n+1), sync.Map with Load and then
// CompareAndSwap or LoadOrStore until one succeeds, and map+RWMutex
// with its write lock around m[word]++ (a map+Mutex: no reader takes the
// read lock). The stream of word indexes is drawn before the clock, so
// the PRNG and the Zipf draw are not timed.

// counter is a map that can serve the wordcount workload: add adds 1 to
// key's count.
type counter[K comparable] interface {
	add(key K)
}

// counts reports whether im's maps implement counter.
func (im *impl) counts() bool {
	_, ok := im.u64().(counter[uint64])
	return ok
}

// add implements counter with cmap's Compute.
func (c cmapMap[K]) add(k K) {
	c.m.Compute(k, func(n uint64, _ bool) (uint64, cmapComputeOp) { return n + 1, cmapUpdate })
}

// add implements counter with cmap's Compute (entry layout).
func (c cmapEntries[K]) add(k K) {
	c.m.Compute(k, func(n entryValue, _ bool) (entryValue, cmapComputeOp) {
		return entryValue{v: n.v + 1}, cmapUpdate
	})
}

// add implements counter with xsync v4's Compute.
func (x xsync4[K]) add(k K) {
	x.m.Compute(k, func(n uint64, _ bool) (uint64, xsyncv4.ComputeOp) { return n + 1, xsyncv4.UpdateOp })
}

// add implements counter with sync.Map's idiom: Load, then CompareAndSwap
// (or LoadOrStore for a new word) until one succeeds.
func (s *syncMap[K]) add(k K) {
	for {
		v, ok := s.m.Load(k)
		if !ok {
			if _, loaded := s.m.LoadOrStore(k, uint64(1)); !loaded {
				return
			}
			continue
		}
		if s.m.CompareAndSwap(k, v, v.(uint64)+1) {
			return
		}
	}
}

// add implements counter with the write lock: in this workload map+RWMutex
// is a map+Mutex.
func (r *rwMap[K]) add(k K) {
	r.mu.Lock()
	r.m[k]++
	r.mu.Unlock()
}

// add implements counter for the floor (one goroutine).
func (p plainMap[K]) add(k K) { p.m[k]++ }

// wordcountStream is the length of each goroutine's stream of word
// indexes, drawn before the clock and replayed in a loop.
const wordcountStream = 1 << 20

// wordcountWords returns the number of distinct words for N.
func wordcountWords(n int) int { return max(n/5, 2) }

// wordcountStreams returns one Zipf stream of indexes in [0, words) per
// goroutine.
func wordcountStreams(seed uint64, goroutines, words int) [][]uint32 {
	out := make([][]uint32, goroutines)
	for g := range out {
		z := rand.NewZipf(rand.New(rand.NewPCG(seed, uint64(g))), 1.1, 1, uint64(words-1))
		s := make([]uint32, wordcountStream)
		for i := range s {
			s[i] = uint32(z.Uint64())
		}
		out[g] = s
	}
	return out
}

// wordcountTimed runs one goroutine per stream of counting on m for
// about d, as timedRun does; pos carries each goroutine's place in its
// stream over to the next run.
func wordcountTimed[K comparable](m counter[K], keys []K, streams [][]uint32, pos []int, d time.Duration) runResult {
	var stop atomic.Bool
	start := make(chan struct{})
	res := make([]padded, len(streams))
	var wg sync.WaitGroup
	for i := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, p := streams[i], pos[i]
			var ops uint64
			for !stop.Load() {
				for range batch {
					m.add(keys[s[p]])
					p = (p + 1) & (wordcountStream - 1)
				}
				ops += batch
			}
			res[i].ops, pos[i] = ops, p
		}()
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	t0 := time.Now()
	close(start)
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(t0)
	runtime.ReadMemStats(&ms1)
	var total uint64
	for _, r := range res {
		total += r.ops
	}
	return runResult{ops: total, elapsed: elapsed, mallocs: ms1.Mallocs - ms0.Mallocs, bytes: ms1.TotalAlloc - ms0.TotalAlloc}
}

// wordcountRun measures one map (fresh, empty) at one GOMAXPROCS and
// goroutine count: a warm-up (which also inserts the frequent words),
// then reps timed runs; it returns the run with the median ops/s.
func wordcountRun[K comparable](im *impl, keys []K, n, goroutines int, o *options) runResult {
	m := newMapOf[K](im).(counter[K])
	streams := wordcountStreams(o.seed, goroutines, wordcountWords(n))
	pos := make([]int, goroutines)
	if o.warmup > 0 {
		wordcountTimed(m, keys, streams, pos, o.warmup)
	}
	runs := make([]runResult, o.reps)
	for i := range runs {
		runs[i] = wordcountTimed(m, keys, streams, pos, o.duration)
	}
	slices.SortFunc(runs, func(a, b runResult) int {
		switch x, y := a.opsPerSec(), b.opsPerSec(); {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	runtime.KeepAlive(m)
	return runs[len(runs)/2]
}
