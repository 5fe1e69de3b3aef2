package cmap_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// TestNaNEveryMethod: a NaN key through every method, on every kind of
// map, behaves as in the built-in map (no lookup finds it; each insert
// adds an entry) and nothing loops, panics unexpectedly or leaves the
// bookkeeping wrong: the bound counts NaN entries, evictions and
// PopOldest remove them, rebuilds move them, Clear removes them.
func TestNaNEveryMethod(t *testing.T) {
	configs := []struct {
		name string
		opts []cmap.Option
		max  int
		pol  cmap.BoundPolicy
		ord  bool
	}{
		{"plain", nil, 0, 0, false},
		{"ordered", []cmap.Option{cmap.WithInsertionOrder()}, 0, 0, true},
		{"EvictOldest", nil, 30, cmap.EvictOldest, true},
		{"RejectNew", nil, 30, cmap.RejectNew, false},
	}
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			evictions := 0
			opts := append([]cmap.Option{cmap.WithSegments(2)}, c.opts...)
			if c.max > 0 {
				opts = append(opts, cmap.WithMaxLen(c.max, c.pol))
			}
			if c.pol == cmap.EvictOldest {
				opts = append(opts, cmap.WithOnEvict(func(k float64, _ int) {
					if k == k {
						t.Errorf("evicted %v, a non-NaN key", k)
					}
					evictions++
				}))
			}
			m := cmap.New[float64, int](opts...)
			defer watchdog("NaN through every method")()
			nanEveryMethod(t, m, c.max, c.pol, c.ord, &evictions)
		})
	}
}

