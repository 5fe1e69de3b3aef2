package main

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The workloads of the tool as Go benchmarks, named key=value so that
// benchstat can put the maps side by side:
//
//	go test -run '^$' -bench 'Maps/.*/workload=mix-90/keys=u64/n=1e6' -count 10 -cpu 2 ./bench > new.txt
//	benchstat -col /impl new.txt
//
// Concurrent workloads use RunParallel (GOMAXPROCS from -cpu, times
// -oversub goroutines per P); the floor (impl=map) and the single-operation
// benchmarks use b.Loop. Benchmarks that build a 1e6-key map per iteration
// (Grow, Memory) use b.Loop, which never reports a b.N=1 probe, but run one
// -cpu value per invocation anyway: with -cpu 1,2, a benchmark whose single
// operation outlasts -benchtime can report its probe run, taken at the
// GOMAXPROCS the previous benchmark left behind.

var benchOversub = flag.Int("oversub", 1, "goroutines per P in the RunParallel benchmarks (b.SetParallelism)")

var benchKeys = []struct{ name, keys string }{{"u64", "uint64"}, {"str", "string"}}

var benchSizes = []int{1_000, 1_000_000}

// cached keeps the pre-filled map of the last sub-benchmark: RunParallel
// calls the benchmark function once per b.N round, and re-filling 1e6 keys
// each time would dominate the run. Keyed by the benchmark's full name.
var cached struct {
	name string
	m    any
}

func prefilledMap[K comparable](b *testing.B, im *impl, w *workload, keys []K, n int) benchMap[K] {
	if cached.name == b.Name() {
		return cached.m.(benchMap[K])
	}
	cached.name, cached.m = "", nil
	runtime.GC()
	m := newMapFor[K](im, w)
	prefill(m, keys, n)
	cached.name, cached.m = b.Name(), m
	return m
}

// forEach runs f as a sub-benchmark impl=…/<mid>/keys=…/n=… for every map,
// key type and size.
func forEach(b *testing.B, mids []string, f func(b *testing.B, im *impl, mid, keys string, n int)) {
	for _, im := range registry {
		for _, mid := range mids {
			for _, k := range benchKeys {
				for _, n := range benchSizes {
					name := fmt.Sprintf("impl=%s/%s/keys=%s/n=%s", im.id, mid, k.name, fmtN(n))
					b.Run(name, func(b *testing.B) { f(b, im, mid, k.keys, n) })
				}
			}
		}
	}
}

// BenchmarkMaps runs load-hit and the mixes: impl=…/workload=…/keys=…/n=….
func BenchmarkMaps(b *testing.B) {
	var mids []string
	for _, w := range workloads {
		if w.kind == kindThroughput {
			mids = append(mids, "workload="+w.name)
		}
	}
	forEach(b, mids, func(b *testing.B, im *impl, mid, keys string, n int) {
		w := lookupWorkload(mid[len("workload="):])
		if keys == "uint64" {
			benchMix[uint64](b, im, w, n)
		} else {
			benchMix[string](b, im, w, n)
		}
	})
}

// oneOp is one operation of a throughput workload, the same choice as
// opLoop makes.
func oneOp[K comparable](m benchMap[K], keys []K, span, loadThr, storeThr uint64, r *rng) (sink uint64) {
	x := r.next()
	k := keys[reduce(x, span)]
	if u := x & 0xffffffff; u < loadThr {
		v, _ := m.Load(k)
		return v
	} else if u < storeThr {
		m.Store(k, x)
	} else {
		m.Delete(k)
	}
	return 0
}

func benchMix[K comparable](b *testing.B, im *impl, w *workload, n int) {
	keys := keysFor[K](2 * n)
	m := prefilledMap(b, im, w, keys, n)
	span := uint64(w.span * n)
	loadThr, storeThr := w.thresholds()
	if im.floor {
		// The floor: one goroutine, no lock.
		r := newRNG(1, 0)
		var sink uint64
		for b.Loop() {
			sink += oneOp(m, keys, span, loadThr, storeThr, &r)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		return
	}
	var next atomic.Int64
	b.SetParallelism(*benchOversub)
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := newRNG(1, int(next.Add(1)-1))
		var sink uint64
		for pb.Next() {
			sink += oneOp(m, keys, span, loadThr, storeThr, &r)
		}
		_ = sink
	})
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	// allocs/op is printed as a whole number, and a mix allocates on a
	// few % of its operations: report allocations per 1000 operations too.
	b.ReportMetric(1000*float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N), "allocs/kop")
}

// BenchmarkOps measures single operations from one goroutine, with
// allocations: impl=…/op=load|store-existing|store-new|delete-missing/keys=…/n=….
func BenchmarkOps(b *testing.B) {
	ops := []string{"op=load", "op=store-existing", "op=store-new", "op=delete-missing"}
	forEach(b, ops, func(b *testing.B, im *impl, op, keys string, n int) {
		if keys == "uint64" {
			benchOp[uint64](b, im, op, n)
		} else {
			benchOp[string](b, im, op, n)
		}
	})
}

