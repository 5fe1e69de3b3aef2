package cmap_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// The methods a Compute callback may call (Compute's doc), each called
// from inside Compute, LoadOrCompute and LoadOrTryCompute callbacks; a
// deadlock fails the test after a long grace period. LoadOrCompute's
// callbacks may call every method (TestLoadOrComputeCallbackUsesMap).
func TestCallbackSafeMethods(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(1), cmap.WithInsertionOrder())
	m.Store(1, 1)
	safe := func() {
		m.Load(1)
		m.Load(2)
		m.Len()
		m.LoadOrStore(1, 0)
		m.LoadOrCompute(1, func() int { return 0 })
		m.LoadOrTryCompute(1, func() (int, error) { return 0, nil })
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Compute(5, func(int, bool) (int, cmap.ComputeOp) { safe(); return 5, cmap.UpdateOp })
		m.LoadOrCompute(6, func() int { safe(); return 6 })
		m.LoadOrTryCompute(7, func() (int, error) { safe(); return 7, nil })
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("a method listed as safe in a callback deadlocked")
	}
	check(t, m)
}

// The methods that deadlock in a Compute callback (Compute's doc) are
// those that wait for the lock the callback holds: each is started from
// inside a callback, in another goroutine, and must not finish until the
// callback returns (called in the callback's own goroutine, it would wait
// forever: the locks are not reentrant). In a LoadOrCompute callback, only
// LoadOrCompute and LoadOrTryCompute of its own key do.
func TestCallbackDeadlocks(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(2), cmap.WithInsertionOrder())
	seg := m.SegmentOf(1)
	other := 2 // another key of key 1's segment
	for m.SegmentOf(other) != seg {
		other++
	}
	m.Store(1, 1)
	m.Store(other, 0)
	blocked := map[string]func(){
		"Store(same key)":          func() { m.Store(1, 2) },
		"Store(same segment)":      func() { m.Store(other, 2) },
		"Delete(same segment)":     func() { m.Delete(other) },
		"Compute(same segment)":    func() { m.Compute(other, func(v int, _ bool) (int, cmap.ComputeOp) { return v, cmap.UpdateOp }) },
		"LoadOrStore(absent)":      func() { m.LoadOrStore(-other, 1) },
		"CompareAndSwap(same seg)": func() { m.CompareAndSwap(other, 0, 3) },
		"Range":                    func() { m.Range(func(int, int) bool { return true }) },
		"All": func() {
			for range m.All() {
			}
		},
		"Keys": func() {
			for range m.Keys() {
			}
		},
		"Values": func() {
			for range m.Values() {
			}
		},
		"Snapshot":  func() { m.Snapshot() },
		"Stats":     func() { m.Stats() },
		"Clear":     func() { m.Clear() },
		"Reserve":   func() { m.Reserve(10) },
		"Oldest":    func() { m.Oldest() },
		"Newest":    func() { m.Newest() },
		"PopOldest": func() { m.PopOldest() },
	}
	for name, call := range blocked {
		if name == "LoadOrStore(absent)" && m.SegmentOf(-other) != seg {
			continue
		}
		finished := make(chan struct{})
		m.Compute(1, func(v int, _ bool) (int, cmap.ComputeOp) {
			go func() { call(); close(finished) }()
			time.Sleep(20 * time.Millisecond) // room for call to finish, were it not blocked
			select {
			case <-finished:
				t.Errorf("%s finished while a callback held its segment's lock", name)
			default:
			}
			return v, cmap.CancelOp
		})
		<-finished // and it finishes once the callback returns
		m.Store(1, 1)
		m.Store(other, 0)
	}
	// LoadOrCompute's f holds no lock (TestLoadOrComputeCallbackUsesMap):
	// of the methods above, none waits for it. What waits is LoadOrCompute
	// and LoadOrTryCompute of its own key, which join its call (called in
	// f's own goroutine, they would wait forever).
	for name, call := range map[string]func() (int, bool){
		"LoadOrCompute(own key)": func() (int, bool) { return m.LoadOrCompute(-1, func() int { return -2 }) },
		"LoadOrTryCompute(own key)": func() (int, bool) {
			v, l, _ := m.LoadOrTryCompute(-1, func() (int, error) { return -2, nil })
			return v, l
		},
	} {
		finished := make(chan [2]any, 1)
		m.LoadOrCompute(-1, func() int {
			go func() { v, l := call(); finished <- [2]any{v, l} }()
			time.Sleep(20 * time.Millisecond)
			select {
			case <-finished:
				t.Errorf("%s finished while LoadOrCompute's f ran", name)
			default:
			}
			return -1
		})
		if got := <-finished; got != [2]any{-1, true} {
			t.Errorf("%s after f: %v, want f's value, loaded", name, got)
		}
		m.Delete(-1)
	}
}
