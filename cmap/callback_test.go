package cmap_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/segmap/segmap/cmap"
)

// TestCallbackSafeMethodsOnFullMap: the methods documented as safe inside
// a callback stay safe on the path where Compute's callback runs with
// every segment lock held (an absent key on a full bounded map), and
// LoadOrCompute's runs with none, and so are
// the methods of a snapshot taken earlier, its JSON included.
func TestCallbackSafeMethodsOnFullMap(t *testing.T) {
	for _, pol := range []cmap.BoundPolicy{cmap.EvictOldest, cmap.RejectNew} {
		t.Run(pol.String(), func(t *testing.T) {
			const bound, segs = 4, 4
			m := cmap.New[int, int](cmap.WithSegments(segs), cmap.WithMaxLen(bound, pol), cmap.WithInsertionOrder())
			for k := range bound {
				m.Store(k, k)
			}
			snap := m.Snapshot()
			// Compute's callback holds every lock there; LoadOrCompute's
			// holds none.
			wantHeld := segs
			safe := func() {
				if held := m.LockedSegments(); len(held) != wantHeld {
					t.Errorf("callback on a full map runs with segments %v locked, want %d", held, wantHeld)
				}
				m.Load(0)
				m.Load(100)
				if m.Len() != bound {
					t.Errorf("Len = %d inside the callback", m.Len())
				}
				// Key 3 is present throughout: the evictions take 0, 1, 2.
				m.LoadOrStore(3, -1)
				m.LoadOrCompute(3, func() int { return -1 })
				m.LoadOrTryCompute(3, func() (int, error) { return -1, nil })
				snap.Load(0)
				for range snap.All() {
				}
				for range snap.InOrder() {
				}
				if b, err := json.Marshal(snap); err != nil || string(b) != `{"0":0,"1":1,"2":2,"3":3}` {
					t.Errorf("earlier snapshot's JSON: %s, %v", b, err)
				}
			}
			op := cmap.CancelOp // a RejectNew map would refuse an insert
			if pol == cmap.EvictOldest {
				op = cmap.UpdateOp
			}
			p := finishes(t, "Compute", func() {
				m.Compute(10, func(int, bool) (int, cmap.ComputeOp) { safe(); return 10, op })
			})
			if p != nil {
				t.Fatalf("Compute: %v", p)
			}
			wantHeld = 0
			if pol == cmap.EvictOldest {
				finishes(t, "LoadOrCompute", func() { m.LoadOrCompute(11, func() int { safe(); return 11 }) })
				finishes(t, "LoadOrTryCompute", func() {
					m.LoadOrTryCompute(12, func() (int, error) { safe(); return 12, nil })
				})
			} else {
				// LoadOrCompute panics with ErrFull; LoadOrTryCompute returns it.
				if p := finishes(t, "LoadOrCompute", func() { m.LoadOrCompute(11, func() int { safe(); return 11 }) }); p == nil || !errors.Is(p.(error), cmap.ErrFull) {
					t.Fatalf("LoadOrCompute on a full RejectNew map: %v, want a panic with ErrFull", p)
				}
				var err error
				if p := finishes(t, "LoadOrTryCompute", func() {
					_, _, err = m.LoadOrTryCompute(12, func() (int, error) { safe(); return 12, nil })
				}); p != nil || !errors.Is(err, cmap.ErrFull) {
					t.Fatalf("LoadOrTryCompute on a full RejectNew map: panic %v, error %v, want the error ErrFull", p, err)
				}
			}
			if l := m.LockedSegments(); len(l) != 0 {
				t.Fatalf("segments %v left locked", l)
			}
			check(t, m)
		})
	}
}

// TestCallbackSafeMethodsOnZeroMap: the safe methods inside callbacks of
// a zero Map (whose state is made by its first write, under another
// lock).
func TestCallbackSafeMethodsOnZeroMap(t *testing.T) {
	var m cmap.Map[string, int]
	finishes(t, "zero Map", func() {
		m.Compute("a", func(int, bool) (int, cmap.ComputeOp) {
			m.Load("a")
			m.Len()
			return 1, cmap.UpdateOp
		})
		m.LoadOrCompute("b", func() int {
			m.LoadOrStore("a", 2)
			m.LoadOrTryCompute("a", func() (int, error) { return 0, nil })
			return m.Len()
		})
	})
	if v, _ := m.Load("b"); v != 1 || m.Len() != 2 {
		t.Fatalf("b = %d, Len %d", v, m.Len())
	}
	check(t, &m)
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

// TestCallbackDeadlocksFullBoundedMap: on a full bounded map, an insert of
// a new key takes every segment lock (to evict the oldest entry, or to
// tell exactly that the map is full), so inside a Compute callback it
// waits for the callback's own lock even when the key is of another
// segment, unlike other writes to other segments (Compute's doc): started
// from the callback in another goroutine, it must not finish until the
// callback returns; in the callback's own goroutine it would wait
// forever. With both policies; on a map that is not full the same insert
// does not wait.
func TestCallbackDeadlocksFullBoundedMap(t *testing.T) {
	for _, policy := range []cmap.BoundPolicy{cmap.EvictOldest, cmap.RejectNew} {
		m := cmap.New[int, int](cmap.WithSegments(4), cmap.WithMaxLen(2, policy))
		seg := m.SegmentOf(1)
		other := 2 // a new key of another segment
		for m.SegmentOf(other) == seg {
			other++
		}
		insert := func() { _ = m.TryStore(other, 1) }
		if policy == cmap.EvictOldest {
			insert = func() { m.Store(other, 1) }
		}
		m.Store(1, 1)
		var finished chan struct{}
		m.Compute(1, func(v int, _ bool) (int, cmap.ComputeOp) {
			var blocked bool
			if blocked, finished = waits(insert); blocked {
				t.Errorf("policy %v: an insert into a map that is not full waited for a callback of another segment", policy)
			}
			return v, cmap.CancelOp
		})
		<-finished
		m.Delete(other)
		m.Store(-1, 1) // full: 1 and -1
		if m.Len() != 2 {
			t.Fatalf("policy %v: Len %d, want a full map of 2", policy, m.Len())
		}
		m.Compute(1, func(v int, _ bool) (int, cmap.ComputeOp) {
			var blocked bool
			if blocked, finished = waits(insert); !blocked {
				t.Errorf("policy %v: an insert into a full bounded map finished while a callback held a segment's lock", policy)
			}
			return v, cmap.CancelOp
		})
		<-finished
		check(t, m)
	}
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
		var finished chan struct{}
		m.Compute(1, func(v int, _ bool) (int, cmap.ComputeOp) {
			var blocked bool
			blocked, finished = waits(call) // room for call to finish, were it not blocked
			if !blocked {
				t.Errorf("%s finished while a callback held its segment's lock", name)
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
