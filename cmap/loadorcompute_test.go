package cmap_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmap/segmap/cmap"
)

// LoadOrCompute's f runs under no lock, and the callers of one key share
// its call. Each scenario runs on both table layouts: flat (pointer-free
// uint64 keys and values) and entries (string keys, pointer values).

type pointee struct{ n int }

// layoutCase is one table layout's key and value types, as functions of
// an int.
type layoutCase[K comparable, V comparable] struct {
	name   string
	layout string // Stats().Layout
	key    func(int) K
	val    func(int) V
}

var flatCase = layoutCase[uint64, uint64]{"flat", "flat",
	func(i int) uint64 { return uint64(i) }, func(i int) uint64 { return uint64(i) + 1 }}

var pointees sync.Map // int -> *pointee, one per int so values compare equal

var entryCase = layoutCase[string, *pointee]{"entries", "entries",
	func(i int) string { return fmt.Sprintf("k%d", i) },
	func(i int) *pointee {
		p, _ := pointees.LoadOrStore(i, &pointee{i})
		return p.(*pointee)
	}}

// bothLayouts runs test on each layout.
func bothLayouts(t *testing.T, flat func(*testing.T, layoutCase[uint64, uint64]), entry func(*testing.T, layoutCase[string, *pointee])) {
	t.Run("flat", func(t *testing.T) { flat(t, flatCase) })
	t.Run("entries", func(t *testing.T) { entry(t, entryCase) })
}

