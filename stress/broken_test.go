package stress

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The harness's teeth: maps that are each broken in one way, and a test
// that Run fails on every one of them. A check that cannot fail is
// worthless.

// lockedMap is a correct Map: a Go map under one mutex. The broken maps
// embed it and break one thing each.
type lockedMap struct {
	mu sync.Mutex
	m  map[uint64]uint64
}

func newLockedMap() *lockedMap { return &lockedMap{m: make(map[uint64]uint64)} }

func (l *lockedMap) Load(k uint64) (uint64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.m[k]
	return v, ok
}

func (l *lockedMap) Store(k, v uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m[k] = v
}

func (l *lockedMap) LoadOrStore(k, v uint64) (uint64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.m[k]; ok {
		return old, true
	}
	l.m[k] = v
	return v, false
}

func (l *lockedMap) LoadAndDelete(k uint64) (uint64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.m[k]
	delete(l.m, k)
	return v, ok
}

func (l *lockedMap) Delete(k uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, k)
}

func (l *lockedMap) Swap(k, v uint64) (uint64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	old, ok := l.m[k]
	l.m[k] = v
	return old, ok
}

func (l *lockedMap) CompareAndSwap(k, old, new uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v, ok := l.m[k]; !ok || v != old {
		return false
	}
	l.m[k] = new
	return true
}

func (l *lockedMap) CompareAndDelete(k, old uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v, ok := l.m[k]; !ok || v != old {
		return false
	}
	delete(l.m, k)
	return true
}

// Range visits a copy of the map taken under the lock, as a snapshot.
func (l *lockedMap) Range(f func(k, v uint64) bool) {
	for _, e := range l.entries() {
		if !f(e.k, e.v) {
			return
		}
	}
}

// DeleteFunc runs del on each entry under the mutex: each deletion is
// atomic for its key.
func (l *lockedMap) DeleteFunc(del func(k, v uint64) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for k, v := range l.m {
		if del(k, v) {
			delete(l.m, k)
			n++
		}
	}
	return n
}

func (l *lockedMap) entries() []kv {
	l.mu.Lock()
	defer l.mu.Unlock()
	es := make([]kv, 0, len(l.m))
	for k, v := range l.m {
		es = append(es, kv{k, v})
	}
	return es
}

// racyLoadOrStore checks and then acts without holding the lock across
// both: two goroutines can both find the key absent and both store.
type racyLoadOrStore struct{ *lockedMap }

func (r racyLoadOrStore) LoadOrStore(k, v uint64) (uint64, bool) {
	if old, ok := r.Load(k); ok {
		return old, true
	}
	runtime.Gosched() // widen the window between check and act
	r.Store(k, v)
	return v, false
}

// lostDelete silently drops one Delete in 64.
type lostDelete struct {
	*lockedMap
	n *atomic.Int64
}

func (l lostDelete) Delete(k uint64) {
	if l.n.Add(1)%64 == 0 {
		return
	}
	l.lockedMap.Delete(k)
}

// dupRange visits its first key a second time in one Range of 16.
type dupRange struct {
	*lockedMap
	n *atomic.Int64
}

func (d dupRange) Range(f func(k, v uint64) bool) {
	es := d.entries()
	if len(es) > 0 && d.n.Add(1)%16 == 0 {
		es = append(es, es[0])
	}
	for _, e := range es {
		if !f(e.k, e.v) {
			return
		}
	}
}

// skipRange leaves out one key in one Range of 8.
type skipRange struct {
	*lockedMap
	n *atomic.Int64
}

func (s skipRange) Range(f func(k, v uint64) bool) {
	es := s.entries()
	if len(es) > 0 && s.n.Add(1)%8 == 0 {
		es = es[1:]
	}
	for _, e := range es {
		if !f(e.k, e.v) {
			return
		}
	}
}

// looseCAS lets one CompareAndSwap in 32 on a present key succeed even
// though the value is not old.
type looseCAS struct {
	*lockedMap
	n *atomic.Int64
}

func (l looseCAS) CompareAndSwap(k, old, new uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.m[k]
	if !ok || (v != old && l.n.Add(1)%32 != 0) {
		return false
	}
	l.m[k] = new
	return true
}

// staleLoad is a lagging read: one Load in 8 returns what the key held
// before its latest write, as a reader caching values would.
type staleLoad struct {
	*lockedMap
	mu   *sync.Mutex
	prev map[uint64]linState // the state of each key before its latest write
	n    *atomic.Int64
}

