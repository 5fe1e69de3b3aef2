package cmap_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// TestEvictOldestFIFO: a full map evicts in insertion order, updates never
// evict, and OnEvict runs once per eviction with no lock held.
func TestEvictOldestFIFO(t *testing.T) {
	var m *cmap.Map[int, string]
	var evicted []int
	m = cmap.New[int, string](cmap.WithMaxLen(3, cmap.EvictOldest), cmap.WithOnEvict(func(k int, v string) {
		if v != fmt.Sprint(k) {
			t.Errorf("OnEvict(%d, %q)", k, v)
		}
		m.Snapshot() // takes every lock: would deadlock if one were held
		if _, ok := m.Load(k); ok {
			t.Errorf("OnEvict(%d): key still present", k)
		}
		evicted = append(evicted, k)
	}))
	for k := range 3 {
		m.Store(k, fmt.Sprint(k))
	}
	m.Store(0, "0") // an update: 0 is now the newest, nothing evicted
	if len(evicted) != 0 {
		t.Fatalf("update evicted %v", evicted)
	}
	m.Store(3, "3")                                                                         // evicts 1
	m.LoadOrStore(4, "4")                                                                   // evicts 2
	m.LoadOrStore(0, "x")                                                                   // present: no eviction, no move
	m.Compute(5, func(string, bool) (string, cmap.ComputeOp) { return "", cmap.CancelOp })  // nothing to insert: no eviction
	m.Compute(5, func(string, bool) (string, cmap.ComputeOp) { return "5", cmap.UpdateOp }) // evicts 0
	if _, err := m.Swap(6, "6"); err {                                                      // evicts 3
		t.Fatal("Swap loaded a new key")
	}
	if err := m.TryStore(7, "7"); err != nil { // evicts 4
		t.Fatal(err)
	}
	if want := []int{1, 2, 0, 3, 4}; !slices.Equal(evicted, want) {
		t.Fatalf("evicted %v, want %v", evicted, want)
	}
	if m.Len() != 3 {
		t.Fatalf("Len = %d", m.Len())
	}
	var keys []int
	for k := range m.Snapshot().InOrder() {
		keys = append(keys, k)
	}
	if want := []int{5, 6, 7}; !slices.Equal(keys, want) {
		t.Fatalf("InOrder = %v, want %v", keys, want)
	}
	check(t, m)
}

// TestComputeOnFullMap: on a full EvictOldest map, Compute's and
// LoadOrCompute's functions run exactly once, and evict only if they
// store.
func TestComputeOnFullMap(t *testing.T) {
	m := cmap.New[int, int](cmap.WithMaxLen(2, cmap.EvictOldest))
	m.Store(1, 1)
	m.Store(2, 2)
	calls := 0
	m.Compute(3, func(int, bool) (int, cmap.ComputeOp) { calls++; return 0, cmap.DeleteOp })
	if _, ok := m.Load(1); !ok || calls != 1 {
		t.Fatalf("Compute deleting an absent key evicted, or f ran %d times", calls)
	}
	v, loaded := m.LoadOrCompute(3, func() int { calls++; return 30 })
	if v != 30 || loaded || calls != 2 {
		t.Fatalf("LoadOrCompute = %d, %v after %d calls", v, loaded, calls)
	}
	if _, ok := m.Load(1); ok || m.Len() != 2 {
		t.Fatalf("LoadOrCompute did not evict 1 (Len %d)", m.Len())
	}
	recovered(func() { m.Compute(4, func(int, bool) (int, cmap.ComputeOp) { panic("f") }) })
	recovered(func() { m.Compute(4, func(int, bool) (int, cmap.ComputeOp) { return 0, cmap.ComputeOp(9) }) })
	if m.Len() != 2 || m.SegmentLocked(1) || m.SegmentLocked(4) {
		t.Fatal("a panicking Compute on a full map changed it or kept a lock")
	}
	check(t, m)
}

