package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"time"
)

// cfg is one point of the contention sweep.
type cfg struct {
	procs      int // GOMAXPROCS during the measurement
	goroutines int // procs × oversub; 1 for the floor
}

// group is one map on one workload, key type and size: the map is built
// and pre-filled once, then measured at each cfg in turn.
type group struct {
	w    *workload
	keys string
	n    int
	im   *impl
	cfgs []cfg
}

// runner executes the plan and collects the results.
type runner struct {
	o              *options
	stdout, stderr io.Writer
	csv            *os.File

	plan      [][]group // one slice per workload
	steps     int
	step      int
	start     time.Time
	baseProcs int // GOMAXPROCS at start: maps are built and filled at it

	harnessNs float64
	timerNs   time.Duration
	results   []*result
}

func newRunner(o *options, stdout, stderr io.Writer) (*runner, error) {
	r := &runner{o: o, stdout: stdout, stderr: stderr, baseProcs: runtime.GOMAXPROCS(0)}
	// Fail on an unwritable -csv or -svg now, not after the run.
	if o.csvPath != "" {
		f, err := os.Create(o.csvPath)
		if err != nil {
			return nil, fmt.Errorf("-csv: %w", err)
		}
		r.csv = f
	}
	if o.svgDir != "" {
		if err := os.MkdirAll(o.svgDir, 0o755); err != nil {
			r.closeCSV()
			return nil, fmt.Errorf("-svg: %w", err)
		}
	}
	r.plan = r.makePlan()
	for _, gs := range r.plan {
		for _, g := range gs {
			r.steps += len(g.cfgs)
		}
	}
	return r, nil
}

func (r *runner) closeCSV() {
	if r.csv != nil {
		r.csv.Close()
		r.csv = nil
	}
}

// sweep is every cfg of the -procs × -oversub grid.
func (o *options) sweep() []cfg {
	var out []cfg
	for _, p := range o.procs {
		for _, f := range o.oversub {
			out = append(out, cfg{procs: p, goroutines: p * f})
		}
	}
	return out
}

// sizes is the list of N for a workload: grow, memory and snapshot are
// measured at the largest N (1e6 in docs/benchmarks.md), where growth
// pauses and bytes per entry show, so -full runs them only there; with an
// explicit -n they run at every size.
func (o *options) sizes(w *workload) []int {
	if o.full && (w.kind == kindGrow || w.kind == kindMemory || w.kind == kindSnapshot || w.kind == kindCache) {
		return o.ns[len(o.ns)-1:]
	}
	if o.full && w.oneSegment {
		return o.ns[:1]
	}
	return o.ns
}

func (r *runner) makePlan() [][]group {
	o := r.o
	var plan [][]group
	for _, w := range o.workloads {
		var gs []group
		for _, keys := range o.keys {
			for _, n := range o.sizes(w) {
				for _, im := range o.impls {
					g := group{w: w, keys: keys, n: n, im: im}
					switch {
					case w.kind == kindSnapshot && !im.snapshots():
						continue
					case w.kind == kindCache && !im.caches():
						continue
					case w.kind == kindWordcount && !im.counts():
						continue
					case w.kind == kindMemory:
						g.cfgs = []cfg{{procs: r.baseProcs, goroutines: 1}}
					case w.kind == kindAllocs || im.floor:
						g.cfgs = []cfg{{procs: 1, goroutines: 1}}
					default:
						g.cfgs = o.sweep()
					}
					gs = append(gs, g)
				}
			}
		}
		plan = append(plan, gs)
	}
	return plan
}

func (r *runner) run() (err error) {
	defer r.closeCSV()
	defer runtime.GOMAXPROCS(r.baseProcs)
	r.start = time.Now()
	r.harnessNs = harnessOverhead(r.o)
	writeHeader(r.stdout, r.o, r.harnessNs)
	for i, gs := range r.plan {
		w := r.o.workloads[i]
		if len(gs) == 0 {
			fmt.Fprintf(r.stdout, "## %s\n\nSkipped: none of the selected maps supports it (cmap has Snapshot; is it selected and built?).\n\n", w.name)
			continue
		}
		if w.kind == kindGrow && r.timerNs == 0 {
			r.timerNs = timerOverhead()
		}
		for _, g := range gs {
			if g.keys == "uint64" {
				execGroup[uint64](r, g)
			} else {
				execGroup[string](r, g)
			}
		}
		writeWorkload(r.stdout, w, r.results, r.timerNs)
	}
	if r.csv != nil {
		if err := writeCSV(r.csv, r.results); err != nil {
			return fmt.Errorf("-csv: %w", err)
		}
		if err := r.csv.Close(); err != nil {
			return fmt.Errorf("-csv: %w", err)
		}
		r.csv = nil
		fmt.Fprintf(r.stderr, "wrote %s\n", r.o.csvPath)
	}
	if r.o.svgDir != "" {
		files, err := writeSVGs(r.o.svgDir, r.results, r.o)
		if err != nil {
			return fmt.Errorf("-svg: %w", err)
		}
		fmt.Fprintf(r.stderr, "wrote %d charts to %s\n", len(files), r.o.svgDir)
	}
	fmt.Fprintf(r.stderr, "done in %s\n", time.Since(r.start).Round(time.Second/10))
	return nil
}