func newStaleLoad() staleLoad {
	return staleLoad{lockedMap: newLockedMap(), mu: new(sync.Mutex), prev: make(map[uint64]linState), n: new(atomic.Int64)}
}

// write runs a write of k on the inner map, remembering k's state before it.
func (s staleLoad) write(k uint64, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.lockedMap.Load(k)
	f()
	if v2, ok2 := s.lockedMap.Load(k); v2 != v || ok2 != ok {
		s.prev[k] = linState{v, ok}
	}
}

func (s staleLoad) Load(k uint64) (uint64, bool) {
	if s.n.Add(1)%8 == 0 {
		s.mu.Lock()
		p, ok := s.prev[k]
		s.mu.Unlock()
		if ok {
			return p.v, p.present
		}
	}
	return s.lockedMap.Load(k)
}

func (s staleLoad) Store(k, v uint64) { s.write(k, func() { s.lockedMap.Store(k, v) }) }
func (s staleLoad) Delete(k uint64)   { s.write(k, func() { s.lockedMap.Delete(k) }) }

func (s staleLoad) LoadOrStore(k, v uint64) (a uint64, loaded bool) {
	s.write(k, func() { a, loaded = s.lockedMap.LoadOrStore(k, v) })
	return a, loaded
}

func (s staleLoad) LoadAndDelete(k uint64) (v uint64, loaded bool) {
	s.write(k, func() { v, loaded = s.lockedMap.LoadAndDelete(k) })
	return v, loaded
}

func (s staleLoad) Swap(k, v uint64) (p uint64, loaded bool) {
	s.write(k, func() { p, loaded = s.lockedMap.Swap(k, v) })
	return p, loaded
}

func (s staleLoad) CompareAndSwap(k, old, new uint64) (ok bool) {
	s.write(k, func() { ok = s.lockedMap.CompareAndSwap(k, old, new) })
	return ok
}

func (s staleLoad) CompareAndDelete(k, old uint64) (ok bool) {
	s.write(k, func() { ok = s.lockedMap.CompareAndDelete(k, old) })
	return ok
}

// checkThenDelete's DeleteFunc checks each entry's value, then deletes the
// key by Delete, without holding the key in between: an entry stored again
// meanwhile is deleted on the strength of its old value.
type checkThenDelete struct{ *lockedMap }

func (c checkThenDelete) DeleteFunc(del func(k, v uint64) bool) int {
	n := 0
	for _, e := range c.entries() {
		if del(e.k, e.v) {
			runtime.Gosched() // the gap that a real check-then-delete leaves
			if _, ok := c.LoadAndDelete(e.k); ok {
				n++
			}
		}
	}
	return n
}

// stuckStore blocks forever in one Store of 4096: a deadlock.
type stuckStore struct {
	*lockedMap
	n *atomic.Int64
}

func (s stuckStore) Store(k, v uint64) {
	// Every 256th Store: a scenario reaches that many on one map even on a
	// loaded machine (every 4096th did not, always).
	if s.n.Add(1)%256 == 0 {
		select {}
	}
	s.lockedMap.Store(k, v)
}

// plainMap is a Go map with no synchronization at all: correct on one
// goroutine, a data race (or a fatal "concurrent map writes") on several.
type plainMap map[uint64]uint64

func (p plainMap) Load(k uint64) (uint64, bool) { v, ok := p[k]; return v, ok }
func (p plainMap) Store(k, v uint64)            { p[k] = v }
func (p plainMap) Delete(k uint64)              { delete(p, k) }

func (p plainMap) LoadOrStore(k, v uint64) (uint64, bool) {
	if old, ok := p[k]; ok {
		return old, true
	}
	p[k] = v
	return v, false
}

func (p plainMap) LoadAndDelete(k uint64) (uint64, bool) {
	v, ok := p[k]
	delete(p, k)
	return v, ok
}

func (p plainMap) Swap(k, v uint64) (uint64, bool) {
	old, ok := p[k]
	p[k] = v
	return old, ok
}

func (p plainMap) CompareAndSwap(k, old, new uint64) bool {
	if v, ok := p[k]; !ok || v != old {
		return false
	}
	p[k] = new
	return true
}

func (p plainMap) CompareAndDelete(k, old uint64) bool {
	if v, ok := p[k]; !ok || v != old {
		return false
	}
	delete(p, k)
	return true
}

func (p plainMap) Range(f func(k, v uint64) bool) {
	for k, v := range p {
		if !f(k, v) {
			return
		}
	}
}