// TestRejectNew: a full RejectNew map refuses new keys (TryStore returns
// ErrFull, the other writes panic with it), accepts updates and deletes,
// and never changes its layout.
func TestRejectNew(t *testing.T) {
	forEachHasher(t, func(t *testing.T, newMap func(...cmap.Option) *cmap.Map[uint64, uint64]) {
		const n = 1000
		m := newMap(cmap.WithMaxLen(n, cmap.RejectNew))
		for k := range uint64(n) {
			if err := m.TryStore(k, k); err != nil {
				t.Fatalf("TryStore(%d): %v", k, err)
			}
		}
		err := m.TryStore(n, n)
		if !errors.Is(err, cmap.ErrFull) {
			t.Fatalf("TryStore into a full map: %v", err)
		}
		if !strings.Contains(err.Error(), "TryStore") || !strings.Contains(err.Error(), "RejectNew") {
			t.Errorf("error %q names neither the method nor the policy", err)
		}
		for name, f := range map[string]func(){
			"Store":         func() { m.Store(n, 0) },
			"Swap":          func() { m.Swap(n, 0) },
			"LoadOrStore":   func() { m.LoadOrStore(n, 0) },
			"LoadOrCompute": func() { m.LoadOrCompute(n, func() uint64 { return 0 }) },
			"Compute": func() {
				m.Compute(n, func(uint64, bool) (uint64, cmap.ComputeOp) { return 0, cmap.UpdateOp })
			},
		} {
			if err := fullError(t, f); !errors.Is(err, cmap.ErrFull) || !strings.Contains(err.Error(), name) {
				t.Errorf("%s into a full map panicked with %v", name, err)
			}
		}
		m.Compute(n, func(uint64, bool) (uint64, cmap.ComputeOp) { return 0, cmap.CancelOp }) // inserts nothing: fine
		if _, ok := m.Load(n); ok || m.Len() != n {
			t.Fatalf("a refused key got in (Len %d)", m.Len())
		}
		// Updates always succeed; a delete makes room for one key.
		m.Store(5, 50)
		if !m.CompareAndSwap(5, 50, 51) {
			t.Fatal("CompareAndSwap on a full map failed")
		}
		m.Delete(5)
		if err := m.TryStore(n, n); err != nil {
			t.Fatalf("TryStore after a delete: %v", err)
		}
		check(t, m) // with bad hashers, a segment may outgrow its layout
		churn(t, m, n, 3)
		check(t, m)
		m.Clear()
		for k := range uint64(n) {
			m.Store(k, k) // the count was reset
		}
		if m.Len() != n {
			t.Fatalf("Len = %d after Clear and refill", m.Len())
		}
		m.Reserve(0) // does not lift the layout
		check(t, m)
	})
}

// churn deletes and re-inserts every key of a full map of n keys rounds
// times.
func churn(t *testing.T, m *cmap.Map[uint64, uint64], n, rounds uint64) {
	t.Helper()
	for r := range rounds {
		for k := range n {
			m.Delete(k + r*n)
			if err := m.TryStore(k+(r+1)*n, k); err != nil {
				t.Fatalf("round %d: TryStore: %v", r, err)
			}
		}
	}
	for k := range n {
		m.Delete(k + rounds*n)
		if err := m.TryStore(k, k); err != nil {
			t.Fatalf("TryStore: %v", err)
		}
	}
}

