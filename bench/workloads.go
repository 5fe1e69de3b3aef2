package main

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// workloadKind says how a workload is measured and reported.
type workloadKind int

const (
	kindThroughput workloadKind = iota // timed mix of Load/Store/Delete
	kindGrow                           // insert N keys into an empty map
	kindMemory                         // heap per entry, before and after deletes
	kindAllocs                         // allocations per single operation
	kindSnapshot                       // cmap.Map.Snapshot under writers
	kindCache                          // a cache in front of a slow backend (cache.go)
	kindWordcount                      // counting words of a Zipf stream (wordcount.go)
)

type workload struct {
	name string
	kind workloadKind
	desc string
	// Throughput workloads draw keys from [0, span×N) and pick Load with
	// probability load, Store with probability store, Delete otherwise.
	span        int
	load, store float64
	// oneSegment: cmap is built WithSegments(1), so that every writer
	// contends for the same segment; the peers are built as usual. It is
	// the contention benchmark a 2-core machine can show, and -full runs
	// it at the smallest N only.
	oneSegment bool
}

var workloads = []*workload{
	{name: "load-hit", kind: kindThroughput, span: 1, load: 1,
		desc: "100% Load of present keys, pre-filled with N"},
	{name: "mix-99", kind: kindThroughput, span: 2, load: 0.99, store: 0.005,
		desc: "Load/Store/Delete 99/0.5/0.5 over 2N keys (half the loads miss), pre-filled with N"},
	{name: "mix-90", kind: kindThroughput, span: 2, load: 0.90, store: 0.05,
		desc: "Load/Store/Delete 90/5/5 over 2N keys (half the loads miss), pre-filled with N"},
	{name: "mix-75", kind: kindThroughput, span: 2, load: 0.75, store: 0.125,
		desc: "Load/Store/Delete 75/12.5/12.5 over 2N keys (half the loads miss), pre-filled with N"},
	{name: "mix-50", kind: kindThroughput, span: 2, load: 0.50, store: 0.25,
		desc: "Load/Store/Delete 50/25/25 over 2N keys (half the loads miss), pre-filled with N"},
	{name: "contend-1seg", kind: kindThroughput, span: 2, load: 0.50, store: 0.25, oneSegment: true,
		desc: "mix-50 with cmap built WithSegments(1): every writer of cmap contends for one segment (the peers as usual)"},
	{name: "grow", kind: kindGrow,
		desc: "Store N distinct keys into an empty map (no presize), keys split between the goroutines"},
	{name: "memory", kind: kindMemory,
		desc: "Live heap (HeapAlloc after runtime.GC) per entry after N Stores, and after deleting 90%; time of a forced runtime.GC() with the full map live (the shortest of 7), and the map's share of it: that time less the same time just before the map was made"},
	{name: "allocs", kind: kindAllocs,
		desc: "Allocations of one operation on a map of N keys, from one goroutine (MemStats deltas)"},
	{name: "snapshot", kind: kindSnapshot,
		desc: "Snapshot() of a pre-filled map under writers (Store of present keys); writes/s in the 10ms after vs the 10ms before"},
	{name: "cache", kind: kindCache,
		desc: "A cache of N keys in front of a 1ms backend: 1 request in 64 asks for a new key (4 requests in a row for the same one), each map with its own idiom (cmap and xsync v4: LoadOrCompute; sync.Map: Load, backend, LoadOrStore)"},
	{name: "wordcount", kind: kindWordcount,
		desc: "Count the words of a Zipf stream (s=1.1) over N/5 distinct words into an empty map, one read-modify-write per word (cmap and xsync v4: Compute(word, n+1); sync.Map: Load and CompareAndSwap/LoadOrStore; map+RWMutex: m[word]++ under the write lock)"},
}

func lookupWorkload(name string) *workload {
	for _, w := range workloads {
		if strings.EqualFold(w.name, name) {
			return w
		}
	}
	return nil
}

func workloadNames() []string {
	names := make([]string, len(workloads))
	for i, w := range workloads {
		names[i] = w.name
	}
	return names
}

// thresholds returns the Load and Store thresholds against which the low
// 32 bits of a PRNG output are compared.
func (w *workload) thresholds() (load, store uint64) {
	load = uint64(w.load * (1 << 32))
	store = load + uint64(w.store*(1<<32))
	return load, store
}

// batch is how many operations a worker runs between looks at the stop flag.
const batch = 128