// clobberingCompute has a LoadOrCompute that runs f with no lock held, as
// cmap's does, but then stores f's value whatever happened meanwhile: a
// Store of the key while f ran is overwritten, and LoadOrCompute returns
// f's value as computed (loaded false). Each step is locked; the
// operation as a whole is not one instant.
type clobberingCompute struct{ *lockedMap }

func (c clobberingCompute) LoadOrCompute(k uint64, f func() uint64) (uint64, bool) {
	if v, ok := c.Load(k); ok {
		return v, true
	}
	v := f()
	c.Store(k, v) // wrong: must load instead if k was stored meanwhile
	return v, false
}

// brokenMaps are the broken maps by name, with the scenarios that must
// catch each: those that catch it every time, not every scenario that may.
// A map's child runs only those scenarios, or all of them if there are
// none or passes is set.
var brokenMaps = map[string]struct {
	newMap func() Map
	caught []string
	// passes marks a peer with a known flaw: one of caught and mayFail
	// must fail (in one of two runs), and no other scenario.
	passes  bool
	mayFail []string // scenarios that catch the map in some runs only
	full    bool     // run with Run's default Duration, not 150ms: the Clear checks need it
	// untilCaught: run with a budget of untilCaughtDuration, not 150ms.
	// Each scenario of caught stops at its first failure, so the budget
	// is spent only by a scenario that misses the flaw: one whose
	// catch needs an unlucky interleaving, which a loaded machine may
	// not give within a few rounds, keeps trying until it comes.
	untilCaught bool
	visualized  bool // a history that is not linearizable is reported, with its visualization
}{
	"racy-load-or-store": {
		newMap:     func() Map { return racyLoadOrStore{newLockedMap()} },
		caught:     []string{"load-or-store-race", "linearizability"},
		visualized: true,
	},
	"clobbering-compute": {
		newMap:     func() Map { return clobberingCompute{newLockedMap()} },
		caught:     []string{"linearizability"},
		visualized: true,
	},
	"check-then-act": {
		newMap:      func() Map { return checkThenAct{newLockedMap()} },
		caught:      []string{"load-or-store-race"},
		untilCaught: true,
	},
	"sharded-check-then-act": {
		newMap: func() Map {
			m := newShardedMap()
			return checkThenActClear{checkThenAct{m}, m}
		},
		caught:      []string{"load-or-store-race"},
		untilCaught: true,
	},
	"clear-shard-by-shard": {
		full:   true,
		newMap: func() Map { return clearShardByShard{newShardedMap()} },
		caught: []string{"clear-atomic"},
	},
	"clear-skipped-on-grow": {
		full:       true,
		newMap:     func() Map { return clearSkippedOnGrow{newShardedMap()} },
		caught:     []string{"clear-linearizability", "clear-atomic"},
		visualized: true,
	},
	// Not broken by this package: xsync v4.5.0's Map, whose Clear is
	// skipped when it meets a resize (docs/guarantees.md, "Clear"), and
	// whose DeleteMatching may call its function twice for a key when the
	// table is resized meanwhile, as its documentation says (delete-func
	// sees that in some runs; its deletions themselves hold).
	"xsync-v4": {
		full:    true,
		newMap:  newXsyncMap,
		caught:  []string{"clear-atomic", "clear-linearizability"},
		mayFail: []string{"delete-func"},
		passes:  true,
	},
	"check-then-delete": {
		newMap: func() Map { return checkThenDelete{newLockedMap()} },
		caught: []string{"delete-func"},
	},
	// Not broken by this package: xsync v3.5.1's MapOf, the older API.
	"xsync-v3": {
		full:   true,
		newMap: newXsyncV3Map,
		caught: []string{"clear-atomic", "clear-linearizability"},
		passes: true,
	},
	"lost-delete": {
		newMap: func() Map { return lostDelete{newLockedMap(), new(atomic.Int64)} },
		caught: []string{"disjoint-writers", "churn", "grow-shrink"},
	},
	"duplicate-in-range": {
		newMap: func() Map { return dupRange{newLockedMap(), new(atomic.Int64)} },
		// disjoint-writers ranges only a few times per run, and under CPU
		// load it may not reach the 16th Range that repeats a key.
		caught: []string{"range-under-writers"},
	},
	"skip-in-range": {
		newMap: func() Map { return skipRange{newLockedMap(), new(atomic.Int64)} },
		caught: []string{"range-under-writers"},
	},
	"loose-compare-and-swap": {
		newMap:     func() Map { return looseCAS{newLockedMap(), new(atomic.Int64)} },
		caught:     []string{"disjoint-writers", "contended-counters", "linearizability"},
		visualized: true,
	},
	"stale-load": {
		newMap:     func() Map { return newStaleLoad() },
		caught:     []string{"disjoint-writers", "contended-counters", "linearizability"},
		visualized: true,
	},
	"goroutine-leak": {
		newMap: func() Map {
			go func() { select {} }() // never ends
			return newLockedMap()
		},
		caught: []string{"disjoint-writers", "contended-counters", "load-or-store-race", "churn", "grow-shrink", "range-under-writers", "linearizability"},
	},
	// The process dies of a race report or a fatal error.
	"unsynchronized": {newMap: func() Map { return make(plainMap) }},
	// The watchdog ends the process.
	"deadlock": {newMap: func() Map { return stuckStore{newLockedMap(), new(atomic.Int64)} }},
}

