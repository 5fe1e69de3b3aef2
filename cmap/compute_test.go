package cmap_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/segmap/segmap/cmap"
)

func TestComputeOpNumbering(t *testing.T) {
	// xsync v4's numbering: the zero op cancels.
	if cmap.CancelOp != 0 || cmap.UpdateOp != 1 || cmap.DeleteOp != 2 {
		t.Fatalf("CancelOp, UpdateOp, DeleteOp = %d, %d, %d, want 0, 1, 2", cmap.CancelOp, cmap.UpdateOp, cmap.DeleteOp)
	}
	for op, want := range map[cmap.ComputeOp]string{
		cmap.CancelOp: "CancelOp", cmap.UpdateOp: "UpdateOp", cmap.DeleteOp: "DeleteOp", 7: "ComputeOp(7)", -1: "ComputeOp(-1)",
	} {
		if got := op.String(); got != want {
			t.Errorf("ComputeOp(%d).String() = %q, want %q", int(op), got, want)
		}
	}
	// A port that sets the op only in one branch must not store.
	m := cmap.New[string, int]()
	got, ok := m.Compute("k", func(int, bool) (int, cmap.ComputeOp) {
		var op cmap.ComputeOp
		return 42, op
	})
	if _, present := m.Load("k"); present || ok || got != 0 {
		t.Fatalf("Compute with the zero op: (%d, %v), stored %v; want (0, false), nothing stored", got, ok, present)
	}
}

var errBackend = errors.New("backend down")

func TestLoadOrTryCompute(t *testing.T) {
	m := cmap.New[string, int]()
	calls := 0
	fail := func() (int, error) { calls++; return 7, errBackend }
	ok := func() (int, error) { calls++; return 42, nil }

	if v, loaded, err := m.LoadOrTryCompute("k", fail); v != 0 || loaded || err != errBackend {
		t.Fatalf("failing f: (%d, %v, %v), want (0, false, %v)", v, loaded, err, errBackend)
	}
	if _, present := m.Load("k"); present || m.Len() != 0 {
		t.Fatal("failing f stored its value")
	}
	if v, loaded, err := m.LoadOrTryCompute("k", ok); v != 42 || loaded || err != nil {
		t.Fatalf("after a failure, f: (%d, %v, %v), want (42, false, nil)", v, loaded, err)
	}
	if v, loaded, err := m.LoadOrTryCompute("k", fail); v != 42 || !loaded || err != nil {
		t.Fatalf("present key: (%d, %v, %v), want (42, true, nil)", v, loaded, err)
	}
	if calls != 2 {
		t.Fatalf("f called %d times, want 2 (not for a present key)", calls)
	}
	mustPanic(t, "cmap: LoadOrTryCompute: nil function", func() { m.LoadOrTryCompute("x", nil) })
	mustPanic(t, "boom", func() { m.LoadOrTryCompute("p", func() (int, error) { panic("boom") }) })
	if _, present := m.Load("p"); present || m.SegmentLocked("p") {
		t.Fatal("panicking f stored its key or left the lock held")
	}
	check(t, m)
}

func TestLoadOrTryComputeOncePerKey(t *testing.T) {
	// Many goroutines ask for a few keys. For keys below stored, f fails
	// for its first 3 calls and then succeeds; for the others it always
	// fails, so every call computes. f must never run twice at once for a
	// key, each failure is seen by its own caller only, and once a value
	// is stored every later caller loads it.
	m := cmap.New[int, int](cmap.WithSegments(2))
	const keys, stored, goroutines, rounds = 8, 4, 8, 300
	var inFlight [keys]atomic.Int32
	var calls [keys]atomic.Int32
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				k := (g + r) % keys
				v, loaded, err := m.LoadOrTryCompute(k, func() (int, error) {
					if inFlight[k].Add(1) != 1 {
						t.Errorf("f for key %d runs twice at once", k)
					}
					for range 10 {
						runtime.Gosched()
					}
					inFlight[k].Add(-1)
					if calls[k].Add(1) <= 3 || k >= stored {
						return 0, errBackend
					}
					return 100 + k, nil
				})
				switch {
				case err != nil && (err != errBackend || loaded || v != 0):
					t.Errorf("failed call: (%d, %v, %v)", v, loaded, err)
				case err == nil && v != 100+k:
					t.Errorf("key %d: got %d", k, v)
				}
			}
		}()
	}
	wg.Wait()
	for k := range stored {
		if c := calls[k].Load(); c != 4 {
			t.Errorf("key %d: f called %d times, want 3 failures and 1 success", k, c)
		}
		if v, ok := m.Load(k); !ok || v != 100+k {
			t.Errorf("key %d: Load = %d, %v", k, v, ok)
		}
	}
	if m.Len() != stored {
		t.Errorf("Len = %d, want %d: failures stored nothing", m.Len(), stored)
	}
	check(t, m)
}