// opLoop is the inner loop of every throughput workload, identical for
// every map: one PRNG step picks the key (top 32 bits) and the operation
// (low 32 bits), then one interface call.
func opLoop[K comparable](m benchMap[K], keys []K, span, loadThr, storeThr uint64, r *rng, stop *atomic.Bool) (ops, sink uint64) {
	s := *r
	for !stop.Load() {
		for range batch {
			x := s.next()
			k := keys[reduce(x, span)]
			if u := x & 0xffffffff; u < loadThr {
				if v, ok := m.Load(k); ok {
					sink += v
				}
			} else if u < storeThr {
				m.Store(k, x)
			} else {
				m.Delete(k)
			}
		}
		ops += batch
	}
	*r = s
	return ops, sink
}

// padded keeps per-goroutine results on their own cache lines.
type padded struct {
	ops, sink uint64
	_         [48]byte
}

// runResult is one timed section.
type runResult struct {
	ops     uint64
	elapsed time.Duration
	mallocs uint64 // MemStats.Mallocs delta over the timed section
	bytes   uint64 // MemStats.TotalAlloc delta
}

func (r runResult) opsPerSec() float64   { return float64(r.ops) / r.elapsed.Seconds() }
func (r runResult) allocsPerOp() float64 { return float64(r.mallocs) / float64(r.ops) }

