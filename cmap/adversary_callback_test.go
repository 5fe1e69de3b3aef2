package cmap_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/segmap/segmap/cmap"
)

// finishes runs f in a goroutine and fails the test if it has not
// returned after a grace period long enough for a loaded machine: what a
// deadlock looks like. A panic in f is returned.
func finishes(t *testing.T, what string, f func()) (panicked any) {
	t.Helper()
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		f()
	}()
	select {
	case p := <-done:
		return p
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: still running after 30 s: deadlock", what)
		return nil
	}
}

// watchdog crashes the test binary, naming what, unless the returned stop
// is called within a grace period long enough for a loaded machine: for
// code that must not hang but calls t.Fatal, which finishes cannot run.
func watchdog(what string) (stop func()) {
	timer := time.AfterFunc(30*time.Second, func() {
		panic(what + ": still running after 30 s: deadlock or endless loop")
	})
	return func() { timer.Stop() }
}

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
				// LoadOrCompute, with no error to return, panics;
				// LoadOrTryCompute returns the error.
				if p := finishes(t, "LoadOrCompute", func() { m.LoadOrCompute(11, func() int { safe(); return 11 }) }); p == nil || !errors.Is(p.(error), cmap.ErrFull) {
					t.Fatalf("LoadOrCompute on a full RejectNew map: panicked %v, want ErrFull", p)
				}
				var err error
				if p := finishes(t, "LoadOrTryCompute", func() {
					_, _, err = m.LoadOrTryCompute(12, func() (int, error) { safe(); return 12, nil })
				}); p != nil || !errors.Is(err, cmap.ErrFull) {
					t.Fatalf("LoadOrTryCompute on a full RejectNew map: panicked %v, returned %v; want an error wrapping ErrFull", p, err)
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

// reentrant is a value whose MarshalJSON and UnmarshalJSON call back into
// the map being encoded or decoded.
type reentrant struct {
	m    *cmap.Map[string, reentrant]
	boom bool
}

func (r reentrant) MarshalJSON() ([]byte, error) {
	if r.boom {
		panic("MarshalJSON exploded")
	}
	if r.m != nil {
		r.m.Store("during-marshal", reentrant{})
		r.m.Snapshot()
		r.m.Range(func(string, reentrant) bool { return true })
		r.m.Compute("x", func(v reentrant, _ bool) (reentrant, cmap.ComputeOp) { return v, cmap.UpdateOp })
		r.m.Len()
	}
	return []byte(`1`), nil
}

// decodeInto is the map UnmarshalJSON of reentrant values writes to.
var decodeInto *cmap.Map[string, reentrant]

func (r *reentrant) UnmarshalJSON(b []byte) error {
	if string(b) == `"boom"` {
		panic("UnmarshalJSON exploded")
	}
	if decodeInto != nil {
		decodeInto.Store("during-unmarshal", reentrant{})
		decodeInto.Snapshot()
	}
	return nil
}

// TestJSONValuesReenterTheMap: a value's MarshalJSON or UnmarshalJSON
// runs with no lock of the map held: it may call any method of the map,
// and if it panics, the panic propagates and leaves no lock held and the
// map as it was.
func TestJSONValuesReenterTheMap(t *testing.T) {
	m := cmap.New[string, reentrant](cmap.WithSegments(1), cmap.WithInsertionOrder())
	m.Store("a", reentrant{m: m})
	if p := finishes(t, "json.Marshal", func() {
		if b, err := json.Marshal(m); err != nil || string(b) != `{"a":1}` {
			t.Errorf("Marshal: %s, %v", b, err)
		}
	}); p != nil {
		t.Fatal(p)
	}
	if _, ok := m.Load("during-marshal"); !ok {
		t.Fatal("the value's MarshalJSON did not store")
	}
	m.Store("bad", reentrant{boom: true})
	before := m.Len()
	if p := finishes(t, "json.Marshal of a panicking value", func() { json.Marshal(m) }); p == nil ||
		!strings.Contains(p.(string), "exploded") {
		t.Fatalf("panic %v, want the value's", p)
	}
	if l := m.LockedSegments(); len(l) != 0 || m.Len() != before {
		t.Fatalf("after a panicking MarshalJSON: locked %v, Len %d of %d", l, m.Len(), before)
	}
	m.Delete("bad")

	decodeInto = m
	defer func() { decodeInto = nil }()
	if p := finishes(t, "json.Unmarshal", func() {
		if err := json.Unmarshal([]byte(`{"u":1,"v":2}`), m); err != nil {
			t.Error(err)
		}
	}); p != nil {
		t.Fatal(p)
	}
	for _, k := range []string{"u", "v", "during-unmarshal"} {
		if _, ok := m.Load(k); !ok {
			t.Fatalf("%s missing after Unmarshal", k)
		}
	}
	before = m.Len()
	if p := finishes(t, "json.Unmarshal of a panicking value", func() {
		json.Unmarshal([]byte(`{"w":1,"z":"boom"}`), m)
	}); p == nil {
		t.Fatal("no panic")
	}
	if _, ok := m.Load("w"); ok || m.Len() != before || len(m.LockedSegments()) != 0 {
		t.Fatalf("a panicking UnmarshalJSON stored w (Len %d of %d) or left locks %v", m.Len(), before, m.LockedSegments())
	}
	check(t, m)
}
