package cmap_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
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
			if errors.Is(err, cmap.ErrFull) {
				panic(err) // a refused insert, checked as the panics of the other methods are
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

func TestNaNKeys(t *testing.T) {
	m := cmap.New[float64, int](cmap.WithSegments(1))
	nan := math.NaN()
	for i := range 100 { // enough to force rebuilds, which must not loop
		m.Store(nan, i)
	}
	if m.Len() != 100 {
		t.Fatalf("Len = %d after 100 NaN stores, want 100 (as the built-in map)", m.Len())
	}
	if _, ok := m.Load(nan); ok {
		t.Fatal("Load(NaN) found an entry")
	}
	m.Delete(nan)
	if m.Len() != 100 {
		t.Fatal("Delete(NaN) deleted an entry")
	}
	n := 0
	for k := range m.Keys() {
		if k == k {
			t.Fatal("a non-NaN key appeared")
		}
		n++
	}
	if n != 100 {
		t.Fatalf("All visited %d NaN entries, want 100", n)
	}
	check(t, m)
	m.Clear()
	if m.Len() != 0 {
		t.Fatal("Clear left NaN entries")
	}
}

// TestOrderNaNKeys: PopOldest removes NaN keys, which no lookup finds,
// even after a snapshot makes the table move.
func TestOrderNaNKeys(t *testing.T) {
	m := cmap.New[float64, int](cmap.WithInsertionOrder())
	nan := func() float64 { z := 0.0; return z / z }
	m.Store(nan(), 1)
	m.Store(1, 2)
	m.Store(nan(), 3)
	m.Snapshot()
	for _, want := range []int{1, 2, 3} {
		if _, v, ok := m.PopOldest(); !ok || v != want {
			t.Fatalf("PopOldest = %d, %v; want %d", v, ok, want)
		}
		check(t, m)
	}
	if m.Len() != 0 {
		t.Fatalf("Len = %d", m.Len())
	}
}

// textFloat is a float key with a text form, so that JSON objects can
// hold NaN and -0 keys: "NaN", "-0", "1.5".
type textFloat float64

func (f textFloat) MarshalText() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(f), 'g', -1, 64)), nil
}

func (f *textFloat) UnmarshalText(b []byte) error {
	x, err := strconv.ParseFloat(string(b), 64)
	*f = textFloat(x)
	return err
}

// pairs returns the entries of seq as "key=value" strings, the key in its
// text form (NaN keys included, once per entry; -0 apart from 0), sorted.
func pairs[V any](seq func(func(textFloat, V) bool)) []string {
	var out []string
	for k, v := range seq {
		kt, _ := k.MarshalText()
		out = append(out, fmt.Sprintf("%s=%v", kt, v))
	}
	slices.Sort(out)
	return out
}