// timedRun runs len(states) goroutines of opLoop on m for about d. The
// goroutines are started before the clock and wait on a barrier; elapsed is
// wall time from releasing them until the last one has stopped, so every
// counted operation happened inside it. Each goroutine's PRNG state carries
// over to the next run.
func timedRun[K comparable](m benchMap[K], keys []K, w *workload, n int, states []rng, d time.Duration) runResult {
	span := uint64(w.span * n)
	loadThr, storeThr := w.thresholds()
	var stop atomic.Bool
	start := make(chan struct{})
	res := make([]padded, len(states))
	var wg sync.WaitGroup
	for i := range states {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res[i].ops, res[i].sink = opLoop(m, keys, span, loadThr, storeThr, &states[i], &stop)
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
	return runResult{ops: total, elapsed: elapsed,
		mallocs: ms1.Mallocs - ms0.Mallocs, bytes: ms1.TotalAlloc - ms0.TotalAlloc}
}

// prefill stores keys [0, n) in order, value i.
func prefill[K comparable](m benchMap[K], keys []K, n int) {
	for i, k := range keys[:n] {
		m.Store(k, uint64(i))
	}
}

// throughput measures one map at one GOMAXPROCS and goroutine count: a
// warm-up, then reps timed runs; it returns the run with the median ops/s.
func throughput[K comparable](m benchMap[K], keys []K, w *workload, n, goroutines int, o *options) runResult {
	states := make([]rng, goroutines)
	for i := range states {
		states[i] = newRNG(o.seed, i)
	}
	if o.warmup > 0 {
		timedRun(m, keys, w, n, states, o.warmup)
	}
	runs := make([]runResult, o.reps)
	for i := range runs {
		runs[i] = timedRun(m, keys, w, n, states, o.duration)
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
	return runs[len(runs)/2]
}

// harnessOverhead measures the harness alone (mix-90 on a map that does
// nothing) from one goroutine: the share of every ns/op that is not the
// map's.
func harnessOverhead(o *options) float64 {
	keys := u64Keys(2000)
	states := []rng{newRNG(o.seed, 0)}
	w := lookupWorkload("mix-90")
	d := min(o.duration, 100*time.Millisecond)
	timedRun[uint64](nopMap[uint64]{}, keys, w, 1000, states, d/4)
	var best float64
	for range 3 {
		r := timedRun[uint64](nopMap[uint64]{}, keys, w, 1000, states, d/3)
		if ns := 1e9 / r.opsPerSec(); best == 0 || ns < best {
			best = ns
		}
	}
	return best
}

// growResult is one insertion of N keys into an empty map.
type growResult struct {
	elapsed time.Duration
	mallocs uint64
}

// growRun stores keys [0, n) into a new map of im from goroutines
// goroutines, each taking a contiguous share. If lat is non-nil, lat[g]
// receives the latency of each Store of goroutine g, measured as the
// difference between consecutive time.Now calls, so every sample includes
// one time.Now and the loop (about timerOverhead).
func growRun[K comparable](im *impl, keys []K, n, goroutines int, lat [][]int64) growResult {
	m := newMapOf[K](im)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range goroutines {
		lo, hi := share(g, goroutines, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if lat == nil {
				for i := lo; i < hi; i++ {
					m.Store(keys[i], uint64(i))
				}
				return
			}
			l := lat[g][:hi-lo]
			prev := time.Now()
			for i := lo; i < hi; i++ {
				m.Store(keys[i], uint64(i))
				now := time.Now()
				l[i-lo] = int64(now.Sub(prev))
				prev = now
			}
		}()
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	runtime.ReadMemStats(&ms1)
	runtime.KeepAlive(m)
	return growResult{elapsed: elapsed, mallocs: ms1.Mallocs - ms0.Mallocs}
}

// growLatencyBuffers allocates the per-goroutine latency buffers of growRun.
func growLatencyBuffers(n, goroutines int) [][]int64 {
	lat := make([][]int64, goroutines)
	for g := range lat {
		lo, hi := share(g, goroutines, n)
		lat[g] = make([]int64, hi-lo)
	}
	return lat
}

// share returns the keys [lo, hi) that goroutine g of goroutines inserts
// in grow (int64 arithmetic: g×n overflows int on 32-bit platforms).
func share(g, goroutines, n int) (lo, hi int) {
	return int(int64(g) * int64(n) / int64(goroutines)), int(int64(g+1) * int64(n) / int64(goroutines))
}

// timerOverhead returns the median difference between consecutive
// time.Now calls in the loop shape growRun uses: the part of every latency
// sample that is the clock, not the map.
func timerOverhead() time.Duration {
	const samples = 20000
	l := make([]int64, samples)
	prev := time.Now()
	for i := range l {
		now := time.Now()
		l[i] = int64(now.Sub(prev))
		prev = now
	}
	slices.Sort(l)
	return time.Duration(l[len(l)/2])
}

// memResult is the memory workload for one map.
type memResult struct {
	before, full, afterDelete uint64 // HeapAlloc after runtime.GC
	// objects is the growth of HeapObjects from before the map was made
	// to the full map (after runtime.GC): the objects the GC tracks for it.
	objects    int64
	n, deleted int
	// gc is the time of a forced runtime.GC() (gcTime) with the full map
	// live: what every GC cycle of a program holding the map pays to mark
	// it (nothing for pointer-free memory, which is never scanned), plus
	// what it pays for the rest of the heap (the harness's key set and
	// the runtime's own work), which gcBase, the same time measured just
	// before the map was made, is.
	gc, gcBase time.Duration
	// layout after filling and after deleting, for maps that are describers.
	layoutFull, layoutAfter string
}

// memoryRun fills a new map of im with keys [0, n), then deletes the first
// 90% of them, reading the live heap after a GC at each step.
func memoryRun[K comparable](im *impl, keys []K, n int) memResult {
	var objs uint64
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		objs = ms.HeapObjects
		return ms.HeapAlloc
	}
	keys = keys[:n]
	r := memResult{n: n, deleted: n * 9 / 10}
	r.before = heap()
	objs0 := objs
	r.gcBase = gcTime()
	m := newMapOf[K](im)
	prefill(m, keys, n)
	r.full = heap()
	r.objects = int64(objs) - int64(objs0)
	r.gc = gcTime()
	d, _ := m.(describer)
	if d != nil {
		r.layoutFull = d.describe()
	}
	for _, k := range keys[:r.deleted] {
		m.Delete(k)
	}
	r.afterDelete = heap()
	if d != nil {
		r.layoutAfter = d.describe()
	}
	runtime.KeepAlive(m)
	return r
}

// gcTime returns the shortest duration of 7 forced runtime.GC() calls:
// other work on the machine only ever adds to a GC's time, so the
// shortest is the steadiest estimate of what the heap costs to collect.
func gcTime() time.Duration {
	var ds [7]time.Duration
	for i := range ds {
		t0 := time.Now()
		runtime.GC()
		ds[i] = time.Since(t0)
	}
	return slices.Min(ds[:])
}

// gcShare is the map's share of a forced runtime.GC()'s time: gc less
// gcBase, or 0 when noise puts it below.
func (r memResult) gcShare() time.Duration { return max(r.gc-r.gcBase, 0) }

// sub returns a-b, or 0 when GC noise makes the heap shrink below before.
func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

func (r memResult) bytesPerEntry() float64 { return float64(sub(r.full, r.before)) / float64(r.n) }
func (r memResult) bytesAfterDelete() uint64 {
	return sub(r.afterDelete, r.before)
}
func (r memResult) returned() uint64 { return sub(r.full, r.afterDelete) }

// returnedFraction is the share of the memory of the deleted entries that
// the map gave back: returned ÷ (90% of the full map's bytes).
func (r memResult) returnedFraction() float64 {
	freed := float64(sub(r.full, r.before)) * float64(r.deleted) / float64(r.n)
	if freed == 0 {
		return 0
	}
	return float64(r.returned()) / freed
}

// allocOp is one operation of the allocs workload.
type allocOp struct {
	name          string
	allocs, bytes float64
}

// allocsRun measures, from one goroutine, allocations per Load of a
// present key, Store of a present key, Delete of a missing key and Store of
// a new key (amortised over N new keys, so table growth is included) on a
// map of im pre-filled with keys [0, n).
func allocsRun[K comparable](im *impl, keys []K, n int) []allocOp {
	m := newMapOf[K](im)
	prefill(m, keys, n)
	count := max(n, 100_000)
	measure := func(name string, ops int, f func(i int)) allocOp {
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		for i := range ops {
			f(i)
		}
		runtime.ReadMemStats(&ms1)
		return allocOp{name: name,
			allocs: float64(ms1.Mallocs-ms0.Mallocs) / float64(ops),
			bytes:  float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(ops)}
	}
	var sink uint64
	out := []allocOp{
		measure("load", count, func(i int) { v, _ := m.Load(keys[i%n]); sink += v }),
		measure("store-existing", count, func(i int) { m.Store(keys[i%n], uint64(i)|1<<40) }),
		measure("delete-missing", count, func(i int) { m.Delete(keys[n+i%n]) }),
	}
	// Store-new stores keys [n, 2n), each once: the map doubles.
	out = append(out, measure("store-new", n, func(i int) { m.Store(keys[n+i], uint64(i)|1<<40) }))
	_ = sink
	return out
}

// snapResult is the snapshot workload at one GOMAXPROCS.
type snapResult struct {
	nsPerSnapshot, before, after, ratio float64 // medians over iterations
	iterations                          int
}

// snapshotRun takes snapshots of m (pre-filled with keys [0, n)) while
// goroutines writers Store present keys, for about budget. Each iteration
// measures write throughput over a window before the snapshot and over the
// same window right after it, while the snapshot is still alive.
func snapshotRun[K comparable](m benchMap[K], keys []K, n, writers int, o *options, budget time.Duration) snapResult {
	const window = 10 * time.Millisecond
	sn := m.(snapshotter)
	var stop atomic.Bool
	counts := make([]struct {
		n atomic.Uint64
		_ [56]byte
	}, writers)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRNG(o.seed, g)
			var c uint64
			for !stop.Load() {
				for range 64 {
					x := r.next()
					m.Store(keys[reduce(x, uint64(n))], x)
				}
				c += 64
				counts[g].n.Store(c)
			}
		}()
	}
	sample := func() (uint64, time.Time) {
		var c uint64
		for i := range counts {
			c += counts[i].n.Load()
		}
		return c, time.Now()
	}
	rate := func(c0 uint64, t0 time.Time, c1 uint64, t1 time.Time) float64 {
		return float64(c1-c0) / t1.Sub(t0).Seconds()
	}
	time.Sleep(min(o.warmup, 50*time.Millisecond))
	var ns, before, after, ratio []float64
	deadline := time.Now().Add(budget)
	for len(ns) < 5 || time.Now().Before(deadline) {
		c0, t0 := sample()
		time.Sleep(window)
		c1, t1 := sample()
		ts := time.Now()
		s := sn.snapshot()
		dt := time.Since(ts)
		c2, t2 := sample()
		time.Sleep(window)
		c3, t3 := sample()
		runtime.KeepAlive(s)
		b, a := rate(c0, t0, c1, t1), rate(c2, t2, c3, t3)
		ns = append(ns, float64(dt.Nanoseconds()))
		before = append(before, b)
		after = append(after, a)
		if b > 0 {
			ratio = append(ratio, a/b)
		}
	}
	stop.Store(true)
	wg.Wait()
	return snapResult{nsPerSnapshot: median(ns), before: median(before), after: median(after),
		ratio: median(ratio), iterations: len(ns)}
}