// waitFor polls cond until it holds, failing the test after a grace period
// long enough for a loaded machine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// within runs f in a goroutine and reports whether it returned within d;
// if not, f is left running.
func within(d time.Duration, f func()) bool {
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// TestLoadOrComputeMissesRunInParallel: 64 goroutines miss 64 different
// keys of a 50k-entry map at once, each calling a backend that takes
// 50 ms. No miss waits for another's backend: all finish within 1.5× one
// call. (With f under its segment's lock, misses of one segment ran one
// after the other: several times as long.) Timings on a loaded machine
// vary, so the scenario is tried up to 3 times and must pass once.
func TestLoadOrComputeMissesRunInParallel(t *testing.T) {
	bothLayouts(t, testMissesRunInParallel[uint64, uint64], testMissesRunInParallel[string, *pointee])
}

func testMissesRunInParallel[K comparable, V comparable](t *testing.T, lc layoutCase[K, V]) {
	const entries, goroutines, backend = 50_000, 64, 50 * time.Millisecond
	m := cmap.New[K, V]()
	for i := range entries {
		m.Store(lc.key(i), lc.val(i))
	}
	if got := m.Stats().Layout; got != lc.layout {
		t.Fatalf("layout %s, want %s", got, lc.layout)
	}
	var took []time.Duration
	for attempt := range 3 {
		start := make(chan struct{})
		var wg sync.WaitGroup
		for g := range goroutines {
			k := entries + attempt*goroutines + g
			wg.Go(func() {
				<-start
				v, loaded := m.LoadOrCompute(lc.key(k), func() V {
					time.Sleep(backend)
					return lc.val(k)
				})
				if loaded || v != lc.val(k) {
					t.Errorf("miss of %v: (%v, %v)", lc.key(k), v, loaded)
				}
			})
		}
		t0 := time.Now()
		close(start)
		wg.Wait()
		d := time.Since(t0)
		took = append(took, d)
		if d <= backend*3/2 {
			check(t, m)
			return
		}
	}
	t.Fatalf("64 misses with a %v backend took %v (3 tries), want at most %v", backend, took, backend*3/2)
}

// TestSlowCallbackDoesNotStallOtherSegments: while one slow callback runs
// (LoadOrCompute's fill, or a Compute, 300 ms), a Snapshot or a Clear is
// requested; then 64 goroutines each store a key of another segment. No
// Store may take more than 5 ms: the fill holds no lock, and a Snapshot or
// Clear waiting for the Compute's segment holds no other segment's lock
// meanwhile. (Taking the locks in order and waiting for each, the
// Snapshot held every segment before the busy one for the whole 300 ms.)
// The busy segment is the last one, so the old way would hold all others.
// Up to 3 tries, for a loaded machine.
func TestSlowCallbackDoesNotStallOtherSegments(t *testing.T) {
	for _, slow := range []string{"LoadOrCompute", "LoadOrTryCompute", "Compute"} {
		for _, waiter := range []string{"Snapshot", "Clear", "Range", "PopOldest"} {
			t.Run(slow+"/"+waiter, func(t *testing.T) {
				bothLayouts(t,
					func(t *testing.T, lc layoutCase[uint64, uint64]) { testSlowCallback(t, lc, slow, waiter) },
					func(t *testing.T, lc layoutCase[string, *pointee]) { testSlowCallback(t, lc, slow, waiter) })
			})
		}
	}
}

func testSlowCallback[K comparable, V comparable](t *testing.T, lc layoutCase[K, V], slow, waiter string) {
	const segs, fill, limit = 64, 300 * time.Millisecond, 5 * time.Millisecond
	opts := []cmap.Option{cmap.WithSegments(segs)}
	if waiter == "PopOldest" {
		opts = append(opts, cmap.WithInsertionOrder())
	}
	m := cmap.New[K, V](opts...)
	busy := 0 // a key of the last segment
	for m.SegmentOf(lc.key(busy)) != segs-1 {
		busy++
	}
	// others[s]: a key of segment s, for each segment but the last.
	others := make([]K, segs-1)
	for i, found := 1_000_000, 0; found < segs-1; i++ {
		if s := m.SegmentOf(lc.key(i)); s < segs-1 && others[s] == *new(K) {
			others[s] = lc.key(i)
			found++
		}
	}
	var worst []time.Duration
	for range 3 {
		for i := range 1000 {
			m.Store(lc.key(2_000_000+i), lc.val(i))
		}
		m.Delete(lc.key(busy))
		inF := make(chan struct{})
		slowDone := make(chan struct{})
		go func() {
			defer close(slowDone)
			switch slow {
			case "LoadOrCompute":
				m.LoadOrCompute(lc.key(busy), func() V { close(inF); time.Sleep(fill); return lc.val(1) })
			case "LoadOrTryCompute":
				m.LoadOrTryCompute(lc.key(busy), func() (V, error) { close(inF); time.Sleep(fill); return lc.val(1), nil })
			default:
				m.Compute(lc.key(busy), func(V, bool) (V, cmap.ComputeOp) {
					close(inF)
					time.Sleep(fill)
					return lc.val(1), cmap.UpdateOp
				})
			}
		}()
		<-inF
		waiterDone := make(chan struct{})
		go func() {
			defer close(waiterDone)
			switch waiter {
			case "Snapshot":
				m.Snapshot()
			case "Clear":
				m.Clear()
			case "Range":
				m.Range(func(K, V) bool { return true })
			case "PopOldest":
				m.PopOldest()
			}
		}()
		time.Sleep(20 * time.Millisecond) // the waiter now waits for the busy segment, if it must
		var mu sync.Mutex
		var max time.Duration
		start := make(chan struct{})
		var wg sync.WaitGroup
		for g := range 64 {
			k := others[g%len(others)]
			wg.Go(func() {
				<-start
				t0 := time.Now()
				m.Store(k, lc.val(g))
				d := time.Since(t0)
				mu.Lock()
				max = maxDur(max, d)
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		overlapped := true
		select {
		case <-slowDone:
			overlapped = false
		default:
		}
		<-slowDone
		<-waiterDone
		check(t, m)
		worst = append(worst, max)
		if max <= limit {
			if !overlapped {
				t.Fatalf("the slow %s ended before the Stores did: the scenario did not overlap", slow)
			}
			return
		}
	}
	t.Fatalf("with a slow %s in flight and a %s requested, a Store to another segment took up to %v (3 tries), want at most %v",
		slow, waiter, worst, limit)
}

func maxDur(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// TestLoadOrTryComputeFailureShared: 100 callers of one key while the
// backend is down (each call fails after 20 ms) make exactly one backend
// call per failure window: every caller that found the key absent while
// the call ran gets its error, nothing is stored, and the next caller
// after the call ended calls f again.
func TestLoadOrTryComputeFailureShared(t *testing.T) {
	bothLayouts(t, testFailureShared[uint64, uint64], testFailureShared[string, *pointee])
}

func testFailureShared[K comparable, V comparable](t *testing.T, lc layoutCase[K, V]) {
	const callers = 100
	m := cmap.New[K, V]()
	k := lc.key(7)
	var calls atomic.Int32
	backend := func() (V, error) {
		calls.Add(1)
		// Hold the window open until every other caller has joined it.
		waitFor(t, "the callers to join", func() bool { return m.CallWaiters(k) == callers-1 })
		time.Sleep(20 * time.Millisecond)
		return *new(V), errBackend
	}
	for window := 1; window <= 3; window++ {
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				v, loaded, err := m.LoadOrTryCompute(k, backend)
				if err != errBackend || loaded || v != *new(V) {
					t.Errorf("caller got (%v, %v, %v), want the backend's error", v, loaded, err)
				}
			})
		}
		wg.Wait()
		if c := calls.Load(); c != int32(window) {
			t.Fatalf("after %d failure windows of %d callers: %d backend calls, want %d", window, callers, c, window)
		}
		if _, ok := m.Load(k); ok || m.Len() != 0 || m.CallWaiters(k) != -1 {
			t.Fatal("a failure stored a value or left its call registered")
		}
	}
	// The key's segment is free while the backend runs: a Store of the key
	// itself does not wait for it, and wins.
	release := make(chan struct{})
	got := make(chan error, 1)
	go func() {
		_, _, err := m.LoadOrTryCompute(k, func() (V, error) { <-release; return *new(V), errBackend })
		got <- err
	}()
	waitFor(t, "the call to start", func() bool { return m.CallWaiters(k) == 0 })
	if !within(time.Second, func() { m.Store(k, lc.val(1)) }) {
		t.Error("Store of the key waited for its LoadOrTryCompute's f")
	}
	close(release)
	if err := <-got; err != errBackend {
		t.Errorf("failing f after a concurrent Store: %v, want its error", err)
	}
	if v, ok := m.Load(k); !ok || v != lc.val(1) {
		t.Errorf("the Store's value: %v, %v", v, ok)
	}
	check(t, m)
}

// TestLoadOrComputePanicShared: when f panics, the panic propagates in
// the goroutine that called f only, nothing is stored, and the callers
// that waited for it start over: one of them calls its own f, whose value
// the others load. No caller hangs and none is lost. If every f panics,
// every caller panics, each with its own f's panic.
func TestLoadOrComputePanicShared(t *testing.T) {
	bothLayouts(t, testPanicShared[uint64, uint64], testPanicShared[string, *pointee])
}

func testPanicShared[K comparable, V comparable](t *testing.T, lc layoutCase[K, V]) {
	const callers = 20
	m := cmap.New[K, V](cmap.WithSegments(1)) // every key in the panicking call's segment
	k := lc.key(3)
	var calls atomic.Int32
	var panics, leaders, loads atomic.Int32
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					if p != "backend panicked" {
						t.Errorf("panic %v", p)
					}
					panics.Add(1)
				}
			}()
			v, loaded := m.LoadOrCompute(k, func() V {
				if calls.Add(1) == 1 {
					waitFor(t, "the callers to join", func() bool { return m.CallWaiters(k) == callers-1 })
					// No lock is held: writes to the segment go on.
					if !within(time.Second, func() { m.Store(lc.key(4), lc.val(4)) }) {
						t.Error("a Store to f's segment waited for f")
					}
					panic("backend panicked")
				}
				return lc.val(3)
			})
			if v != lc.val(3) {
				t.Errorf("got %v", v)
			}
			if loaded {
				loads.Add(1)
			} else {
				leaders.Add(1)
			}
		})
	}
	stop := watchdog("callers of a panicking f")
	wg.Wait()
	stop()
	if calls.Load() != 2 || panics.Load() != 1 || leaders.Load() != 1 || loads.Load() != callers-2 {
		t.Fatalf("f called %d times, %d panics, %d stored, %d loaded; want 2, 1, 1, %d",
			calls.Load(), panics.Load(), leaders.Load(), loads.Load(), callers-2)
	}
	// Every f panics: each caller gets its own f's panic, in turn.
	m2 := cmap.New[K, V]()
	panics.Store(0)
	for i := range callers {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != i {
					t.Errorf("caller %d: panic %v, want its own", i, p)
				}
				panics.Add(1)
			}()
			m2.LoadOrCompute(k, func() V { time.Sleep(time.Millisecond); panic(i) })
		})
	}
	stop = watchdog("callers of an always-panicking f")
	wg.Wait()
	stop()
	if panics.Load() != callers || m2.Len() != 0 || m2.CallWaiters(k) != -1 {
		t.Fatalf("%d panics of %d callers, Len %d", panics.Load(), callers, m2.Len())
	}
	check(t, m)
	check(t, m2)
}

