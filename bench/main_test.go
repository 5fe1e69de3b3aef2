package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func names[T any](xs []T, name func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = name(x)
	}
	return out
}

func wlNames(ws []*workload) []string { return names(ws, func(w *workload) string { return w.name }) }

func sortedUnique(xs ...int) []int {
	slices.Sort(xs)
	return slices.Compact(xs)
}

func TestParseArgsDefaults(t *testing.T) {
	o, err := parseArgs(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(wlNames(o.workloads), ","), defaultWorkloads; got != want {
		t.Errorf("workloads = %s, want %s", got, want)
	}
	if all, _ := selectImpls("all"); len(o.impls) != len(all) || len(all) != len(registry)-1 {
		t.Errorf("maps = %d, want all %d (the registry but the reference cmapentries)", len(o.impls), len(all))
	}
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("keys", o.keys, []string{"uint64"})
	check("n", o.ns, []int{1_000_000})
	check("procs", o.procs, sortedUnique(1, runtime.NumCPU()))
	check("oversub", o.oversub, []int{1})
	check("duration", o.duration, defaultDuration)
	check("warmup", o.warmup, defaultDuration/2)
	check("reps", o.reps, defaultReps)
}

func TestParseArgsFull(t *testing.T) {
	o, err := parseArgs([]string{"-full"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if got := wlNames(o.workloads); !reflect.DeepEqual(got, workloadNames()) {
		t.Errorf("workloads = %v, want all", got)
	}
	if !reflect.DeepEqual(o.keys, []string{"uint64", "string"}) || !reflect.DeepEqual(o.ns, []int{1000, 1_000_000}) ||
		!reflect.DeepEqual(o.procs, sortedUnique(1, 2, runtime.NumCPU())) || !reflect.DeepEqual(o.oversub, []int{1, 8}) {
		t.Errorf("-full: keys %v n %v procs %v oversub %v", o.keys, o.ns, o.procs, o.oversub)
	}
	if got := o.sizes(lookupWorkload("grow")); !reflect.DeepEqual(got, []int{1_000_000}) {
		t.Errorf("-full grow sizes = %v, want [1e6]", got)
	}
	// Explicit flags win over -full.
	o, err = parseArgs([]string{"-full", "-n", "1e3", "-keys", "string", "-workloads", "grow,mix-90", "-warmup", "0s"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.ns, []int{1000}) || !reflect.DeepEqual(o.keys, []string{"string"}) ||
		!reflect.DeepEqual(wlNames(o.workloads), []string{"mix-90", "grow"}) || o.warmup != 0 {
		t.Errorf("-full with flags: n %v keys %v workloads %v warmup %v", o.ns, o.keys, wlNames(o.workloads), o.warmup)
	}
}

func TestParseLists(t *testing.T) {
	o, err := parseArgs([]string{"-maps", "XSYNC4, cmap,xsync4", "-keys", "both", "-n", "1e6,1e3,1_000", "-procs", "all,1,1", "-oversub", "8,1"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(o.impls, func(im *impl) string { return im.id }); !reflect.DeepEqual(got, []string{"cmap", "xsync4"}) {
		t.Errorf("maps = %v", got)
	}
	if !reflect.DeepEqual(o.ns, []int{1000, 1_000_000}) || !reflect.DeepEqual(o.procs, sortedUnique(1, runtime.NumCPU())) ||
		!reflect.DeepEqual(o.oversub, []int{1, 8}) || len(o.keys) != 2 {
		t.Errorf("n %v procs %v oversub %v keys %v", o.ns, o.procs, o.oversub, o.keys)
	}
}

func TestParseN(t *testing.T) {
	good := map[string]int{"1": 1, "1000": 1000, "1e3": 1000, "1e6": 1_000_000, "2.5e5": 250_000, "1_000_000": 1_000_000, "1E4": 10_000}
	for in, want := range good {
		if got, err := parseN(in); err != nil || got != want {
			t.Errorf("parseN(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "abc", "1.5", "0", "-1", "1e9", "NaN", "Inf", "1k"} {
		if got, err := parseN(in); err == nil {
			t.Errorf("parseN(%q) = %d, want an error", in, got)
		}
	}
}

func TestBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want []string // substrings of stderr
	}{
		{[]string{"-nope"}, []string{"flag provided but not defined: -nope", "-h"}},
		{[]string{"-maps", "cmap,hashmap"}, []string{`unknown map "hashmap"`, "syncmap", "xsync3", "xsync4", "rwmap"}},
		{[]string{"-workloads", "mix-80"}, []string{`unknown workload "mix-80"`, "load-hit", "mix-90", "grow", "snapshot"}},
		{[]string{"-maps", ","}, []string{"no map given"}},
		{[]string{"-keys", "int"}, []string{`unknown key type "int"`}},
		{[]string{"-n", "lots"}, []string{`"lots" is not a whole number`}},
		{[]string{"-n", "0"}, []string{"out of range"}},
		{[]string{"-procs", "0"}, []string{`-procs: "0"`}},
		{[]string{"-oversub", "x"}, []string{`-oversub: "x"`}},
		{[]string{"-duration", "0s"}, []string{"-duration 0s: must be positive"}},
		{[]string{"-duration", "fast"}, []string{"invalid value"}},
		{[]string{"-reps", "0"}, []string{"-reps 0"}},
		{[]string{"-warmup", "-1s"}, []string{"-warmup -1s"}},
		{[]string{"mix-90"}, []string{`unexpected argument "mix-90"`}},
		{[]string{"-csv", filepath.Join(t.TempDir(), "no", "such", "dir", "x.csv"), "-duration", "1ms"}, []string{"-csv:"}},
		{[]string{"-replot", "x.csv"}, []string{"-replot x.csv: needs -svg DIR"}},
		{[]string{"-replot", "", "-svg", "d"}, []string{"-replot: no CSV file given"}},
		{[]string{"-replot", "x.csv", "-svg", "d", "-n", "1e3"}, []string{"-replot takes only -svg, not -n"}},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if code := run(tt.args, &stdout, &stderr); code != 2 {
			t.Errorf("run(%q) = %d, want 2; stderr:\n%s", tt.args, code, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("run(%q) wrote to stdout: %q", tt.args, stdout.String())
		}
		if strings.Contains(stderr.String(), "Usage:") {
			t.Errorf("run(%q) printed the whole usage for an error", tt.args)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("run(%q): stderr lacks %q:\n%s", tt.args, w, stderr.String())
			}
		}
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-h"}, &stdout, &stderr); code != 0 {
		t.Fatalf("-h: exit %d", code)
	}
	for _, w := range []string{"Usage:", "-workloads", "-oversub", "-full", "mix-75", "xsync4"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("-h output lacks %q", w)
		}
	}
}

func TestCommandLine(t *testing.T) {
	defer func(old string) { commandName = old }(commandName)
	commandName = "go run ./bench"
	got := commandLine([]string{"-n", "1e3", "-csv", "my file.csv", "-maps", "it's"})
	want := `go run ./bench -n 1e3 -csv 'my file.csv' -maps 'it'\''s'`
	if got != want {
		t.Errorf("commandLine = %s, want %s", got, want)
	}
}

func TestPercentile(t *testing.T) {
	s := make([]int64, 1000)
	for i := range s {
		s[i] = int64(i + 1)
	}
	for p, want := range map[float64]int64{50: 500, 99: 990, 99.9: 999, 100: 1000, 0.1: 1, 0: 1} {
		if got := percentile(s, p); got != want {
			t.Errorf("percentile(1..1000, %v) = %d, want %d", p, got, want)
		}
	}
	four := []int64{10, 20, 30, 40}
	for p, want := range map[float64]int64{25: 10, 26: 20, 50: 20, 75: 30, 76: 40, 100: 40} {
		if got := percentile(four, p); got != want {
			t.Errorf("percentile(%v, %v) = %d, want %d", four, p, got, want)
		}
	}
	if got := percentile([]int64{7}, 99.9); got != 7 {
		t.Errorf("percentile of one sample = %d", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil) = %d", got)
	}
}

func TestMedian(t *testing.T) {
	in := []float64{3, 1, 2}
	if got := median(in); got != 2 {
		t.Errorf("median odd = %v", got)
	}
	if !reflect.DeepEqual(in, []float64{3, 1, 2}) {
		t.Errorf("median modified its input: %v", in)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median even = %v", got)
	}
	if got := median(nil); got != 0 {
		t.Errorf("median(nil) = %v", got)
	}
}

func TestSummarize(t *testing.T) {
	var s []int64
	for i := range 10_000 {
		s = append(s, int64(100+i%100)) // 100..199 ns
	}
	s = append(s, int64(150*time.Microsecond), int64(100*time.Microsecond), int64(3*time.Millisecond))
	slices.Reverse(s)
	sum := summarize(s)
	if sum.count != 10_003 || sum.max != 3*time.Millisecond || sum.over100us != 2 || sum.p50 != 150 || sum.p99 != 199 {
		t.Errorf("summary: count %d p50 %v p99 %v max %v over100us %d", sum.count, sum.p50, sum.p99, sum.max, sum.over100us)
	}
	cdf := sum.cdf
	if len(cdf) < 50 || len(cdf) > 700 {
		t.Fatalf("cdf has %d points", len(cdf))
	}
	for i := 1; i < len(cdf); i++ {
		if cdf[i].ns < cdf[i-1].ns || cdf[i].frac <= cdf[i-1].frac || cdf[i].tail >= cdf[i-1].tail {
			t.Fatalf("cdf not monotone at %d: %+v %+v", i, cdf[i-1], cdf[i])
		}
	}
	last := cdf[len(cdf)-1]
	if last.ns != float64(3*time.Millisecond) || last.frac != 1 || last.tail <= 0 || cdf[0].tail != 1 {
		t.Errorf("cdf ends: first %+v last %+v", cdf[0], last)
	}
}

func TestTable(t *testing.T) {
	tb := &table{header: []string{"map", "ops/s"}, right: []bool{false, true}}
	tb.add("cmap", "25.3M")
	tb.add("sync.Map", "1k")
	var b bytes.Buffer
	tb.write(&b)
	want := "" +
		"| map      | ops/s |\n" +
		"| -------- | ----: |\n" +
		"| cmap     | 25.3M |\n" +
		"| sync.Map |    1k |\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{fmtN(1000), "1e3"}, {fmtN(1_000_000), "1e6"}, {fmtN(1500), "1500"}, {fmtN(1), "1"},
		{fmtRate(25.34e6), "25.3M"}, {fmtRate(7.8e6), "7.80M"}, {fmtRate(999.7e3), "1.00M"}, {fmtRate(812), "812"},
		{fmtDur(48), "48ns"}, {fmtDur(1234), "1.23µs"}, {fmtDur(104e6), "104ms"}, {fmtDur(2.5e9), "2.50s"},
		{fmtRatio(1.234), "1.23×"}, {fmtRatio(nan), "—"}, {fmtAllocs(0), "0"}, {fmtAllocs(1.004), "1.00"},
		{fmtCount(3), "3"}, {fmtCount(1.0 / 3), "0.33"}, {fmtCount(101.0 + 1.0/3), "101"}, {fmtCount(68.0 + 1.0/3), "68.3"}, {fmtBytes(3 << 20), "3.0 MiB"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	im := lookupImpl("xsync4")
	rs := []*result{{Workload: "mix-90", Keys: "uint64", N: 1000, Procs: 2, Goroutines: 16, Map: "xsync4", im: im}}
	rs[0].set("ops/s", 2.5e7)
	rs[0].set("ns/op", 40)
	var b bytes.Buffer
	if err := writeCSV(&b, rs); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"workload", "keys", "n", "procs", "goroutines", "map", "metric", "value"},
		{"mix-90", "uint64", "1000", "2", "16", "xsync4", "ops/s", "2.5e+07"},
		{"mix-90", "uint64", "1000", "2", "16", "xsync4", "ns/op", "40"},
	}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("csv = %q, want %q", recs, want)
	}
}

func TestKeys(t *testing.T) {
	u := u64Keys(10_000)
	seen := map[uint64]bool{}
	for _, k := range u {
		if seen[k] {
			t.Fatalf("duplicate uint64 key %d", k)
		}
		seen[k] = true
	}
	if u2 := u64Keys(20); !slices.Equal(u2, u[:20]) {
		t.Errorf("smaller key set is not a prefix")
	}
	if s := strKeys(3); !slices.Equal(s, []string{"key-0", "key-1", "key-2"}) {
		t.Errorf("string keys = %q", s)
	}
	if a, b := newRNG(1, 3), newRNG(1, 3); a.next() != b.next() {
		t.Errorf("the same goroutine index must draw the same sequence")
	}
	if a, b := newRNG(1, 3), newRNG(1, 4); a.next() == b.next() {
		t.Errorf("goroutines 3 and 4 draw the same first number")
	}
}

// countMap counts the operations opLoop sends and stops it after limit.
type countMap struct {
	loads, stores, deletes, limit int
	keys                          map[uint64]bool // keys opLoop may use
	stray                         int
	stop                          *atomic.Bool
}

func (c *countMap) op(k uint64) {
	if !c.keys[k] {
		c.stray++
	}
	if c.loads+c.stores+c.deletes >= c.limit {
		c.stop.Store(true)
	}
}
func (c *countMap) Load(k uint64) (uint64, bool) { c.loads++; c.op(k); return 0, false }
func (c *countMap) Store(k uint64, _ uint64)     { c.stores++; c.op(k) }
func (c *countMap) Delete(k uint64)              { c.deletes++; c.op(k) }

func TestOpLoopMix(t *testing.T) {
	const n = 100
	keys := u64Keys(2 * n)
	for _, name := range []string{"load-hit", "mix-99", "mix-90", "mix-75", "mix-50"} {
		w := lookupWorkload(name)
		var stop atomic.Bool
		c := &countMap{limit: 200_000, keys: map[uint64]bool{}, stop: &stop}
		for _, k := range keys[:w.span*n] {
			c.keys[k] = true
		}
		loadThr, storeThr := w.thresholds()
		r := newRNG(1, 0)
		ops, _ := opLoop[uint64](c, keys, uint64(w.span*n), loadThr, storeThr, &r, &stop)
		total := float64(c.loads + c.stores + c.deletes)
		if int(ops) != int(total) || c.stray != 0 {
			t.Errorf("%s: ops %d, counted %v, %d keys outside [0, %d×N)", name, ops, total, c.stray, w.span)
		}
		fl, fs := float64(c.loads)/total, float64(c.stores)/total
		if d := fl - w.load; d < -0.01 || d > 0.01 {
			t.Errorf("%s: load fraction %.4f, want %.4f", name, fl, w.load)
		}
		if d := fs - w.store; d < -0.01 || d > 0.01 {
			t.Errorf("%s: store fraction %.4f, want %.4f", name, fs, w.store)
		}
	}
}

// TestAdapters checks that every registered map behaves as a map through
// benchMap, for both key types.
func TestAdapters(t *testing.T) {
	for _, im := range registry {
		t.Run(im.id, func(t *testing.T) {
			testAdapter(t, newMapOf[uint64](im), u64Keys(300))
			testAdapter(t, newMapOf[string](im), strKeys(300))
		})
	}
}

func testAdapter[K comparable](t *testing.T, m benchMap[K], keys []K) {
	t.Helper()
	for i, k := range keys {
		m.Store(k, uint64(i)+1000)
	}
	for i, k := range keys {
		if i%2 == 0 {
			m.Delete(k)
		} else {
			m.Store(k, uint64(i))
		}
	}
	for i, k := range keys {
		v, ok := m.Load(k)
		if i%2 == 0 && ok {
			t.Errorf("key %v: found after Delete", k)
		}
		if i%2 == 1 && (!ok || v != uint64(i)) {
			t.Errorf("key %v: Load = %d, %v; want %d, true", k, v, ok, i)
		}
	}
	if sn, ok := m.(snapshotter); ok && sn.snapshot() == nil {
		t.Errorf("snapshot() = nil")
	}
}

// TestEndToEnd runs the tool on tiny sizes and checks the output has a
// table per workload with a row per map, and the CSV and SVG files.
func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	csvPath, svgDir := filepath.Join(dir, "out.csv"), filepath.Join(dir, "svg")
	var stdout, stderr bytes.Buffer
	args := []string{"-duration", "10ms", "-n", "1000", "-reps", "2", "-csv", csvPath, "-svg", svgDir}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("run(%q) = %d; stderr:\n%s", args, code, stderr.String())
	}
	out := stdout.String()
	for _, w := range []string{"# segmap bench", "NumCPU=", runtime.Version(), "-duration 10ms -n 1000",
		"## load-hit", "## mix-90", "## mix-50", "## grow", "## memory", "p99.9", "bytes/entry"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	// A row per map and GOMAXPROCS in every table: 3 throughput tables,
	// grow and memory; the floor once per table.
	procs := len(sortedUnique(1, runtime.NumCPU()))
	for _, im := range registry {
		if im.ref {
			continue // not in -maps all
		}
		label, want := "| "+im.label+" ", 4*procs+1
		if im.ours {
			label = "| **" + im.label + "**"
		}
		if im.floor {
			want = 4
			if got := strings.Count(out, "| map (built-in) "); got != 1 {
				t.Errorf("memory table: %d rows for the built-in map, want 1", got)
			}
		}
		if got := strings.Count(out, label); got != want {
			t.Errorf("%s: %d rows, want %d", im.id, got, want)
		}
	}
	if ours := lookupImpl("cmap"); ours != nil && !strings.Contains(out, "cmap ÷ best peer") {
		t.Errorf("no cmap ÷ best peer line")
	}
	if !strings.Contains(stderr.String(), "[1/") || !strings.Contains(stderr.String(), "mix-90 keys=uint64 n=1e3") {
		t.Errorf("no progress on stderr:\n%s", stderr.String())
	}
	data, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "workload,keys,n,procs,goroutines,map,metric,value\n") || !strings.Contains(string(data), "grow,uint64,1000,") {
		t.Errorf("csv:\n%.300s", data)
	}
	svgs, _ := filepath.Glob(filepath.Join(svgDir, "*.svg"))
	for _, want := range []string{"mix-90-uint64-n1e3.svg", "memory-uint64-n1e3.svg", "grow-uint64-n1e3-cdf-p1-g1.svg", "grow-uint64-n1e3-tail-p1-g1.svg"} {
		if !slices.Contains(svgs, filepath.Join(svgDir, want)) {
			t.Errorf("no %s among %q", want, svgs)
		}
	}
}

// TestEndToEndOthers runs the workloads the default leaves out.
func TestEndToEndOthers(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"-duration", "10ms", "-n", "1000", "-reps", "1", "-procs", "1", "-keys", "string",
		"-workloads", "mix-99,allocs,snapshot", "-maps", "cmap,syncmap,map"}
	if lookupImpl("cmap") == nil {
		args[len(args)-1] = "syncmap,map"
	}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("run(%q) = %d; stderr:\n%s", args, code, stderr.String())
	}
	out := stdout.String()
	for _, w := range []string{"## mix-99", "## allocs", "Store existing", "## snapshot", "keys=string"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
}

