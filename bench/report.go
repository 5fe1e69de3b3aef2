package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

var nan = math.NaN()

// table is a markdown table whose columns are padded for plain-text reading.
type table struct {
	header []string
	right  []bool // right-align column i
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) {
	width := make([]int, len(t.header))
	for i, h := range t.header {
		width[i] = max(3, len([]rune(h)))
	}
	for _, row := range t.rows {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i < len(t.right) && t.right[i] {
				fmt.Fprintf(&b, " %s%s |", pad, c)
			} else {
				fmt.Fprintf(&b, " %s%s |", c, pad)
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(t.header)
	seps := make([]string, len(t.header))
	for i := range seps {
		seps[i] = strings.Repeat("-", width[i])
		if i < len(t.right) && t.right[i] {
			seps[i] = strings.Repeat("-", width[i]-1) + ":"
		}
	}
	line(seps)
	for _, row := range t.rows {
		line(row)
	}
}

// cpuModel returns the CPU model from /proc/cpuinfo, or "" if unreadable.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAverage returns the 1-minute load average from /proc/loadavg, or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func writeHeader(w io.Writer, o *options, harnessNs float64) {
	fmt.Fprintf(w, "# segmap bench: cmap and its peers\n\n")
	cpu := cpuModel()
	if cpu == "" {
		cpu = "unknown CPU"
	}
	fmt.Fprintf(w, "- machine: %s/%s, %s, NumCPU=%d\n", runtime.GOOS, runtime.GOARCH, cpu, runtime.NumCPU())
	if la := loadAverage(); la != "" {
		fmt.Fprintf(w, "- load average at start: %s (other work on the machine makes every figure noisier)\n", la)
	}
	fmt.Fprintf(w, "- Go: %s\n", runtime.Version())
	fmt.Fprintf(w, "- command: `%s`\n", o.command)
	fmt.Fprintf(w, "- date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "- method: %s per measurement after a %s warm-up, median of %d; maps measured one after another with runtime.GC between; same per-goroutine key sequences (seed %d) for every map; maps built and pre-filled at GOMAXPROCS=%d, then measured at each GOMAXPROCS\n",
		o.duration, o.warmup, o.reps, o.seed, runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "- ns/op is wall time ÷ operations of all goroutines (1 ÷ throughput); allocs/op from runtime.MemStats Mallocs over the timed section\n")
	fmt.Fprintf(w, "- harness cost (PRNG + key fetch + interface call, on a map that does nothing): %.1f ns/op, included in every figure and identical for every map\n", harnessNs)
	fmt.Fprintf(w, "- the floor is the built-in map with no lock, used from one goroutine at GOMAXPROCS=1; it is not a peer. cmap ÷ best peer compares with the best of the other concurrent maps\n\n")
}

func writeWorkload(w io.Writer, wl *workload, results []*result, timerNs time.Duration) {
	var rs []*result
	for _, r := range results {
		if r.Workload == wl.name {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return
	}
	fmt.Fprintf(w, "## %s\n\n%s.\n\n", wl.name, wl.desc)
	type kn struct {
		keys string
		n    int
	}
	var order []kn
	by := map[kn][]*result{}
	for _, r := range rs {
		k := kn{r.Keys, r.N}
		if by[k] == nil {
			order = append(order, k)
		}
		by[k] = append(by[k], r)
	}
	for _, k := range order {
		fmt.Fprintf(w, "### %s · keys=%s · N=%s\n\n", wl.name, k.keys, fmtN(k.n))
		switch wl.kind {
		case kindThroughput, kindWordcount:
			writeThroughput(w, by[k])
		case kindGrow:
			writeGrow(w, by[k], timerNs)
		case kindMemory:
			writeMemory(w, by[k])
		case kindAllocs:
			writeAllocs(w, by[k])
		case kindSnapshot:
			writeSnapshot(w, by[k])
		case kindCache:
			writeCache(w, by[k])
		}
		fmt.Fprintln(w)
	}
}

// cfgs returns the distinct (procs, goroutines) of the non-floor results,
// in order of appearance.
func cfgsOf(rs []*result) []cfg {
	var out []cfg
	seen := map[cfg]bool{}
	for _, r := range rs {
		c := cfg{r.Procs, r.Goroutines}
		if !r.im.floor && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

func find(rs []*result, pred func(*result) bool) *result {
	for _, r := range rs {
		if pred(r) {
			return r
		}
	}
	return nil
}

func atCfg(rs []*result, c cfg) []*result {
	var out []*result
	for _, r := range rs {
		if !r.im.floor && r.Procs == c.procs && r.Goroutines == c.goroutines {
			out = append(out, r)
		}
	}
	return out
}

// bestPeer returns the peer result with the best value of metric: the
// largest if higher is better, else the smallest. NaN values are skipped.
func bestPeer(rs []*result, metric string, higherBetter bool) *result {
	var best *result
	for _, r := range rs {
		v := r.get(metric)
		if !r.im.peer() || math.IsNaN(v) {
			continue
		}
		if best == nil || (higherBetter && v > best.get(metric)) || (!higherBetter && v < best.get(metric)) {
			best = r
		}
	}
	return best
}

func ours(rs []*result) *result {
	return find(rs, func(r *result) bool { return r.im.ours })
}

func floorOf(rs []*result) *result {
	return find(rs, func(r *result) bool { return r.im.floor })
}

// mapName is the table name of r's map; cmap's is bold.
func mapName(r *result) string {
	if r.im.ours {
		return "**" + r.im.label + "**"
	}
	return r.im.label
}

// ratioOf renders cm's metric ÷ r's, or "—" without cm.
func ratioOf(cm, r *result, metric string) string {
	if cm == nil {
		return "—"
	}
	return fmtRatio(cm.get(metric) / r.get(metric))
}

func writeThroughput(w io.Writer, rs []*result) {
	t := &table{header: []string{"procs", "goroutines", "map", "ops/s", "ns/op", "allocs/op"},
		right: []bool{true, true, false, true, true, true, true}}
	withRatio := ours(rs) != nil
	if withRatio {
		t.header = append(t.header, "cmap ÷ map")
	}
	var summary []string
	for _, c := range cfgsOf(rs) {
		at := atCfg(rs, c)
		cm := ours(at)
		for _, r := range at {
			row := []string{strconv.Itoa(r.Procs), strconv.Itoa(r.Goroutines), mapName(r),
				fmtRate(r.get("ops/s")), fmtNs(r.get("ns/op")), fmtAllocs(r.get("allocs/op"))}
			if withRatio {
				row = append(row, ratioOf(cm, r, "ops/s"))
			}
			t.add(row...)
		}
		if bp := bestPeer(at, "ops/s", true); cm != nil && bp != nil {
			summary = append(summary, fmt.Sprintf("procs=%d g=%d **%s** (best peer %s)",
				c.procs, c.goroutines, fmtRatio(cm.get("ops/s")/bp.get("ops/s")), bp.im.label))
		}
	}
	fl := floorOf(rs)
	if fl != nil {
		row := []string{"1", "1", mapName(fl), fmtRate(fl.get("ops/s")), fmtNs(fl.get("ns/op")), fmtAllocs(fl.get("allocs/op"))}
		if withRatio {
			row = append(row, ratioOf(ours(atCfg(rs, cfg{1, 1})), fl, "ops/s"))
		}
		t.add(row...)
	}
	t.write(w)
	fmt.Fprintln(w)
	if len(summary) > 0 {
		fmt.Fprintf(w, "cmap ÷ best peer (ops/s, higher is better): %s.\n", strings.Join(summary, " · "))
	}
	if fl != nil {
		var per []string
		for _, c := range cfgsOf(rs) {
			if cm := ours(atCfg(rs, c)); cm != nil {
				per = append(per, fmt.Sprintf("procs=%d g=%d %s", c.procs, c.goroutines,
					fmtRatio(cm.get("ops/s")/float64(c.procs)/fl.get("ops/s"))))
			}
		}
		if len(per) > 0 {
			fmt.Fprintf(w, "cmap per P ÷ floor (ops/s per GOMAXPROCS ÷ the one-goroutine built-in map): %s.\n", strings.Join(per, " · "))
		}
	}
}

func writeGrow(w io.Writer, rs []*result, timerNs time.Duration) {
	t := &table{header: []string{"procs", "goroutines", "map", "total", "ns/Store", "p50", "p99", "p99.9", "max", "Stores >100µs", "allocs/Store"},
		right: []bool{true, true, false, true, true, true, true, true, true, true, true}}
	row := func(r *result) {
		t.add(strconv.Itoa(r.Procs), strconv.Itoa(r.Goroutines), mapName(r),
			fmtDur(r.get("total_ns")), fmtNs(r.get("ns/op")),
			fmtDur(r.get("p50_ns")), fmtDur(r.get("p99_ns")), fmtDur(r.get("p99.9_ns")), fmtDur(r.get("max_ns")),
			fmtCount(r.get("stores_over_100us_per_run")), fmtAllocs(r.get("allocs/op")))
	}
	var summary []string
	for _, c := range cfgsOf(rs) {
		at := atCfg(rs, c)
		for _, r := range at {
			row(r)
		}
		cm := ours(at)
		if cm == nil || bestPeer(at, "total_ns", false) == nil {
			continue
		}
		var parts []string
		for _, m := range []struct{ metric, label string }{{"total_ns", "total"}, {"p99.9_ns", "p99.9"}, {"max_ns", "max"}} {
			bp := bestPeer(at, m.metric, false)
			parts = append(parts, fmt.Sprintf("%s %s (best peer %s)", m.label, fmtRatio(cm.get(m.metric)/bp.get(m.metric)), bp.im.label))
		}
		summary = append(summary, fmt.Sprintf("procs=%d g=%d: %s", c.procs, c.goroutines, strings.Join(parts, ", ")))
	}
	fl := floorOf(rs)
	if fl != nil {
		row(fl)
	}
	t.write(w)
	fmt.Fprintln(w)
	if len(summary) > 0 {
		fmt.Fprintf(w, "cmap ÷ best peer (time, lower is better): %s.\n\n", strings.Join(summary, "; "))
	}
	reps := 0
	if len(rs) > 0 && rs[0].lat != nil && rs[0].N > 0 {
		reps = rs[0].lat.count / rs[0].N
	}
	fmt.Fprintf(w, "Each latency sample is the gap between the time.Now calls before and after one Store, so it includes one time.Now and the loop: %s here (median gap of back-to-back calls). Percentiles pool %d runs; max is the slowest single Store of any run; Stores >100µs is per run of N Stores (mean). total and ns/Store come from separate runs without per-Store timing.\n",
		fmtDur(float64(timerNs)), reps)
}

func writeMemory(w io.Writer, rs []*result) {
	t := &table{header: []string{"map", "bytes/entry", "heap, full", "heap after deleting 90%", "given back", "given back ÷ freed", "runtime.GC(), full", "of which the map's"},
		right: []bool{false, true, true, true, true, true, true, true, true, true, true}}
	cm := ours(rs)
	if cm != nil {
		t.header = append(t.header, "cmap ÷ map (bytes/entry)", "cmap ÷ map (GC)", "cmap ÷ map (the map's GC)")
	}
	for _, r := range rs {
		name := mapName(r)
		if r.im.floor {
			name = "map (built-in)"
		}
		row := []string{name, fmt.Sprintf("%.1f", r.get("bytes/entry")), fmtBytes(r.get("heap_full_bytes")),
			fmtBytes(r.get("heap_after_delete_bytes")), fmtBytes(r.get("returned_bytes")),
			fmt.Sprintf("%.0f%%", 100*r.get("returned_fraction")), fmtDur(r.get("gc_ns")), fmtDur(r.get("gc_map_ns"))}
		if cm != nil {
			row = append(row, ratioOf(cm, r, "bytes/entry"), ratioOf(cm, r, "gc_ns"), ratioOf(cm, r, "gc_map_ns"))
		}
		t.add(row...)
	}
	t.write(w)
	fmt.Fprintln(w)
	if bp := bestPeer(rs, "bytes/entry", false); cm != nil && bp != nil {
		br := bestPeer(rs, "returned_fraction", true)
		fmt.Fprintf(w, "cmap ÷ best peer (bytes/entry, lower is better): **%s** (best peer %s); cmap gives back %.0f%% of the freed memory, the best peer %.0f%% (%s).\n",
			fmtRatio(cm.get("bytes/entry")/bp.get("bytes/entry")), bp.im.label,
			100*cm.get("returned_fraction"), 100*br.get("returned_fraction"), br.im.label)
	}
	if bp := bestPeer(rs, "gc_ns", false); cm != nil && bp != nil {
		fmt.Fprintf(w, "cmap ÷ best peer (time of runtime.GC() with the full map live, lower is better): **%s** (best peer %s).\n",
			fmtRatio(cm.get("gc_ns")/bp.get("gc_ns")), bp.im.label)
	}
	if bp := bestPeer(rs, "gc_map_ns", false); cm != nil && bp != nil {
		fmt.Fprintf(w, "cmap ÷ best peer (the map's share of that time, lower is better): **%s** (best peer %s). The share is the time with the map live less the time of the same runtime.GC() just before the map was made (%s for cmap), which marks the rest of the heap: the harness's key set and the runtime's own work, the same for every map.\n",
			fmtRatio(cm.get("gc_map_ns")/bp.get("gc_map_ns")), bp.im.label, fmtDur(cm.get("gc_base_ns")))
	}
	var objs []string
	for _, r := range rs {
		objs = append(objs, fmt.Sprintf("%s %.0f", r.im.label, r.get("heap_objects")))
	}
	fmt.Fprintf(w, "Heap objects added by the full map (HeapObjects after runtime.GC): %s.\n", strings.Join(objs, ", "))
	for _, r := range rs {
		if r.layout[0] != "" {
			fmt.Fprintf(w, "%s layout: full: %s; after deleting 90%%: %s.\n", r.im.label, r.layout[0], r.layout[1])
		}
	}
	fmt.Fprintf(w, "Heap is runtime.MemStats.HeapAlloc after runtime.GC, minus the heap before the map was made; keys are pre-built and not counted (string keys share their bytes with the key set), interface boxing is.\n")
}

var allocOps = []struct{ name, label string }{
	{"load", "Load"}, {"store-existing", "Store existing"}, {"store-new", "Store new"}, {"delete-missing", "Delete missing"},
}

func writeAllocs(w io.Writer, rs []*result) {
	t := &table{header: []string{"map"}, right: []bool{false}}
	for _, op := range allocOps {
		t.header = append(t.header, op.label+" allocs/op", "B/op")
		t.right = append(t.right, true, true)
	}
	for _, r := range rs {
		row := []string{mapName(r)}
		if r.im.floor {
			row[0] = "map (built-in)"
		}
		for _, op := range allocOps {
			row = append(row, fmtAllocs(r.get(op.name+"_allocs/op")), fmt.Sprintf("%.1f", r.get(op.name+"_B/op")))
		}
		t.add(row...)
	}
	t.write(w)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "From one goroutine at GOMAXPROCS=1, MemStats deltas over max(N, 1e5) operations; Store new inserts N new keys (the map doubles), so growth is included.\n")
}

func writeSnapshot(w io.Writer, rs []*result) {
	t := &table{header: []string{"map", "procs", "writers", "per snapshot", "writes/s before", "writes/s after", "after ÷ before", "snapshots"},
		right: []bool{false, true, true, true, true, true, true, true}}
	for _, r := range rs {
		t.add(r.im.label, strconv.Itoa(r.Procs), strconv.Itoa(r.Goroutines), fmtDur(r.get("ns/snapshot")),
			fmtRate(r.get("writes/s_before")), fmtRate(r.get("writes/s_after")),
			fmt.Sprintf("%.2f", r.get("after/before")), strconv.Itoa(int(r.get("iterations"))))
	}
	t.write(w)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Writers Store present keys; write throughput is counted over 10ms before each snapshot and the 10ms right after it, with the snapshot alive. Medians over all snapshots.\n")
}

func writeCache(w io.Writer, rs []*result) {
	t := &table{header: []string{"map", "procs", "goroutines", "requests/s", "backend calls per miss", "miss p99", "hit p99", "hit max"},
		right: []bool{false, true, true, true, true, true, true, true}}
	for _, r := range rs {
		t.add(r.im.label, strconv.Itoa(r.Procs), strconv.Itoa(r.Goroutines), fmtRate(r.get("requests/s")),
			fmt.Sprintf("%.2f", r.get("calls/miss")), fmtDur(r.get("miss_p99_ns")),
			fmtDur(r.get("hit_p99_ns")), fmtDur(r.get("hit_max_ns")))
	}
	t.write(w)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "A miss is a request for a key not yet cached; %d consecutive misses ask for the same key, so a map that shares one backend call among them makes %.2f calls per miss, one that does not up to 1. Hit latencies are sampled (1 hit in 16).\n", cacheShare, 1.0/cacheShare)
}

// csvHeader is the first row of the CSV.
var csvHeader = []string{"workload", "keys", "n", "procs", "goroutines", "map", "metric", "value"}

// writeCSV writes every metric of every result as one row (long format),
// then, for grow, the sampled latency distribution that the charts draw:
// one cdf_ns, cdf_frac and cdf_tail row per point, in order (see
// cdfPoint). Values are written in the shortest form that reads back
// exactly, so charts redrawn from the CSV (-replot) are the same.
func writeCSV(w io.Writer, results []*result) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	for _, r := range results {
		row := func(name string, v float64) {
			cw.Write([]string{r.Workload, r.Keys, strconv.Itoa(r.N), strconv.Itoa(r.Procs), strconv.Itoa(r.Goroutines),
				r.Map, name, strconv.FormatFloat(v, 'g', -1, 64)})
		}
		for _, m := range r.Metrics {
			row(m.Name, m.Value)
		}
		if r.lat != nil {
			for _, pt := range r.lat.cdf {
				row("cdf_ns", pt.ns)
				row("cdf_frac", pt.frac)
				row("cdf_tail", pt.tail)
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// sig3 renders x (0 <= x < 1000) with three significant digits, keeping
// trailing zeros so that a column reads evenly: 7.80, 25.3, 104.
func sig3(x float64) string {
	switch {
	case x >= 99.95:
		return fmt.Sprintf("%.0f", x)
	case x >= 9.995:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

// fmtRate renders a rate with an SI suffix: 812k, 25.3M.
func fmtRate(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "—"
	case x >= 999.5e6:
		return sig3(x/1e9) + "G"
	case x >= 999.5e3:
		return sig3(x/1e6) + "M"
	case x >= 999.5:
		return sig3(x/1e3) + "k"
	}
	return sig3(x)
}

// fmtCount renders a count that may be a mean over runs: 3, 0.33.
func fmtCount(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	if x == math.Trunc(x) || x >= 999.5 {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return sig3(x)
}

func fmtNs(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return "—"
	case x < 100:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.0f", x)
}

func fmtAllocs(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	if x == 0 {
		return "0"
	}
	return fmt.Sprintf("%.2f", x)
}

// fmtDur renders nanoseconds with three significant digits: 48ns, 1.23µs, 104ms.
func fmtDur(ns float64) string {
	switch {
	case math.IsNaN(ns):
		return "—"
	case ns < 999.5:
		return fmt.Sprintf("%.0fns", ns)
	case ns < 999.5e3:
		return sig3(ns/1e3) + "µs"
	case ns < 999.5e6:
		return sig3(ns/1e6) + "ms"
	}
	return sig3(ns/1e9) + "s"
}

func fmtBytes(b float64) string {
	switch {
	case math.IsNaN(b):
		return "—"
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

func fmtRatio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return fmt.Sprintf("%.2f×", x)
}