// TestRejectNewLayout: a RejectNew map is laid out once: filling it and
// churning through it (deletes and inserts) never grows or shrinks a
// table; cleanups of tombstones rebuild at the same size.
func TestRejectNewLayout(t *testing.T) {
	for _, n := range []uint64{1, 10, 1000, 20_000} {
		for _, segs := range []int{1, 16} {
			m := cmap.New[uint64, uint64](cmap.WithMaxLen(int(n), cmap.RejectNew), cmap.WithSegments(segs))
			layout := m.TableGroups()
			for _, g := range layout {
				if g != m.Layout() {
					t.Fatalf("n=%d: segments laid out for %v groups, want %d", n, layout, m.Layout())
				}
			}
			for k := range n {
				m.Store(k, k)
			}
			if r := m.Stats().Resizes; r != 0 {
				t.Fatalf("n=%d segs=%d: %d rebuilds while filling", n, segs, r)
			}
			churn(t, m, n, 3)
			if got := m.TableGroups(); !slices.Equal(got, layout) {
				t.Fatalf("n=%d segs=%d: tables %v after churn, laid out as %v", n, segs, got, layout)
			}
			// The layout leaves room for at least share/7 tombstones: a
			// cleanup comes at most every slack inserts.
			if s := m.Stats(); segs == 1 {
				slack := uint64(s.Capacity)*7/10 - n
				if s.Resizes > 4*n/slack+1 {
					t.Errorf("n=%d: %d cleanups in %d inserts with room for %d tombstones", n, s.Resizes, 4*n, slack)
				}
			}
			check(t, m)
		}
	}
}

// TestTryStoreUnbounded: TryStore on maps without a RejectNew bound always
// stores.
func TestTryStoreUnbounded(t *testing.T) {
	for _, m := range []*cmap.Map[int, int]{
		cmap.New[int, int](), cmap.New[int, int](cmap.WithInsertionOrder()),
		cmap.New[int, int](cmap.WithMaxLen(1, cmap.EvictOldest)),
	} {
		for k := range 3 {
			if err := m.TryStore(k, k); err != nil {
				t.Fatal(err)
			}
		}
		if v, ok := m.Load(2); !ok || v != 2 {
			t.Fatalf("Load(2) = %d, %v", v, ok)
		}
	}
}

// TestBoundOptionPanics: bad bounds and OnEvict functions are refused,
// naming the option.
func TestBoundOptionPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"WithMaxLen: 0":     func() { cmap.WithMaxLen(0, cmap.EvictOldest) },
		"WithMaxLen: -1":    func() { cmap.WithMaxLen(-1, cmap.RejectNew) },
		"WithMaxLen: inval": func() { cmap.WithMaxLen(5, cmap.BoundPolicy(0)) },
		"WithOnEvict: nil":  func() { cmap.WithOnEvict[int, int](nil) },
		"WithOnEvict: type": func() {
			cmap.New[int, string](cmap.WithMaxLen(1, cmap.EvictOldest), cmap.WithOnEvict(func(int, int) {}))
		},
		"WithOnEvict: unbounded": func() { cmap.New[int, int](cmap.WithOnEvict(func(int, int) {})) },
		"WithOnEvict: RejectNew": func() {
			cmap.New[int, int](cmap.WithMaxLen(1, cmap.RejectNew), cmap.WithOnEvict(func(int, int) {}))
		},
	} {
		want := "cmap: " + strings.SplitN(name, ":", 2)[0] + ": "
		if msg := panicMessage(f); !strings.HasPrefix(msg, want) {
			t.Errorf("%s: panic %q, want %q...", name, msg, want)
		}
	}
}