// TestUnmarshalJSONNaNKeys: every NaN key of a JSON object is decoded as
// its own entry with its own value, as encoding/json decodes it into a
// plain map (a NaN is never equal to another, so each is a distinct key),
// on flat, entry, insertion-order and RejectNew maps, into an empty map
// and into one that already holds a NaN key. A map with insertion order
// stores them at their places in the document.
func TestUnmarshalJSONNaNKeys(t *testing.T) {
	docs := []string{
		`{"NaN":7,"1":8}`,
		`{"NaN":7,"1":8,"NaN":9,"2":1,"1":10,"NaN":11}`,
		`{"NaN":0,"NaN":-1}`,
	}
	kinds := []struct {
		name   string
		entry  bool // forced
		layout string
		opts   []cmap.Option
	}{
		{"flat", false, "flat", nil},
		{"entry", true, "entries", nil},
		{"insertion-order", false, "entries", []cmap.Option{cmap.WithInsertionOrder()}},
		{"RejectNew", false, "flat", []cmap.Option{cmap.WithMaxLen(20, cmap.RejectNew)}},
		{"RejectNew-entry", true, "entries", []cmap.Option{cmap.WithMaxLen(20, cmap.RejectNew)}},
		{"EvictOldest", false, "entries", []cmap.Option{cmap.WithMaxLen(20, cmap.EvictOldest)}},
	}
	for _, k := range kinds {
		for _, prefill := range []bool{false, true} {
			for _, doc := range docs {
				t.Run(fmt.Sprintf("%s/prefill=%v/%s", k.name, prefill, doc), func(t *testing.T) {
					cmap.ForceEntryLayout(k.entry)
					m := cmap.New[textFloat, int](append([]cmap.Option{cmap.WithSegments(2)}, k.opts...)...)
					cmap.ForceEntryLayout(false)
					if got := m.Stats().Layout; got != k.layout {
						t.Fatalf("layout %q, want %q", got, k.layout)
					}
					plain := map[textFloat]int{}
					if prefill {
						for _, kv := range []struct {
							k textFloat
							v int
						}{{textFloat(math.NaN()), 5}, {2, 6}} {
							m.Store(kv.k, kv.v)
							plain[kv.k] = kv.v
						}
					}
					if err := json.Unmarshal([]byte(doc), &plain); err != nil {
						t.Fatal(err)
					}
					if err := json.Unmarshal([]byte(doc), m); err != nil {
						t.Fatal(err)
					}
					want := pairs(func(yield func(textFloat, int) bool) {
						for k, v := range plain {
							if !yield(k, v) {
								return
							}
						}
					})
					if got := pairs(m.All()); !slices.Equal(got, want) {
						t.Fatalf("map holds %v, a plain map %v", got, want)
					}
					if m.Len() != len(plain) {
						t.Fatalf("Len = %d, plain map %d", m.Len(), len(plain))
					}
					check(t, m)
				})
			}
		}
	}
}

// TestUnmarshalJSONNaNKeysInOrder: a map with insertion order stores each
// NaN key of the document at its own place, with its own value, and the
// other keys at their last occurrence.
func TestUnmarshalJSONNaNKeysInOrder(t *testing.T) {
	for _, entry := range []bool{false, true} {
		cmap.ForceEntryLayout(entry)
		m := cmap.New[textFloat, int](cmap.WithInsertionOrder(), cmap.WithSegments(4))
		cmap.ForceEntryLayout(false)
		doc := `{"NaN":7,"1":8,"NaN":9,"2":1,"1":10,"NaN":11,"3":0}`
		if err := json.Unmarshal([]byte(doc), m); err != nil {
			t.Fatal(err)
		}
		var got []string
		for k, v := range m.Snapshot().InOrder() {
			kt, _ := k.MarshalText()
			got = append(got, fmt.Sprintf("%s=%d", kt, v))
		}
		want := []string{"NaN=7", "NaN=9", "2=1", "1=10", "NaN=11", "3=0"}
		if !slices.Equal(got, want) {
			t.Fatalf("entry layout %v: order %v, want %v", entry, got, want)
		}
	}
}

// TestUnmarshalJSONNaNKeysRejectNew: on a RejectNew map, every NaN key of
// the document is a new key, counted against the room left.
func TestUnmarshalJSONNaNKeysRejectNew(t *testing.T) {
	m := cmap.New[textFloat, int](cmap.WithSegments(2), cmap.WithMaxLen(4, cmap.RejectNew))
	m.Store(1, 1)
	m.Store(textFloat(math.NaN()), 2)
	err := json.Unmarshal([]byte(`{"NaN":3,"1":4,"NaN":5,"NaN":6}`), m) // 3 new keys, room for 2
	if !errors.Is(err, cmap.ErrFull) {
		t.Fatalf("err = %v, want ErrFull", err)
	}
	if got := pairs(m.All()); !slices.Equal(got, []string{"1=1", "NaN=2"}) {
		t.Fatalf("a refused UnmarshalJSON left %v", got)
	}
	if err := json.Unmarshal([]byte(`{"NaN":3,"1":4,"NaN":5}`), m); err != nil {
		t.Fatal(err)
	}
	if got := pairs(m.All()); !slices.Equal(got, []string{"1=4", "NaN=2", "NaN=3", "NaN=5"}) {
		t.Fatalf("map holds %v", got)
	}
	check(t, m)
}