func benchOp[K comparable](b *testing.B, im *impl, op string, n int) {
	keys := keysFor[K](2 * n)
	m := newMapOf[K](im)
	prefill(m, keys, n)
	b.ReportAllocs()
	i := 0
	var sink uint64
	switch op {
	case "op=load":
		for b.Loop() {
			v, _ := m.Load(keys[i])
			sink += v
			if i++; i == n {
				i = 0
			}
		}
	case "op=store-existing":
		for b.Loop() {
			m.Store(keys[i], uint64(i)|1<<40)
			if i++; i == n {
				i = 0
			}
		}
	case "op=delete-missing":
		for b.Loop() {
			m.Delete(keys[n+i])
			if i++; i == n {
				i = 0
			}
		}
	case "op=store-new":
		// Keys [n, 2n) are new; when they run out, start again from a
		// fresh map of n keys, off the clock.
		for b.Loop() {
			m.Store(keys[n+i], uint64(i)|1<<40)
			if i++; i == n {
				b.StopTimer()
				m = newMapOf[K](im)
				prefill(m, keys, n)
				i = 0
				b.StartTimer()
			}
		}
	}
	_ = sink
}

// BenchmarkGrow inserts N distinct keys into an empty map from GOMAXPROCS
// goroutines (×-oversub; the floor from one): one op is the whole growth.
// impl=…/workload=grow/keys=…/n=…; ns/Store is ns/op ÷ N.
func BenchmarkGrow(b *testing.B) {
	forEach(b, []string{"workload=grow"}, func(b *testing.B, im *impl, _, keys string, n int) {
		if keys == "uint64" {
			benchGrow[uint64](b, im, n, false)
		} else {
			benchGrow[string](b, im, n, false)
		}
	})
}

// BenchmarkGrowLatency is BenchmarkGrow timing every Store: it reports the
// per-Store latency percentiles (p50-ns … max-ns) over all iterations.
// Every sample includes one time.Now (timer-ns), and so does ns/op.
func BenchmarkGrowLatency(b *testing.B) {
	forEach(b, []string{"workload=grow"}, func(b *testing.B, im *impl, _, keys string, n int) {
		if keys == "uint64" {
			benchGrow[uint64](b, im, n, true)
		} else {
			benchGrow[string](b, im, n, true)
		}
	})
}

func benchGrow[K comparable](b *testing.B, im *impl, n int, timed bool) {
	keys := keysFor[K](n)
	g := runtime.GOMAXPROCS(0) * *benchOversub
	if im.floor {
		g = 1 // the floor runs from one goroutine only
	}
	var lat [][]int64
	var pooled []int64
	if timed {
		lat = growLatencyBuffers(n, g)
	}
	b.ReportAllocs()
	for b.Loop() {
		growRun(im, keys, n, g, lat)
		for _, l := range lat {
			pooled = append(pooled, l...)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/Store")
	if timed {
		s := summarize(pooled)
		b.ReportMetric(float64(s.p50), "p50-ns")
		b.ReportMetric(float64(s.p99), "p99-ns")
		b.ReportMetric(float64(s.p999), "p99.9-ns")
		b.ReportMetric(float64(s.max), "max-ns")
		b.ReportMetric(float64(s.over100us)/float64(b.N), "over100µs/op")
		b.ReportMetric(float64(timerOverhead()), "timer-ns")
	}
}

// BenchmarkMemory fills a map with N keys and deletes 90% of them:
// impl=…/workload=memory/keys=…/n=…. It reports B/entry (live heap per
// entry, full), B/entry-del90 (live heap after the deletes per original
// entry) and returned-% (share of the deleted entries' memory given back).
func BenchmarkMemory(b *testing.B) {
	forEach(b, []string{"workload=memory"}, func(b *testing.B, im *impl, _, keys string, n int) {
		if keys == "uint64" {
			benchMemory[uint64](b, im, n)
		} else {
			benchMemory[string](b, im, n)
		}
	})
}

func benchMemory[K comparable](b *testing.B, im *impl, n int) {
	keys := keysFor[K](n)
	var full, after, returned []float64
	for b.Loop() {
		r := memoryRun(im, keys, n)
		full = append(full, r.bytesPerEntry())
		after = append(after, float64(r.bytesAfterDelete())/float64(n))
		returned = append(returned, 100*r.returnedFraction())
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(median(full), "B/entry")
	b.ReportMetric(median(after), "B/entry-del90")
	b.ReportMetric(median(returned), "returned-%")
}

// BenchmarkSnapshot takes snapshots of a map of N keys while
// max(1, GOMAXPROCS-1) goroutines Store present keys:
// impl=cmap/workload=snapshot/keys=…/n=…; ns/op is per snapshot and
// writes/s the writers' throughput meanwhile.
func BenchmarkSnapshot(b *testing.B) {
	forEach(b, []string{"workload=snapshot"}, func(b *testing.B, im *impl, _, keys string, n int) {
		if !im.snapshots() {
			b.Skip("no Snapshot")
		}
		if keys == "uint64" {
			benchSnapshot[uint64](b, im, n)
		} else {
			benchSnapshot[string](b, im, n)
		}
	})
}

func benchSnapshot[K comparable](b *testing.B, im *impl, n int) {
	keys := keysFor[K](n)
	m := newMapOf[K](im)
	prefill(m, keys, n)
	sn := m.(snapshotter)
	var stop atomic.Bool
	var writes atomic.Uint64
	var wg sync.WaitGroup
	for g := range max(1, runtime.GOMAXPROCS(0)-1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRNG(1, g)
			for !stop.Load() {
				for range 64 {
					x := r.next()
					m.Store(keys[reduce(x, uint64(n))], x)
				}
				writes.Add(64)
			}
		}()
	}
	time.Sleep(10 * time.Millisecond)
	w0 := writes.Load()
	var keep any
	for b.Loop() {
		keep = sn.snapshot()
	}
	w1 := writes.Load()
	b.ReportMetric(float64(w1-w0)/b.Elapsed().Seconds(), "writes/s")
	stop.Store(true)
	wg.Wait()
	_ = keep
}