// progress prints the step about to run on stderr; done ends the line.
func (r *runner) progress(g group, c cfg) {
	r.step++
	elapsed := time.Since(r.start)
	eta := ""
	if r.step > 1 {
		left := time.Duration(float64(elapsed) / float64(r.step-1) * float64(r.steps-r.step+1))
		eta = fmt.Sprintf(", ~%s left", left.Round(time.Second))
	}
	fmt.Fprintf(r.stderr, "[%d/%d] %s keys=%s n=%s procs=%d g=%d %s (%s%s) ... ",
		r.step, r.steps, g.w.name, g.keys, fmtN(g.n), c.procs, c.goroutines, g.im.id,
		elapsed.Round(time.Second), eta)
}

func (r *runner) done(format string, args ...any) {
	fmt.Fprintf(r.stderr, format+"\n", args...)
}

func (r *runner) add(g group, c cfg) *result {
	res := &result{Workload: g.w.name, Keys: g.keys, N: g.n, Procs: c.procs, Goroutines: c.goroutines, Map: g.im.id, im: g.im}
	r.results = append(r.results, res)
	return res
}

// execGroup runs one group. Maps are built and pre-filled at the starting
// GOMAXPROCS (what a program gets by default; cmap sizes its segments by
// it), then each measurement sets its own GOMAXPROCS.
func execGroup[K comparable](r *runner, g group) {
	o := r.o
	keys := keysFor[K](2 * g.n)
	runtime.GOMAXPROCS(r.baseProcs)
	runtime.GC()
	switch g.w.kind {
	case kindThroughput:
		m := newMapFor[K](g.im, g.w)
		prefill(m, keys, g.n)
		for _, c := range g.cfgs {
			r.progress(g, c)
			runtime.GOMAXPROCS(c.procs)
			runtime.GC()
			rr := throughput(m, keys, g.w, g.n, c.goroutines, o)
			runtime.GOMAXPROCS(r.baseProcs)
			res := r.add(g, c)
			res.set("ops/s", rr.opsPerSec())
			res.set("ns/op", 1e9/rr.opsPerSec())
			res.set("allocs/op", rr.allocsPerOp())
			res.set("B/op", float64(rr.bytes)/float64(rr.ops))
			r.done("%s ops/s, %.1f ns/op", fmtRate(rr.opsPerSec()), 1e9/rr.opsPerSec())
		}
	case kindGrow:
		for _, c := range g.cfgs {
			r.progress(g, c)
			runtime.GOMAXPROCS(c.procs)
			// No warm-up: growing a fresh map is the workload, and the
			// median of the runs absorbs the first run's cold heap.
			lat := growLatencyBuffers(g.n, c.goroutines)
			var totals, allocs []float64
			pooled := make([]int64, 0, g.n*o.reps)
			for range o.reps {
				runtime.GC()
				u := growRun(g.im, keys, g.n, c.goroutines, nil)
				totals = append(totals, float64(u.elapsed.Nanoseconds()))
				allocs = append(allocs, float64(u.mallocs)/float64(g.n))
				runtime.GC()
				growRun(g.im, keys, g.n, c.goroutines, lat)
				for _, l := range lat {
					pooled = append(pooled, l...)
				}
			}
			runtime.GOMAXPROCS(r.baseProcs)
			s := summarize(pooled)
			res := r.add(g, c)
			total := median(totals)
			res.set("total_ns", total)
			res.set("ns/op", total/float64(g.n))
			res.set("p50_ns", float64(s.p50))
			res.set("p99_ns", float64(s.p99))
			res.set("p99.9_ns", float64(s.p999))
			res.set("max_ns", float64(s.max))
			res.set("stores_over_100us_per_run", float64(s.over100us)/float64(o.reps))
			res.set("allocs/op", median(allocs))
			res.set("timer_overhead_ns", float64(r.timerNs))
			res.lat = &s
			r.done("total %s, p99.9 %s, max %s", fmtDur(total), fmtDur(float64(s.p999)), fmtDur(float64(s.max)))
		}
	case kindMemory:
		c := g.cfgs[0]
		r.progress(g, c)
		runtime.GOMAXPROCS(c.procs)
		mr := memoryRun(g.im, keys, g.n)
		res := r.add(g, c)
		res.set("bytes/entry", mr.bytesPerEntry())
		res.set("heap_full_bytes", float64(sub(mr.full, mr.before)))
		res.set("heap_after_delete_bytes", float64(mr.bytesAfterDelete()))
		res.set("returned_bytes", float64(mr.returned()))
		res.set("returned_fraction", mr.returnedFraction())
		res.set("gc_ns", float64(mr.gc.Nanoseconds()))
		res.set("gc_base_ns", float64(mr.gcBase.Nanoseconds()))
		res.set("gc_map_ns", float64(mr.gcShare().Nanoseconds()))
		res.set("heap_objects", float64(mr.objects))
		res.layout = [2]string{mr.layoutFull, mr.layoutAfter}
		r.done("%.1f B/entry, %.0f%% of freed given back, GC %s (the map's share %s)", mr.bytesPerEntry(), 100*mr.returnedFraction(),
			fmtDur(float64(mr.gc.Nanoseconds())), fmtDur(float64(mr.gcShare().Nanoseconds())))
	case kindAllocs:
		c := g.cfgs[0]
		r.progress(g, c)
		runtime.GOMAXPROCS(c.procs)
		ops := allocsRun(g.im, keys, g.n)
		runtime.GOMAXPROCS(r.baseProcs)
		res := r.add(g, c)
		for _, op := range ops {
			res.set(op.name+"_allocs/op", op.allocs)
			res.set(op.name+"_B/op", op.bytes)
		}
		r.done("store-existing %.2f allocs/op", ops[1].allocs)
	case kindSnapshot:
		m := newMapOf[K](g.im)
		prefill(m, keys, g.n)
		for _, c := range g.cfgs {
			r.progress(g, c)
			runtime.GOMAXPROCS(c.procs)
			runtime.GC()
			sr := snapshotRun(m, keys, g.n, c.goroutines, o, o.duration*time.Duration(o.reps))
			runtime.GOMAXPROCS(r.baseProcs)
			res := r.add(g, c)
			res.set("ns/snapshot", sr.nsPerSnapshot)
			res.set("writes/s_before", sr.before)
			res.set("writes/s_after", sr.after)
			res.set("after/before", sr.ratio)
			res.set("iterations", float64(sr.iterations))
			r.done("%s per snapshot, writes after/before %.2f", fmtDur(sr.nsPerSnapshot), sr.ratio)
		}
	case kindWordcount:
		for _, c := range g.cfgs {
			r.progress(g, c)
			runtime.GOMAXPROCS(c.procs)
			runtime.GC()
			rr := wordcountRun(g.im, keys, g.n, c.goroutines, o)
			runtime.GOMAXPROCS(r.baseProcs)
			res := r.add(g, c)
			res.set("ops/s", rr.opsPerSec())
			res.set("ns/op", 1e9/rr.opsPerSec())
			res.set("allocs/op", rr.allocsPerOp())
			res.set("B/op", float64(rr.bytes)/float64(rr.ops))
			r.done("%s words/s, %.1f ns/word", fmtRate(rr.opsPerSec()), 1e9/rr.opsPerSec())
		}
	case kindCache:
		m := newMapOf[K](g.im)
		prefill(m, keys, g.n)
		for _, c := range g.cfgs {
			r.progress(g, c)
			runtime.GOMAXPROCS(c.procs)
			runtime.GC()
			cr := cacheRun(m, keys, g.n, c.goroutines, o.seed, o.duration*time.Duration(o.reps))
			runtime.GOMAXPROCS(r.baseProcs)
			res := r.add(g, c)
			rate := float64(cr.requests) / cr.elapsed.Seconds()
			res.set("requests/s", rate)
			res.set("misses", float64(cr.misses))
			res.set("backend_calls", float64(cr.calls))
			res.set("calls/miss", float64(cr.calls)/float64(max(cr.misses, 1)))
			res.set("hit_p99_ns", float64(cr.hitP99))
			res.set("hit_max_ns", float64(cr.hitMax))
			res.set("miss_p99_ns", float64(cr.missP99))
			r.done("%s requests/s, %.2f backend calls per miss, miss p99 %s", fmtRate(rate),
				float64(cr.calls)/float64(max(cr.misses, 1)), fmtDur(float64(cr.missP99)))
		}
	}
	runtime.GOMAXPROCS(r.baseProcs)
}

// result is one measurement: a map on a workload, key type, size and cfg.
type result struct {
	Workload   string
	Keys       string
	N          int
	Procs      int
	Goroutines int
	Map        string // impl id
	Metrics    []metric

	im     *impl
	lat    *latencySummary // grow only
	layout [2]string       // memory only: describer output full and after deleting
}

type metric struct {
	Name  string
	Value float64
}

func (r *result) set(name string, v float64) {
	r.Metrics = append(r.Metrics, metric{name, v})
}

// get returns the metric, or NaN if r has none of that name.
func (r *result) get(name string) float64 {
	i := slices.IndexFunc(r.Metrics, func(m metric) bool { return m.Name == name })
	if i < 0 {
		return nan
	}
	return r.Metrics[i].Value
}