// TestBoundUnderContention: goroutines inserting new keys at once never
// push the map over its bound, as seen by Len, Snapshot and a snapshot's
// contents, at any instant. With EvictOldest every insert succeeds and the
// evicted and remaining keys are exactly the inserted ones, each once;
// with RejectNew exactly n inserts succeed.
func TestBoundUnderContention(t *testing.T) {
	for _, policy := range []cmap.BoundPolicy{cmap.EvictOldest, cmap.RejectNew} {
		t.Run("policy="+policy.String(), func(t *testing.T) {
			const n, writers, perWriter = 200, 4, 1500
			var evicted sync.Map
			var evictions atomic.Int64
			opts := []cmap.Option{cmap.WithMaxLen(n, policy), cmap.WithSegments(16)}
			if policy == cmap.EvictOldest {
				opts = append(opts, cmap.WithOnEvict(func(k, _ uint64) {
					if _, dup := evicted.LoadOrStore(k, true); dup {
						t.Errorf("key %d evicted twice", k)
					}
					evictions.Add(1)
				}))
			}
			m := cmap.New[uint64, uint64](opts...)
			var stop atomic.Bool
			var watchers sync.WaitGroup
			var looks atomic.Int64
			watchers.Go(func() {
				for !stop.Load() {
					if l := m.Len(); l > n {
						t.Errorf("Len = %d > %d", l, n)
						return
					}
					looks.Add(1)
				}
			})
			watchers.Go(func() {
				for !stop.Load() {
					s := m.Snapshot()
					c := 0
					for range s.All() {
						c++
					}
					if s.Len() > n || c != s.Len() {
						t.Errorf("snapshot: Len %d, %d entries, bound %d", s.Len(), c, n)
						return
					}
				}
			})
			var stored, deleted atomic.Int64
			var wg sync.WaitGroup
			for w := range uint64(writers) {
				wg.Go(func() {
					for j := range uint64(perWriter) {
						k := w*perWriter + j
						switch j % 4 {
						case 0:
							if err := m.TryStore(k, k); err == nil {
								stored.Add(1)
							} else if !errors.Is(err, cmap.ErrFull) {
								t.Error(err)
							}
						case 1:
							if policy == cmap.EvictOldest {
								if _, loaded := m.LoadOrStore(k, k); !loaded {
									stored.Add(1)
								}
							} else if m.TryStore(k, k) == nil {
								stored.Add(1)
							}
						case 2:
							if policy == cmap.EvictOldest {
								m.Store(k, k)
								stored.Add(1)
							} else if m.TryStore(k, k) == nil {
								stored.Add(1)
							}
						case 3:
							if policy == cmap.EvictOldest {
								m.Compute(k, func(uint64, bool) (uint64, cmap.ComputeOp) { return k, cmap.UpdateOp })
								stored.Add(1)
							} else {
								if _, ok := m.LoadAndDelete(k - 3); ok { // make room now and then
									deleted.Add(1)
								}
								if m.TryStore(k, k) == nil {
									stored.Add(1)
								}
							}
						}
					}
				})
			}
			wg.Wait()
			stop.Store(true)
			watchers.Wait()
			check(t, m)
			if looks.Load() == 0 {
				t.Fatal("the watcher never looked")
			}
			if m.Len() > n {
				t.Fatalf("Len = %d", m.Len())
			}
			if policy == cmap.RejectNew {
				if got := stored.Load() - deleted.Load(); int64(m.Len()) != got {
					t.Fatalf("Len = %d, but %d stored - %d deleted", m.Len(), stored.Load(), deleted.Load())
				}
				if stored.Load() < n {
					t.Fatalf("only %d stores succeeded: the map never filled", stored.Load())
				}
				return
			}
			if m.Len() != n {
				t.Fatalf("Len = %d, want %d", m.Len(), n)
			}
			if got := evictions.Load() + int64(m.Len()); got != writers*perWriter {
				t.Fatalf("%d evicted + %d present != %d inserted", evictions.Load(), m.Len(), writers*perWriter)
			}
			for k := range m.Keys() {
				if _, ok := evicted.Load(k); ok {
					t.Fatalf("key %d evicted and present", k)
				}
			}
		})
	}
}