// TestLoadOrComputeLinearizableAtInsert: writes of the key while f runs do
// not wait for it, and take effect before the insert: a Store or Swap
// makes LoadOrCompute and its waiters load that value (f's is
// discarded); a Delete or a Compute that deletes leaves the key absent, so
// f's value is stored; f may itself store its key.
func TestLoadOrComputeLinearizableAtInsert(t *testing.T) {
	bothLayouts(t, testLinearizableAtInsert[uint64, uint64], testLinearizableAtInsert[string, *pointee])
}

func testLinearizableAtInsert[K comparable, V comparable](t *testing.T, lc layoutCase[K, V]) {
	type result struct {
		v      V
		loaded bool
	}
	for _, w := range []struct {
		name   string
		write  func(m *cmap.Map[K, V], k K)
		stored bool // the write leaves the key present, with val(9)
	}{
		{"Store", func(m *cmap.Map[K, V], k K) { m.Store(k, lc.val(9)) }, true},
		{"Swap", func(m *cmap.Map[K, V], k K) { m.Swap(k, lc.val(9)) }, true},
		{"LoadOrStore", func(m *cmap.Map[K, V], k K) { m.LoadOrStore(k, lc.val(9)) }, true},
		{"Compute", func(m *cmap.Map[K, V], k K) {
			m.Compute(k, func(V, bool) (V, cmap.ComputeOp) { return lc.val(9), cmap.UpdateOp })
		}, true},
		{"Store+Delete", func(m *cmap.Map[K, V], k K) { m.Store(k, lc.val(9)); m.Delete(k) }, false},
		{"Store+Compute(delete)", func(m *cmap.Map[K, V], k K) {
			m.Store(k, lc.val(9))
			m.Compute(k, func(V, bool) (V, cmap.ComputeOp) { return *new(V), cmap.DeleteOp })
		}, false},
	} {
		t.Run(w.name, func(t *testing.T) {
			m := cmap.New[K, V]()
			k := lc.key(1)
			release := make(chan struct{})
			// The leader (the call that runs f) reports on its own
			// channel: its waiters may return before it does.
			leaderResult := make(chan result, 1)
			results := make(chan result, 2)
			go func() {
				v, l := m.LoadOrCompute(k, func() V { <-release; return lc.val(1) })
				leaderResult <- result{v, l}
			}()
			waitFor(t, "the call to start", func() bool { return m.CallWaiters(k) == 0 })
			for range 2 {
				go func() {
					v, l := m.LoadOrCompute(k, func() V { t.Error("a waiter called f"); return lc.val(2) })
					results <- result{v, l}
				}()
			}
			waitFor(t, "the waiters", func() bool { return m.CallWaiters(k) == 2 })
			if !within(time.Second, func() { w.write(m, k) }) {
				t.Errorf("%s of the key waited for LoadOrCompute's f", w.name)
			}
			close(release)
			want := result{lc.val(1), false}
			if w.stored {
				want = result{lc.val(9), true}
			}
			leader := <-leaderResult
			if leader != want {
				t.Errorf("LoadOrCompute after a concurrent %s: %v, want %v", w.name, leader, want)
			}
			for range 2 {
				if r := <-results; r != (result{want.v, true}) {
					t.Errorf("waiter: %v, want (%v, true)", r, want.v)
				}
			}
			if v, ok := m.Load(k); !ok || v != want.v {
				t.Errorf("Load: %v, %v; want %v", v, ok, want.v)
			}
			check(t, m)
		})
	}
	// f stores its own key: seen as another writer.
	m := cmap.New[K, V]()
	v, loaded := m.LoadOrCompute(lc.key(5), func() V { m.Store(lc.key(5), lc.val(6)); return lc.val(5) })
	if v != lc.val(6) || !loaded {
		t.Errorf("f storing its own key: (%v, %v), want (%v, true)", v, loaded, lc.val(6))
	}
}

