package cmap_test

import (
	"sync/atomic"
	"testing"

	"github.com/segmap/segmap/cmap"
)

func TestBadOptions(t *testing.T) {
	mustPanic(t, "cmap: WithCapacity: -1 is negative", func() { cmap.WithCapacity(-1) })
	mustPanic(t, "cmap: WithSegments: 0 is < 1", func() { cmap.WithSegments(0) })
	mustPanic(t, "cmap: WithSegments: -4 is < 1", func() { cmap.WithSegments(-4) })
	mustPanic(t, "cmap: WithSegments: 65537 is above the maximum 65536", func() { cmap.WithSegments(65537) })
	mustPanic(t, "cmap: WithHasher: nil hasher", func() { cmap.WithHasher[int](nil) })
	mustPanic(t, "cmap: WithHasher: hasher for string keys given to a Map with int keys", func() {
		cmap.New[int, int](cmap.WithHasher(cmap.StringXXHash))
	})
	mustPanic(t, "cmap: New: nil Option", func() { cmap.New[int, int](nil) })
	mustPanic(t, "cmap: New: WithSeed without WithHasher: the default hasher draws its own random seed", func() {
		cmap.New[string, int](cmap.WithSeed(1))
	})
	mustPanic(t, "cmap: Reserve: -5 is negative", func() { cmap.New[int, int]().Reserve(-5) })
}

func TestNilCallbacks(t *testing.T) {
	m := cmap.New[int, int]()
	mustPanic(t, "cmap: Compute: nil function", func() { m.Compute(1, nil) })
	mustPanic(t, "cmap: LoadOrCompute: nil function", func() { m.LoadOrCompute(1, nil) })
	mustPanic(t, "cmap: Compute: invalid ComputeOp 7", func() {
		m.Compute(1, func(int, bool) (int, cmap.ComputeOp) { return 0, 7 })
	})
	if m.Len() != 0 || m.SegmentLocked(1) {
		t.Fatal("a bad Compute changed the map or left its segment locked")
	}
}

func TestIncomparableValues(t *testing.T) {
	m := cmap.New[int, []int]()
	m.Store(1, []int{1})
	mustPanic(t, "cmap: CompareAndSwap: value type []int is not comparable", func() { m.CompareAndSwap(1, nil, nil) })
	mustPanic(t, "cmap: CompareAndDelete: value type []int is not comparable", func() { m.CompareAndDelete(1, nil) })
	// Interface values holding incomparable values panic as == does, with
	// the map unchanged and unlocked.
	a := cmap.New[int, any]()
	a.Store(1, []int{1})
	mustPanic(t, "comparing uncomparable type []int", func() { a.CompareAndSwap(1, []int{1}, 2) })
	if v, ok := a.Load(1); !ok || v.([]int)[0] != 1 || a.SegmentLocked(1) {
		t.Fatal("a panicking CompareAndSwap changed the map or left it locked")
	}
	check(t, a)
}

func TestUnhashableKey(t *testing.T) {
	m := cmap.New[any, int]()
	for i := range 100 {
		m.Store(i, i)
	}
	unhashable := []int{1}
	for _, op := range []struct {
		name string
		f    func()
	}{
		{"Store", func() { m.Store(unhashable, 1) }},
		{"Load", func() { m.Load(unhashable) }},
		{"LoadOrStore", func() { m.LoadOrStore(unhashable, 1) }},
		{"Swap", func() { m.Swap(unhashable, 1) }},
		{"Delete", func() { m.Delete(unhashable) }},
		{"Compute", func() {
			m.Compute(unhashable, func(int, bool) (int, cmap.ComputeOp) { return 1, cmap.UpdateOp })
		}},
		{"LoadOrCompute", func() { m.LoadOrCompute(unhashable, func() int { return 1 }) }},
	} {
		mustPanic(t, "unhashable type []int", op.f)
		if m.Len() != 100 {
			t.Fatalf("%s with an unhashable key changed Len to %d", op.name, m.Len())
		}
	}
	for i := range 100 {
		if v, ok := m.Load(i); !ok || v != i {
			t.Fatalf("Load(%d) = %d, %v after unhashable-key panics", i, v, ok)
		}
		if m.SegmentLocked(i) {
			t.Fatalf("segment of %d left locked", i)
		}
	}
	check(t, m)
}

func TestPanickingHasher(t *testing.T) {
	// A hasher that panics on one key, including while a rebuild rehashes
	// the keys already stored: the map must stay exactly as it was.
	var poison atomic.Bool
	m := cmap.New[int, int](cmap.WithSegments(1), poisonHasher(&poison, 3))
	for i := range 4 { // a one-group table holds 4 entries
		m.Store(i, i)
	}
	before := m.Stats()
	poison.Store(true)
	mustPanic(t, "hasher exploded", func() { m.Store(100, 100) }) // grows: rehashes key 3
	poison.Store(false)
	after := m.Stats()
	if after.Len != before.Len || after.Capacity != before.Capacity || m.SegmentLocked(0) {
		t.Fatalf("map changed by a failed rebuild: %+v -> %+v", before, after)
	}
	if _, ok := m.Load(100); ok {
		t.Fatal("key of the failed Store is present")
	}
	check(t, m)
	m.Store(100, 100)
	if v, ok := m.Load(100); !ok || v != 100 {
		t.Fatal("map unusable after a failed rebuild")
	}
}

func TestPanickingCompute(t *testing.T) {
	m := cmap.New[string, int]()
	m.Store("a", 1)
	mustPanic(t, "boom", func() {
		m.Compute("a", func(int, bool) (int, cmap.ComputeOp) { panic("boom") })
	})
	mustPanic(t, "boom", func() {
		m.LoadOrCompute("b", func() int { panic("boom") })
	})
	if v, ok := m.Load("a"); !ok || v != 1 {
		t.Fatal("panicking Compute changed the key")
	}
	if _, ok := m.Load("b"); ok {
		t.Fatal("panicking LoadOrCompute stored the key")
	}
	if m.SegmentLocked("a") || m.SegmentLocked("b") {
		t.Fatal("segment left locked after a panicking callback")
	}
	m.Store("a", 2) // would deadlock if the lock were held
}
