package cmap_test

import (
	"errors"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/segmap/segmap/cmap"
)

// Adversarial LoadOrCompute: a leader that exits its goroutine with waiters
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