// TestLoadOrComputeBoundedAtInsert: on bounded maps the bound, eviction
// and order take effect at the insert, after f: a RejectNew map that
// filled while f ran refuses the insert (the caller that called f and its
// waiters fail with ErrFull: LoadOrTryCompute returns it, LoadOrCompute
// panics with it; nothing stored); an EvictOldest map evicts
// the oldest entry at the insert's instant; the insertion order is the
// inserts', not the calls'.
func TestLoadOrComputeBoundedAtInsert(t *testing.T) {
	bothLayouts(t, testBoundedAtInsert[uint64, uint64], testBoundedAtInsert[string, *pointee])
}

func testBoundedAtInsert[K comparable, V comparable](t *testing.T, lc layoutCase[K, V]) {
	// RejectNew, filled while f runs.
	rej := cmap.New[K, V](cmap.WithMaxLen(2, cmap.RejectNew))
	rej.Store(lc.key(1), lc.val(1))
	release := make(chan struct{})
	errs := make(chan any, 3)
	catch := func(f func()) {
		defer func() { errs <- recover() }()
		f()
	}
	returned := func(f func() (V, bool, error)) func() {
		return func() {
			if _, _, err := f(); err != nil {
				panic(err) // reported as the panics of LoadOrCompute are
			}
		}
	}
	go catch(returned(func() (V, bool, error) {
		return rej.LoadOrTryCompute(lc.key(3), func() (V, error) { <-release; return lc.val(3), nil })
	}))
	waitFor(t, "the call to start", func() bool { return rej.CallWaiters(lc.key(3)) == 0 })
	go catch(func() { rej.LoadOrCompute(lc.key(3), func() V { return lc.val(3) }) })
	go catch(returned(func() (V, bool, error) {
		return rej.LoadOrTryCompute(lc.key(3), func() (V, error) { return lc.val(3), nil })
	}))
	waitFor(t, "the waiters", func() bool { return rej.CallWaiters(lc.key(3)) == 2 })
	rej.Store(lc.key(2), lc.val(2)) // full now
	close(release)
	for range 3 {
		if p := <-errs; p == nil || !errors.Is(p.(error), cmap.ErrFull) || !strings.Contains(p.(error).Error(), "LoadOr") {
			t.Errorf("insert into a map that filled while f ran: %v, want ErrFull", p)
		}
	}
	if rej.Len() != 2 {
		t.Errorf("Len %d", rej.Len())
	}
	check(t, rej)

	// EvictOldest: evicts the oldest at the insert; order by the inserts.
	var evicted []K
	ev := cmap.New[K, V](cmap.WithMaxLen(2, cmap.EvictOldest), cmap.WithOnEvict(func(k K, _ V) { evicted = append(evicted, k) }))
	ev.Store(lc.key(1), lc.val(1))
	ev.Store(lc.key(2), lc.val(2))
	release = make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		ev.LoadOrCompute(lc.key(3), func() V { <-release; return lc.val(3) })
	}()
	waitFor(t, "the call to start", func() bool { return ev.CallWaiters(lc.key(3)) == 0 })
	ev.Store(lc.key(4), lc.val(4)) // evicts 1
	close(release)
	<-done // evicts 2, the oldest at the insert
	var order []K
	for k := range ev.Snapshot().InOrder() {
		order = append(order, k)
	}
	if fmt.Sprint(evicted) != fmt.Sprint([]K{lc.key(1), lc.key(2)}) || fmt.Sprint(order) != fmt.Sprint([]K{lc.key(4), lc.key(3)}) {
		t.Errorf("evicted %v, order %v; want [1 2], [4 3]", evicted, order)
	}
	check(t, ev)
}