// TestRejectNewReserveThenSmaller: on a RejectNew map, Reserve(k) grows
// the tables above their layout; a smaller Reserve lowers the floor but
// shrinks nothing until a delete, so the tables may stay above the floor
// with few entries (the checker used to call that a broken invariant).
// The first delete from a segment shrinks its table back to the floor.
func TestRejectNewReserveThenSmaller(t *testing.T) {
	const n = 1000
	m := cmap.New[uint64, uint64](cmap.WithSegments(4), cmap.WithMaxLen(n, cmap.RejectNew))
	layout := m.Layout()
	for k := range uint64(100) {
		m.Store(k, k)
	}
	m.Reserve(1 << 16)
	check(t, m)
	m.Reserve(10)
	for _, g := range m.TableGroups() {
		if g <= layout {
			t.Fatalf("Reserve(10) shrank a table: %v, layout %d", m.TableGroups(), layout)
		}
	}
	check(t, m) // no deletes: the tables keep the size of the larger Reserve
	for i := range 4 {
		for k := uint64(0); ; k++ {
			if m.SegmentOf(k) == i {
				m.Delete(k)
				break
			}
		}
	}
	for i, g := range m.TableGroups() {
		if g != layout {
			t.Fatalf("segment %d: %d groups after a delete, want its layout %d", i, g, layout)
		}
	}
	check(t, m)
}

// TestRejectNewNoFalseErrFull: ErrFull only when the map is full. Each
// goroutine owns a quota of the bound (the quotas add up to it) and
// inserts a key only while it holds fewer than its quota, so whenever one
// inserts, the map holds at most bound-1 entries: any ErrFull is false.
// Meanwhile writes that take a reservation and give it back without
// inserting (a failing LoadOrTryCompute, Compute cancelling or deleting an
// absent key, LoadAndDelete and CompareAndSwap of a key just deleted),
// deletes through every method, Reserve rebuilding the tables, and
// watchers checking that Len and snapshots never exceed the bound, and
// phantom writers (see below). At the
// end, with every quota full, a new key gets ErrFull.
func TestRejectNewNoFalseErrFull(t *testing.T) {
	for _, ordered := range []bool{false, true} {
		name := "unordered"
		if ordered {
			name = "ordered"
		}
		t.Run(name, func(t *testing.T) { testRejectNewNoFalseErrFull(t, ordered) })
	}
}

func testRejectNewNoFalseErrFull(t *testing.T, ordered bool) {
	const goroutines, quota, bound = 4, 4, 16
	rounds := 5000
	if raceEnabled {
		rounds = 1500
	}
	opts := []cmap.Option{cmap.WithSegments(4), cmap.WithMaxLen(bound, cmap.RejectNew)}
	if ordered {
		opts = append(opts, cmap.WithInsertionOrder())
	}
	m := cmap.New[int, int](opts...)
	var stop atomic.Bool
	var wg, watchers sync.WaitGroup
	owned := make([]map[int]bool, goroutines)
	for g := range goroutines {
		owned[g] = map[int]bool{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("goroutine %d with %d of its %d keys: panic %v", g, len(owned[g]), quota, r)
				}
			}()
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			own := owned[g]
			next := g << 20
			for range rounds {
				if len(own) < quota && rng.IntN(8) != 0 { // mostly near full
					next++
					if insertOne(t, m, next, rng.IntN(8)) {
						own[next] = true
					}
					continue
				}
				if len(own) == 0 {
					continue
				}
				k := 0
				for k = range own {
					break
				}
				if deleteOne(t, m, k, rng.IntN(5)) {
					delete(own, k)
				}
			}
		}()
	}
	// Phantoms: writes of absent keys that hold a reservation for a while
	// (f yields) and insert nothing. With the quotas nearly full they
	// exhaust the reservations, so inserters must confirm with every
	// lock held that the map is really full, which it never is.
	watchers.Add(2)
	for p := range 2 {
		go func() {
			defer watchers.Done()
			for i := 0; !stop.Load(); i++ {
				k := -(p<<20 | i)
				if i%2 == 0 {
					m.LoadOrTryCompute(k, func() (int, error) {
						runtime.Gosched()
						return 0, errNope
					})
				} else {
					m.Compute(k, func(int, bool) (int, cmap.ComputeOp) {
						runtime.Gosched()
						return 0, cmap.CancelOp
					})
				}
			}
		}()
	}
	watchers.Add(2)
	go func() {
		defer watchers.Done()
		for !stop.Load() {
			if n := m.Len(); n > bound {
				t.Errorf("Len = %d above the bound %d", n, bound)
			}
			s := m.Snapshot()
			n := 0
			for range s.All() {
				n++
			}
			if n > bound || s.Len() != n {
				t.Errorf("snapshot of %d entries (Len %d), bound %d", n, s.Len(), bound)
			}
		}
	}()
	go func() {
		defer watchers.Done()
		for i := 0; !stop.Load(); i++ {
			m.Reserve([]int{0, 40, 200}[i%3]) // rebuilds at and above the layout
		}
	}()
	wg.Wait()
	stop.Store(true)
	watchers.Wait()
	check(t, m)
	// Fill every quota: the map is full, and a new key gets ErrFull.
	for g := range goroutines {
		for k := g<<20 | 1<<19; len(owned[g]) < quota; k++ {
			if err := m.TryStore(k, k); err != nil {
				t.Fatalf("TryStore with %d entries of %d: %v", m.Len(), bound, err)
			}
			owned[g][k] = true
		}
	}
	if err := m.TryStore(-1, -1); !errors.Is(err, cmap.ErrFull) || m.Len() != bound {
		t.Fatalf("TryStore on a full map: %v, Len %d", err, m.Len())
	}
	check(t, m)
}

