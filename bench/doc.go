// Command bench compares [github.com/segmap/segmap/cmap.Map] side by side
// with sync.Map, xsync v3 MapOf, xsync v4 Map, a map guarded by a
// sync.RWMutex and, as a floor that no concurrent map can beat, a plain
// built-in map used from one goroutine. docs/benchmarks.md states the
// workloads, the targets and why each is measured, and publishes the table
// of the latest full run.
//
// Usage:
//
//	go run ./bench                  # representative subset, about two minutes on 2 cores
//	go run ./bench -full            # the run of docs/benchmarks.md (much longer)
//	go run ./bench -workloads mix-90,grow -maps cmap,xsync4 -n 1e3,1e6 -procs 1,2,all
//	go run ./bench -csv out.csv -svg plots/
//	go run ./bench -replot out.csv -svg plots/  # redraw the charts, run nothing
//	go run ./bench -check-docs      # the ratios README.md and docs/choosing.md quote are the CSV's
//	go run ./bench -h               # every flag
//
// Flags: -workloads, -maps, -keys (uint64, string, both), -n (1e3,1e6),
// -procs (GOMAXPROCS values, "all" = NumCPU), -oversub (goroutines per P),
// -duration, -warmup, -reps, -seed, -full, -csv FILE, -svg DIR, and
// -replot FILE (with -svg DIR only) to redraw the charts of a CSV, and
// -check-docs (alone, from the repository root) to check every ratio that
// README.md and docs/choosing.md quote against docs/img/results.csv: each
// quoted ratio is followed by an HTML comment naming the cells it comes
// from (see checkdocs.go). A bad flag
// or an unknown name prints the valid choices and exits with status 2.
//
// Output: a header (machine, CPU, Go version, command, load average, the
// harness cost), then one markdown table per workload, key type and N,
// each row with cmap's ratio to that map and a line under the table with
// cmap's ratio to the best peer (the best of the other concurrent maps;
// the single-goroutine map is a floor, not a peer). -csv writes every
// figure in long form (workload,keys,n,procs,goroutines,map,metric,value),
// and grow's sampled latency distribution as cdf_ns, cdf_frac and cdf_tail
// rows; -svg draws throughput per configuration as grouped bars, grow's
// latency percentiles, its latency CDF and tail, and memory bars, with
// tick labels such as 100µs and 20M, the legend beside the data, and text
// drawn as glyph outlines of Liberation Sans so that a chart looks the
// same in every viewer.
//
// Every map runs the same key sequences through the same adapter interface
// ([benchMap]), so the harness cost (a fast PRNG and one interface call,
// printed in the header) is identical for all of them. Each measurement is
// preceded by a warm-up, maps are measured one after the other with
// runtime.GC between them, and the median of -reps repetitions is reported.
// Progress goes to stderr, markdown tables to stdout.
//
// Workloads:
//
//	load-hit   100% Load of present keys, map pre-filled with N keys
//	mix-99     Load/Store/Delete = 99/0.5/0.5 over 2N keys (half the loads miss), pre-filled with N
//	mix-90     90/5/5
//	mix-75     75/12.5/12.5
//	mix-50     50/25/25
//	contend-1seg  mix-50 with cmap built WithSegments(1): its writers all contend for one
//	           segment (the peers as usual); -full runs it at the smallest N only
//	grow       Store N distinct keys into an empty map; per-Store latency percentiles
//	memory     heap bytes per entry after N inserts, and after deleting 90%
//	allocs     allocs/op and B/op of Load, Store of an existing key, Store of a new key, Delete of a missing key
//	snapshot   cmap only: cost of Snapshot() under writers, write throughput after it vs before
//	cache      a cache of N keys in front of a 1ms backend, 1 request in 64 for a new key:
//	           cmap and xsync v4 with LoadOrCompute, sync.Map with Load/backend/LoadOrStore
//
// The same workloads exist as Go benchmarks in this package, named
// impl=…/workload=…/keys=…/n=… so that benchstat can compare implementations:
//
//	go test -run '^$' -bench 'Maps/.*/workload=mix-90/keys=u64/n=1e6' -count 10 -cpu 2 ./bench | tee new.txt
//	benchstat -col /impl new.txt
//
// BenchmarkMaps (load-hit, mixes; RunParallel, -oversub sets goroutines per
// P), BenchmarkOps (single operations with allocations), BenchmarkGrow and
// BenchmarkGrowLatency (per-Store percentiles as extra metrics),
// BenchmarkMemory (B/entry) and BenchmarkSnapshot.
package main