// TestLoadOrComputeZeroMapJSONStats: on a zero Map, while f runs,
// Snapshot, JSON, Stats, Len, Range and Clear proceed and do not see the
// key; afterwards they do.
func TestLoadOrComputeZeroMapJSONStats(t *testing.T) {
	var m cmap.Map[string, int]
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if v, loaded := m.LoadOrCompute("a", func() int { <-release; return 1 }); v != 1 || loaded {
			t.Errorf("LoadOrCompute: %d, %v", v, loaded)
		}
	}()
	waitFor(t, "the call to start", func() bool { return m.CallWaiters("a") == 0 })
	ok := within(time.Second, func() {
		if b, err := json.Marshal(&m); err != nil || string(b) != "{}" {
			t.Errorf("JSON while f runs: %s, %v", b, err)
		}
		if s := m.Stats(); s.Len != 0 {
			t.Errorf("Stats while f runs: Len %d", s.Len)
		}
		if m.Snapshot().Len() != 0 || m.Len() != 0 {
			t.Error("f's key seen before its insert")
		}
		m.Range(func(string, int) bool { t.Error("Range saw an entry"); return true })
		m.Clear()
		m.Store("b", 2)
	})
	if !ok {
		t.Error("JSON, Stats, Snapshot, Range, Clear or Store waited for f")
	}
	close(release)
	<-done
	if b, err := json.Marshal(&m); err != nil || string(b) != `{"a":1,"b":2}` {
		t.Errorf("JSON after: %s, %v", b, err)
	}
	if s := m.Stats(); s.Len != 2 {
		t.Errorf("Stats after: Len %d", s.Len)
	}
	check(t, &m)
}