var errNope = errors.New("nope")

// insertOne inserts the new key k with the write method how, or tries a
// write that inserts nothing; it reports whether k was inserted. Any
// ErrFull, returned or panicked, fails the test.
func insertOne(t *testing.T, m *cmap.Map[int, int], k, how int) bool {
	switch how {
	case 0:
		if err := m.TryStore(k, k); err != nil {
			t.Errorf("TryStore(%d): %v", k, err)
			return false
		}
	case 1:
		m.Store(k, k)
	case 2:
		m.Swap(k, k)
	case 3:
		m.LoadOrStore(k, k)
	case 4:
		m.LoadOrCompute(k, func() int { return k })
	case 5:
		if _, _, err := m.LoadOrTryCompute(k, func() (int, error) { return k, nil }); err != nil {
			t.Errorf("LoadOrTryCompute(%d): %v", k, err)
		}
	case 6:
		m.Compute(k, func(int, bool) (int, cmap.ComputeOp) { return k, cmap.UpdateOp })
	default:
		// Reservations taken and given back.
		if _, _, err := m.LoadOrTryCompute(k, func() (int, error) { return 0, errNope }); err != errNope {
			t.Errorf("failing LoadOrTryCompute(%d): %v", k, err)
		}
		m.Compute(k, func(int, bool) (int, cmap.ComputeOp) { return 0, cmap.CancelOp })
		m.Compute(k, func(int, bool) (int, cmap.ComputeOp) { return 0, cmap.DeleteOp })
		m.CompareAndSwap(k, 0, 1)
		m.LoadAndDelete(k)
		return false
	}
	if v, ok := m.Load(k); !ok || v != k {
		t.Errorf("key %d not stored: %d, %v", k, v, ok)
		return false
	}
	return true
}

// deleteOne deletes the present key k with the method how, after an
// update that must succeed; it reports whether k was deleted.
func deleteOne(t *testing.T, m *cmap.Map[int, int], k, how int) bool {
	if err := m.TryStore(k, -k); err != nil {
		t.Errorf("TryStore of present key %d: %v", k, err)
	}
	switch how {
	case 0:
		m.Delete(k)
	case 1:
		m.LoadAndDelete(k)
	case 2:
		m.CompareAndDelete(k, -k)
	case 3:
		m.Compute(k, func(int, bool) (int, cmap.ComputeOp) { return 0, cmap.DeleteOp })
	default:
		if !m.CompareAndSwap(k, -k, k) {
			t.Errorf("CompareAndSwap of present key %d failed", k)
		}
		return false
	}
	if _, ok := m.Load(k); ok {
		t.Errorf("key %d not deleted", k)
		return false
	}
	return true
}