// visualizationRE finds the visualization files named in failure messages.
var visualizationRE = regexp.MustCompile(`porcupine's visualization: (\S+)\)`)

// brokenEnv is the environment variable naming the broken map that
// TestBrokenChild runs.
const brokenEnv = "STRESS_BROKEN"

// brokenDurationEnv sets the Duration of TestBrokenChild's Run, 150ms by
// default, to measure how often a scenario catches a map at other budgets
// (0 is Run's default).
const brokenDurationEnv = "STRESS_BROKEN_DURATION"

// untilCaughtDuration is the budget of a broken map marked untilCaught: a
// bound on a search that ends at the first catch, generous enough for a
// loaded 2-core machine under -race.
const untilCaughtDuration = 20 * time.Second

// TestBroken runs Run on each broken map in a child process (so that a map
// that crashes the process, or a failure, is observed rather than suffered)
// and checks that the child fails, in the scenarios that must catch the
// map, with the seed and the replay command in its messages, and with
// short linearizability reports whose visualization is written only where
// -stress.html asks.
func TestBroken(t *testing.T) {
	names := make([]string, 0, len(brokenMaps))
	for name := range brokenMaps {
		names = append(names, name)
	}
	slices.Sort(names)
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			res := runBrokenChild(t, name, i%2 == 0)
			if brokenMaps[name].passes && !caughtAny(res, brokenMaps[name].caught) {
				// A peer's flaw is found in most runs, not all: one
				// miss is chance, two in a row are news.
				t.Logf("no scenario caught %s (seed %d); running it again", name, res.seed)
				res = runBrokenChild(t, name, i%2 == 0)
			}
			checkBrokenChild(t, name, res)
		})
	}
}

// brokenRun is what a child of TestBroken did.
type brokenRun struct {
	seed         uint64
	output       string
	err          error
	failed       []string // the scenarios that failed
	htmlDir, tmp string   // the -stress.html directory and the child's TMPDIR
	seedFromFlag bool
}