// TestLoadOrComputePresentNoAlloc: a present key costs no allocation on a
// flat map, whatever the misses around it.
func TestLoadOrComputePresentNoAlloc(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	m := cmap.New[uint64, uint64]()
	for k := range uint64(100) {
		m.Store(k, k)
	}
	m.LoadOrCompute(1000, func() uint64 { return 1 }) // a miss: the registry exists
	f := func() uint64 { return 0 }
	tf := func() (uint64, error) { return 0, nil }
	if n := testing.AllocsPerRun(1000, func() { m.LoadOrCompute(5, f) }); n != 0 {
		t.Errorf("LoadOrCompute of a present key: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(1000, func() { m.LoadOrTryCompute(5, tf) }); n != 0 {
		t.Errorf("LoadOrTryCompute of a present key: %v allocations, want 0", n)
	}
}

// TestLoadOrComputeCallbackUsesMap: LoadOrCompute's f holds no lock, so
// it may call every method of the map, writes to its own segment and the
// methods that need every lock included; only LoadOrCompute of its own
// key waits for it (TestCallbackDeadlocks).
func TestLoadOrComputeCallbackUsesMap(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(1), cmap.WithInsertionOrder())
	m.Store(1, 1)
	use := func() {
		m.Store(2, 2)
		m.Swap(2, 3)
		m.CompareAndSwap(2, 3, 4)
		m.Compute(2, func(v int, _ bool) (int, cmap.ComputeOp) { return v + 1, cmap.UpdateOp })
		m.LoadOrCompute(3, func() int { return 3 }) // another key: a nested call
		m.Range(func(int, int) bool { return true })
		m.Snapshot()
		m.Stats()
		m.Reserve(10)
		m.Oldest()
		m.PopOldest()
		m.Delete(2)
		json.Marshal(m)
		m.Clear()
	}
	p := finishes(t, "LoadOrCompute's f using the map", func() {
		if v, loaded := m.LoadOrCompute(7, func() int { use(); return 7 }); v != 7 || loaded {
			t.Errorf("LoadOrCompute: %d, %v", v, loaded)
		}
		if _, _, err := m.LoadOrTryCompute(8, func() (int, error) { use(); return 8, nil }); err != nil {
			t.Error(err)
		}
	})
	if p != nil {
		t.Fatal(p)
	}
	if v, ok := m.Load(8); !ok || v != 8 {
		t.Errorf("Load(8) = %d, %v", v, ok)
	}
	check(t, m)
}