// TestContendOneSegment checks that contend-1seg builds cmap with one
// segment, and only cmap: the other workloads and the peers are built as
// usual.
func TestContendOneSegment(t *testing.T) {
	w, mix := lookupWorkload("contend-1seg"), lookupWorkload("mix-50")
	if w == nil || !w.oneSegment || w.kind != kindThroughput || w.load != mix.load || w.store != mix.store || w.span != mix.span {
		t.Fatalf("contend-1seg = %+v, want mix-50's operations with oneSegment", w)
	}
	segs := func(m benchMap[uint64]) int { return m.(cmapMap[uint64]).m.Stats().Segments }
	im := lookupImpl("cmap")
	if got := segs(newMapFor[uint64](im, w)); got != 1 {
		t.Errorf("contend-1seg cmap: %d segments, want 1", got)
	}
	if got := segs(newMapFor[uint64](im, mix)); got == 1 {
		t.Errorf("mix-50 cmap: %d segment, want the default", got)
	}
	if got := newMapFor[string](lookupImpl("cmapentries"), w).(cmapEntries[string]).m.Stats().Segments; got != 1 {
		t.Errorf("contend-1seg cmapentries: %d segments, want 1", got)
	}
	if _, ok := newMapFor[uint64](lookupImpl("xsync4"), w).(oneSegmenter[uint64]); ok {
		t.Error("xsync4 built as a one-segment map")
	}
}