func TestLoadOrTryComputeBounded(t *testing.T) {
	ok := func() (int, error) { return 1, nil }
	fail := func() (int, error) { return 0, errBackend }

	rej := cmap.New[int, int](cmap.WithMaxLen(2, cmap.RejectNew))
	rej.Store(1, 1)
	rej.Store(2, 2)
	if _, _, err := rej.LoadOrTryCompute(3, fail); err != errBackend {
		t.Fatalf("failing f on a full RejectNew map: %v, want %v", err, errBackend)
	}
	// An insert the bound refuses is an error LoadOrTryCompute returns,
	// where LoadOrCompute, which has no error to return, panics.
	if v, loaded, err := rej.LoadOrTryCompute(3, ok); !errors.Is(err, cmap.ErrFull) || loaded || v != 0 || !strings.Contains(err.Error(), "LoadOrTryCompute") {
		t.Fatalf("LoadOrTryCompute on a full RejectNew map: (%d, %v, %v), want an error wrapping ErrFull", v, loaded, err)
	}
	mustPanic(t, "cmap: map is full", func() { rej.LoadOrCompute(3, func() int { return 1 }) })
	if v, loaded, err := rej.LoadOrTryCompute(1, fail); v != 1 || !loaded || err != nil {
		t.Fatalf("present key on a full map: (%d, %v, %v)", v, loaded, err)
	}
	rej.Delete(2)
	if _, _, err := rej.LoadOrTryCompute(3, fail); err != errBackend {
		t.Fatal(err)
	}
	check(t, rej) // the failed compute gave its reservation back
	if _, loaded, err := rej.LoadOrTryCompute(3, ok); loaded || err != nil || rej.Len() != 2 {
		t.Fatalf("LoadOrTryCompute into a free slot: %v, %v, Len %d", loaded, err, rej.Len())
	}
	check(t, rej)

	var evicted []int
	ev := cmap.New[int, int](cmap.WithMaxLen(2, cmap.EvictOldest), cmap.WithOnEvict(func(k, _ int) { evicted = append(evicted, k) }))
	ev.Store(1, 1)
	ev.Store(2, 2)
	if _, _, err := ev.LoadOrTryCompute(3, fail); err != errBackend || len(evicted) != 0 || ev.Len() != 2 {
		t.Fatalf("failing f on a full EvictOldest map: %v, evicted %v, Len %d", err, evicted, ev.Len())
	}
	if _, loaded, err := ev.LoadOrTryCompute(3, ok); loaded || err != nil || fmt.Sprint(evicted) != "[1]" {
		t.Fatalf("LoadOrTryCompute on a full EvictOldest map: %v, %v, evicted %v", loaded, err, evicted)
	}
	check(t, ev)
}

func TestCompute(t *testing.T) {
	forEachHasher(t, func(t *testing.T, newMap func(...cmap.Option) *cmap.Map[uint64, uint64]) {
		m := newMap()
		inc := func(old uint64, loaded bool) (uint64, cmap.ComputeOp) { return old + 1, cmap.UpdateOp }
		tests := []struct {
			name   string
			f      func(uint64, bool) (uint64, cmap.ComputeOp)
			want   pr
			sawOld pr
			after  pr
		}{
			{"update absent", inc, pr{1, true}, pr{0, false}, pr{1, true}},
			{"update present", inc, pr{2, true}, pr{1, true}, pr{2, true}},
			{"cancel present", func(o uint64, _ bool) (uint64, cmap.ComputeOp) { return 99, cmap.CancelOp }, pr{2, true}, pr{2, true}, pr{2, true}},
			{"delete present", func(o uint64, _ bool) (uint64, cmap.ComputeOp) { return 99, cmap.DeleteOp }, pr{2, false}, pr{2, true}, pr{0, false}},
			{"delete absent", func(o uint64, _ bool) (uint64, cmap.ComputeOp) { return 99, cmap.DeleteOp }, pr{0, false}, pr{0, false}, pr{0, false}},
			{"cancel absent", func(o uint64, _ bool) (uint64, cmap.ComputeOp) { return 99, cmap.CancelOp }, pr{0, false}, pr{0, false}, pr{0, false}},
		}
		for _, tt := range tests {
			var saw pr
			v, ok := m.Compute(7, func(old uint64, loaded bool) (uint64, cmap.ComputeOp) {
				saw = pr{old, loaded}
				return tt.f(old, loaded)
			})
			if got := (pr{v, ok}); got != tt.want {
				t.Errorf("%s: Compute = %v, want %v", tt.name, got, tt.want)
			}
			if saw != tt.sawOld {
				t.Errorf("%s: f saw %v, want %v", tt.name, saw, tt.sawOld)
			}
			if got := pair(m.Load(7)); got != tt.after {
				t.Errorf("%s: Load after = %v, want %v", tt.name, got, tt.after)
			}
			check(t, m)
		}
	})
}

func TestLoadOrCompute(t *testing.T) {
	m := cmap.New[string, int]()
	calls := 0
	f := func() int { calls++; return 42 }
	if v, loaded := m.LoadOrCompute("a", f); v != 42 || loaded {
		t.Fatalf("LoadOrCompute absent = %d, %v", v, loaded)
	}
	if v, loaded := m.LoadOrCompute("a", f); v != 42 || !loaded {
		t.Fatalf("LoadOrCompute present = %d, %v", v, loaded)
	}
	if calls != 1 {
		t.Fatalf("f called %d times, want 1", calls)
	}
}

// TestConcurrentCompute: contended counters with Compute are exact.
func TestConcurrentCompute(t *testing.T) {
	m := cmap.New[int, int]()
	const goroutines, incs, keys = 8, 2000, 3
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range incs {
				m.Compute((g+i)%keys, func(old int, _ bool) (int, cmap.ComputeOp) { return old + 1, cmap.UpdateOp })
			}
		})
	}
	wg.Wait()
	total := 0
	for _, v := range m.All() {
		total += v
	}
	if total != goroutines*incs {
		t.Fatalf("sum of counters = %d, want %d", total, goroutines*incs)
	}
}

// TestLoadOrComputeOnce: f runs once per absent key however many
// goroutines ask at once.
func TestLoadOrComputeOnce(t *testing.T) {
	m := cmap.New[int, int]()
	var calls [100]atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			<-start
			for k := range len(calls) {
				v, _ := m.LoadOrCompute(k, func() int { calls[k].Add(1); return k * 10 })
				if v != k*10 {
					t.Errorf("LoadOrCompute(%d) = %d", k, v)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for k := range calls {
		if n := calls[k].Load(); n != 1 {
			t.Fatalf("f for key %d ran %d times", k, n)
		}
	}
}