// LoadOrCompute against adversaries: a leader that exits its goroutine with waiters
// parked, an f that takes every lock (Clear, Snapshot, DeleteFunc,
// PopOldest) or writes its own key, a Clear while f runs, NaN keys, and an
// OnEvict that re-enters the map at LoadOrCompute's insert.

// TestLoadOrComputeGoexitWaiters: the leader's f exits its goroutine while
// waiters are parked on its call; the waiters start over and one of them
// computes, the registry forgets the call, and no lock stays held.
func TestLoadOrComputeGoexitWaiters(t *testing.T) {
	m := cmap.New[int, int]()
	entered := make(chan struct{})
	release := make(chan struct{})
	go func() {
		m.LoadOrCompute(1, func() int {
			close(entered)
			<-release
			runtime.Goexit()
			return 0
		})
	}()
	<-entered
	var wg sync.WaitGroup
	res := make([]int, 8)
	for i := range res {
		wg.Go(func() {
			v, _ := m.LoadOrCompute(1, func() int { return 100 + i })
			res[i] = v
		})
	}
	waitFor(t, "8 waiters", func() bool { return m.CallWaiters(1) == 8 })
	close(release)
	if !within(10*time.Second, wg.Wait) {
		t.Fatal("waiters of a call whose f exited its goroutine are stuck")
	}
	want, _ := m.Load(1)
	for i, v := range res {
		if v != want {
			t.Errorf("waiter %d got %d, the map holds %d", i, v, want)
		}
	}
	if n := m.CallWaiters(1); n != -1 {
		t.Errorf("CallWaiters(1) = %d after every call ended, want -1", n)
	}
	if !within(5*time.Second, func() { m.Clear(); m.Store(1, 1) }) {
		t.Fatal("a lock stayed held after Goexit")
	}
}

// TestLoadOrComputeCallbackTakesEveryLock: f calls the methods that take
// every lock, and writes and deletes its own key, with waiters parked on
// its call; nothing deadlocks, and the outcome is the map's.
func TestLoadOrComputeCallbackTakesEveryLock(t *testing.T) {
	m := cmap.New[int, int](cmap.WithMaxLen(4, cmap.EvictOldest))
	for i := range 4 {
		m.Store(10+i, i)
	}
	waiting := make(chan struct{})
	var wg sync.WaitGroup
	var got [2]int
	ok := within(10*time.Second, func() {
		v, loaded := m.LoadOrCompute(1, func() int {
			wg.Go(func() {
				close(waiting)
				got[1], _ = m.LoadOrCompute(1, func() int { return -1 })
			})
			<-waiting
			waitFor(t, "a waiter", func() bool { return m.CallWaiters(1) == 1 })
			m.Snapshot()
			m.PopOldest()
			m.Oldest()
			m.DeleteFunc(func(k, _ int) bool { return k == 11 })
			m.Clear()
			m.Store(1, 7)
			m.Delete(1)
			m.Store(1, 8)
			return 9
		})
		if !loaded || v != 8 {
			t.Errorf("LoadOrCompute = (%d, %t) after f stored 8 itself, want (8, true)", v, loaded)
		}
		got[0] = v
		wg.Wait()
	})
	if !ok {
		t.Fatal("deadlock: LoadOrCompute's f took every lock with a waiter parked")
	}
	if got[1] != 8 {
		t.Errorf("waiter got %d, want 8", got[1])
	}
	if n := m.Len(); n != 1 {
		t.Errorf("Len = %d, want 1", n)
	}
}