// runBrokenChild runs TestBrokenChild on the broken map name, with a random
// seed passed by -stress.seed if byFlag, else by STRESS_SEED.
func runBrokenChild(t *testing.T, name string, byFlag bool) brokenRun {
	b := brokenMaps[name]
	res := brokenRun{seed: rand.Uint64() | 1, htmlDir: t.TempDir(), tmp: t.TempDir(), seedFromFlag: byFlag}
	run := "^TestBrokenChild$"
	if len(b.caught) > 0 && !b.passes {
		run += "/^(" + strings.Join(b.caught, "|") + ")$"
	}
	args := []string{"-test.run=" + run, "-test.v", "-test.timeout=5m", "-stress.html=" + res.htmlDir}
	env := append(os.Environ(), brokenEnv+"="+name, "TMPDIR="+res.tmp)
	switch {
	case b.full:
		env = append(env, brokenDurationEnv+"=0")
	case b.untilCaught:
		env = append(env, brokenDurationEnv+"="+untilCaughtDuration.String())
	}
	if byFlag {
		args = append(args, "-stress.seed="+strconv.FormatUint(res.seed, 10))
	} else {
		env = append(env, seedEnv+"="+strconv.FormatUint(res.seed, 10))
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("child ran %v", time.Since(start).Round(time.Millisecond))
	res.output, res.err = string(out), err
	for _, sc := range scenarios {
		if strings.Contains(res.output, "--- FAIL: TestBrokenChild/"+sc.name+" ") {
			res.failed = append(res.failed, sc.name)
		}
	}
	t.Logf("caught by %v", res.failed)
	return res
}

// caughtAny reports whether one of the scenarios failed in res.
func caughtAny(res brokenRun, scenarios []string) bool {
	for _, sc := range scenarios {
		if slices.Contains(res.failed, sc) {
			return true
		}
	}
	return false
}

// checkBrokenChild checks what the child of TestBroken on name did.
func checkBrokenChild(t *testing.T, name string, res brokenRun) {
	b := brokenMaps[name]
	out := res.output
	if b.passes && !caughtAny(res, b.caught) {
		t.Fatalf("%s passed %v twice in a row (seed %d): if its flaw is fixed, docs/guarantees.md (Clear) and this test are out of date; output:\n%s",
			name, b.caught, res.seed, out)
	}
	if res.err == nil {
		t.Fatalf("Run passed the broken map %q (seed %d); output:\n%s", name, res.seed, out)
	}
	if _, ok := res.err.(*exec.ExitError); !ok {
		t.Fatalf("running the child: %v", res.err)
	}
	switch name {
	case "unsynchronized":
		if !strings.Contains(out, "DATA RACE") && !strings.Contains(out, "fatal error: concurrent map") && len(res.failed) == 0 {
			t.Errorf("child failed, but neither with a race report, a fatal map error nor a failed scenario:\n%s", out)
		}
		return
	case "deadlock":
		if !strings.Contains(out, "the map is stuck") {
			t.Errorf("child failed, but not with the watchdog's report:\n%s", out)
		}
	}
	for _, sc := range b.caught {
		if !b.passes && !slices.Contains(res.failed, sc) {
			t.Errorf("scenario %s did not catch %q (seed %d); output:\n%s", sc, name, res.seed, out)
		}
	}
	if b.passes {
		for _, sc := range res.failed {
			if !slices.Contains(b.caught, sc) && !slices.Contains(b.mayFail, sc) {
				t.Errorf("%s failed scenario %s, which it is expected to pass (seed %d); output:\n%s", name, sc, res.seed, out)
			}
		}
	}
	if want := fmt.Sprintf("-stress.seed=%d]", res.seed); !strings.Contains(out, want) {
		t.Errorf("the child's output does not give the replay command with the seed (%s):\n%s", want, out)
	}
	checkLinReports(t, b.visualized, res)
}

// checkLinReports checks the child's linearizability reports: at most 30
// lines each, with a marked operation, and a visualization in the
// -stress.html directory (and nothing left in TMPDIR).
func checkLinReports(t *testing.T, visualized bool, res brokenRun) {
	lines := strings.Split(res.output, "\n")
	for i, l := range lines {
		if !strings.Contains(l, "history not linearizable") {
			continue
		}
		n := 1
		for i+n < len(lines) && !strings.Contains(lines[i+n-1], "[seed ") {
			n++
		}
		if n > 30 {
			t.Errorf("a linearizability report of %d lines, want at most 30:\n%s", n, strings.Join(lines[i:i+n], "\n"))
		}
		if !strings.Contains(strings.Join(lines[i:i+n], "\n"), "<- the first operation that cannot be placed") {
			t.Errorf("a linearizability report with no operation marked:\n%s", strings.Join(lines[i:i+n], "\n"))
		}
	}
	vis := visualizationRE.FindAllStringSubmatch(res.output, -1)
	if visualized && len(vis) == 0 {
		t.Errorf("no porcupine visualization named in the child's output:\n%s", res.output)
	}
	for _, v := range vis {
		if filepath.Dir(v[1]) != res.htmlDir {
			t.Errorf("the visualization %s is not in the -stress.html directory %s", v[1], res.htmlDir)
		}
		if fi, err := os.Stat(v[1]); err != nil || fi.Size() == 0 {
			t.Errorf("the visualization %s named in the child's output is missing or empty (%v)", v[1], err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(res.tmp, "*.html")); len(left) > 0 {
		t.Errorf("the child left %v in its temporary directory", left)
	}
}

// TestBrokenChild is TestBroken's child process; it skips unless run as one.
// Its seed comes from -stress.seed or STRESS_SEED, as a replay's would.
func TestBrokenChild(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		t.Skip("runs only as TestBroken's child process")
	}
	b, ok := brokenMaps[name]
	if !ok {
		t.Fatalf("%s=%q: no such broken map", brokenEnv, name)
	}
	stuckGrace = 2 * time.Second
	d := 150 * time.Millisecond
	if env := os.Getenv(brokenDurationEnv); env != "" {
		var err error
		if d, err = time.ParseDuration(env); err != nil {
			t.Fatalf("%s: %v", brokenDurationEnv, err)
		}
	}
	Run(t, b.newMap, Options{Duration: d})
}