func nanEveryMethod(t *testing.T, m *cmap.Map[float64, int], max int, pol cmap.BoundPolicy, ord bool, evictions *int) {
	nan := math.NaN()
	inserted := 0 // NaN inserts that succeeded
	want := func() int {
		if max > 0 {
			return min(inserted, max)
		}
		return inserted
	}
	insert := func(name string, f func()) {
		t.Helper()
		if max > 0 && pol == cmap.RejectNew && inserted == max {
			defer func() {
				if p := recover(); p == nil || !errors.Is(p.(error), cmap.ErrFull) {
					t.Errorf("%s into a full RejectNew map: %v, want ErrFull", name, p)
				}
			}()
		}
		f()
		inserted++
		if m.Len() != want() {
			t.Fatalf("%s: Len %d, want %d", name, m.Len(), want())
		}
	}
	noop := func(name string, got, wantRes any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(wantRes) || m.Len() != want() {
			t.Fatalf("%s = %v, want %v; Len %d, want %d", name, got, wantRes, m.Len(), want())
		}
	}
	for round := range 25 { // 25 × 7 inserts: rebuilds, evictions, ErrFull
		insert("Store", func() { m.Store(nan, round) })
		insert("Swap", func() {
			if p, l := m.Swap(nan, round); l || p != 0 {
				t.Fatalf("Swap(NaN) loaded %d", p)
			}
		})
		insert("LoadOrStore", func() {
			if a, l := m.LoadOrStore(nan, round); l || a != round {
				t.Fatalf("LoadOrStore(NaN) = %d, %v", a, l)
			}
		})
		insert("LoadOrCompute", func() {
			if a, l := m.LoadOrCompute(nan, func() int { return round }); l || a != round {
				t.Fatalf("LoadOrCompute(NaN) = %d, %v", a, l)
			}
		})
		insert("LoadOrTryCompute", func() {
			a, l, err := m.LoadOrTryCompute(nan, func() (int, error) { return round, nil })
			if max > 0 && pol == cmap.RejectNew && inserted == max {
				// A full RejectNew map: the error is returned, not
				// panicked; insert's check expects the panic.
				if a != 0 || l || !errors.Is(err, cmap.ErrFull) {
					t.Fatalf("LoadOrTryCompute(NaN) into a full RejectNew map = %d, %v, %v; want an error wrapping ErrFull", a, l, err)
				}
				panic(err)
			}
			if l || a != round || err != nil {
				t.Fatalf("LoadOrTryCompute(NaN) = %d, %v, %v", a, l, err)
			}
		})
		insert("Compute", func() {
			m.Compute(nan, func(old int, loaded bool) (int, cmap.ComputeOp) {
				if loaded {
					t.Fatalf("Compute(NaN) found %d", old)
				}
				return round, cmap.UpdateOp
			})
		})
		if max > 0 && pol == cmap.RejectNew && inserted == max {
			if err := m.TryStore(nan, 0); !errors.Is(err, cmap.ErrFull) {
				t.Fatalf("TryStore(NaN) on a full map: %v", err)
			}
		} else {
			insert("TryStore", func() {
				if err := m.TryStore(nan, round); err != nil {
					t.Fatal(err)
				}
			})
		}
		noop("LoadOrTryCompute failing", fmt.Sprint(m.LoadOrTryCompute(nan, func() (int, error) { return 1, errNope })), "0 false nope")
		noop("Compute DeleteOp", fmt.Sprint(m.Compute(nan, func(int, bool) (int, cmap.ComputeOp) { return 0, cmap.DeleteOp })), "0 false")
		noop("Compute CancelOp", fmt.Sprint(m.Compute(nan, func(int, bool) (int, cmap.ComputeOp) { return 0, cmap.CancelOp })), "0 false")
		noop("Load", fmt.Sprint(m.Load(nan)), "0 false")
		noop("LoadAndDelete", fmt.Sprint(m.LoadAndDelete(nan)), "0 false")
		m.Delete(nan)
		noop("Delete", nil, nil)
		noop("CompareAndSwap", m.CompareAndSwap(nan, round, 1), false)
		noop("CompareAndDelete", m.CompareAndDelete(nan, round), false)
		check(t, m)
	}
	if pol == cmap.EvictOldest && *evictions != inserted-max {
		t.Fatalf("%d evictions for %d inserts into a map of %d", *evictions, inserted, max)
	}
	s := m.Snapshot()
	if _, ok := s.Load(nan); ok {
		t.Fatal("Snapshot.Load(NaN) found an entry")
	}
	n := 0
	for k := range s.Keys() {
		if k == k {
			t.Fatalf("key %v", k)
		}
		n++
	}
	if n != want() || s.Len() != n {
		t.Fatalf("snapshot: %d keys, Len %d, want %d", n, s.Len(), want())
	}
	if st := m.Stats(); st.Len != want() {
		t.Fatalf("Stats.Len = %d, want %d", st.Len, want())
	}
	_, plainErr := json.Marshal(map[float64]int{})
	if _, err := json.Marshal(m); err == nil || !errors.As(err, new(*json.UnsupportedTypeError)) {
		t.Fatalf("json.Marshal: %v, want the plain map's %v", err, plainErr)
	}
	m.Reserve(2000) // a rebuild of every segment, rehashing NaN keys
	check(t, m)
	if m.Len() != want() {
		t.Fatalf("Reserve changed Len to %d", m.Len())
	}
	if ord {
		n := 0
		for range s.InOrder() {
			n++
		}
		if n != want() {
			t.Fatalf("InOrder: %d entries, want %d", n, want())
		}
		m.Reserve(0)
		for i := want(); i > 0; i-- { // shrinking rebuilds, rehashing NaN keys
			if k, _, ok := m.PopOldest(); !ok || k == k {
				t.Fatalf("PopOldest = %v, %v", k, ok)
			}
			if m.Len() != i-1 {
				t.Fatalf("Len %d after PopOldest, want %d", m.Len(), i-1)
			}
		}
		check(t, m)
		m.Store(nan, 1)
	}
	m.Clear()
	if m.Len() != 0 {
		t.Fatalf("Clear left %d", m.Len())
	}
	check(t, m)
}

// TestNaNInterfaceKeys: NaN inside an interface key, and an interface key
// that is NaN in one call and a number in the next.
func TestNaNInterfaceKeys(t *testing.T) {
	m := cmap.New[any, int](cmap.WithSegments(2), cmap.WithMaxLen(10, cmap.EvictOldest))
	defer watchdog("interface NaN keys")()
	for i := range 50 {
		m.Store(math.NaN(), i)
		m.Store(float64(i%5), i)
		m.Store(float32(math.NaN()), i)
	}
	if m.Len() != 10 {
		t.Fatalf("Len = %d, want 10", m.Len())
	}
	check(t, m)
}