// TestLoadOrComputeClearMeanwhile: a Clear while f runs; f's value is
// stored afterwards (the call survives the Clear), counts are right, and
// the call is forgotten.
func TestLoadOrComputeClearMeanwhile(t *testing.T) {
	for _, opts := range [][]cmap.Option{nil, {cmap.WithMaxLen(2, cmap.RejectNew)}, {cmap.WithMaxLen(2, cmap.EvictOldest)}} {
		m := cmap.New[int, int](opts...)
		m.Store(5, 5)
		m.Store(6, 6)
		entered, release := make(chan struct{}), make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			v, loaded, err := m.LoadOrTryCompute(1, func() (int, error) {
				close(entered)
				<-release
				return 1, nil
			})
			if err != nil || loaded || v != 1 {
				t.Errorf("%v: LoadOrTryCompute = (%d, %t, %v), want (1, false, nil)", opts, v, loaded, err)
			}
		}()
		<-entered
		m.Clear()
		close(release)
		<-done
		if v, ok := m.Load(1); !ok || v != 1 || m.Len() != 1 || m.CallWaiters(1) != -1 {
			t.Errorf("%v: after: Load(1) = (%d, %t), Len %d, CallWaiters %d", opts, v, ok, m.Len(), m.CallWaiters(1))
		}
		m.Store(2, 2)
		_, _, err := m.LoadOrTryCompute(3, func() (int, error) { return 3, nil })
		if full := len(opts) > 0 && m.Stats().Len == 2 && err != nil; err != nil && !(full && errors.Is(err, cmap.ErrFull)) {
			t.Errorf("%v: third key: %v", opts, err)
		}
	}
}

// TestLoadOrComputeNaNKeys: NaN keys never share a call and never are
// found: each LoadOrCompute runs its f and stores a new entry.
func TestLoadOrComputeNaNKeys(t *testing.T) {
	m := cmap.New[float64, int]()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			v, loaded := m.LoadOrCompute(math.NaN(), func() int { time.Sleep(time.Millisecond); return i })
			if loaded || v != i {
				t.Errorf("LoadOrCompute(NaN) = (%d, %t), want (%d, false)", v, loaded, i)
			}
		})
	}
	wg.Wait()
	if n := m.Len(); n != 8 {
		t.Errorf("Len = %d after 8 NaN computes, want 8", n)
	}
}

// TestLoadOrComputeOnEvictReenters: the insert of f's value evicts the
// oldest entry; OnEvict (run with no lock held) computes the evicted key
// again, and the waiters of the first call get its value.
func TestLoadOrComputeOnEvictReenters(t *testing.T) {
	var m *cmap.Map[int, int]
	var depth int
	m = cmap.New[int, int](cmap.WithMaxLen(2, cmap.EvictOldest), cmap.WithOnEvict(func(k, v int) {
		if depth > 3 {
			return
		}
		depth++
		m.LoadOrCompute(k, func() int { return v + 100 })
		m.LoadOrCompute(-k, func() int { return v })
	}))
	m.Store(1, 1)
	m.Store(2, 2)
	ok := within(10*time.Second, func() {
		if v, loaded := m.LoadOrCompute(3, func() int { return 3 }); loaded || v != 3 {
			t.Errorf("LoadOrCompute(3) = (%d, %t)", v, loaded)
		}
	})
	if !ok {
		t.Fatal("deadlock: OnEvict re-entered LoadOrCompute")
	}
	if n := m.Len(); n != 2 {
		t.Errorf("Len = %d, want 2", n)
	}
}
