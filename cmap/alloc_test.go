package cmap_test

import (
	"runtime"
	"testing"

	"github.com/segmap/segmap/cmap"
)

func TestAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	if cmap.Invariants {
		t.Skip("the invariant checks of -tags segmap_invariants allocate")
	}
	m := cmap.New[uint64, uint64](cmap.WithCapacity(2000)) // flat
	for k := range uint64(1000) {
		m.Store(k, k)
	}
	big := cmap.New[uint64, [3]uint64](cmap.WithCapacity(2000)) // flat, spare slot
	for k := range uint64(1000) {
		big.Store(k, [3]uint64{k})
	}
	e := cmap.New[uint64, *uint64](cmap.WithCapacity(2000)) // entries
	for k := range uint64(1000) {
		e.Store(k, nil)
	}
	s := cmap.New[string, int]()
	s.Store("present", 1)
	if m.Stats().Layout != "flat" || big.Stats().Layout != "flat" || e.Stats().Layout != "entries" {
		t.Fatal("unexpected layouts")
	}
	next, nextBig, nextE := uint64(1000), uint64(1000), uint64(1000)
	tests := []struct {
		name string
		max  float64
		f    func()
	}{
		{"Load hit", 0, func() { m.Load(5) }},
		{"Load miss", 0, func() { m.Load(5000) }},
		{"Load string", 0, func() { s.Load("present") }},
		{"Delete missing", 0, func() { m.Delete(5000) }},
		{"LoadAndDelete missing", 0, func() { m.LoadAndDelete(5000) }},
		{"LoadOrStore present", 0, func() { m.LoadOrStore(5, 5) }},
		{"CompareAndSwap mismatch", 0, func() { m.CompareAndSwap(5, 6, 7) }},
		// Flat maps: no write allocates.
		{"flat Store existing", 0, func() { m.Store(5, 6) }},
		{"flat Store new (reserved)", 0, func() { m.Store(next, 1); next++ }},
		{"flat Swap", 0, func() { m.Swap(6, 7) }},
		{"flat CompareAndSwap", 0, func() { m.CompareAndSwap(8, 8, 9); m.CompareAndSwap(8, 9, 8) }},
		{"flat Compute update", 0, func() {
			m.Compute(7, func(o uint64, _ bool) (uint64, cmap.ComputeOp) { return o + 1, cmap.UpdateOp })
		}},
		{"flat Delete and Store", 0, func() { m.Delete(9); m.Store(9, 9) }},
		{"flat spare-slot Store existing", 0, func() { big.Store(5, [3]uint64{6}) }},
		{"flat spare-slot Store new (reserved)", 0, func() { big.Store(nextBig, [3]uint64{1}); nextBig++ }},
		// Entry maps: one entry per published value.
		{"entries Store existing", 1, func() { e.Store(5, nil) }},
		{"entries Store new (reserved)", 1, func() { e.Store(nextE, nil); nextE++ }},
		{"entries Compute update", 1, func() {
			e.Compute(7, func(o *uint64, _ bool) (*uint64, cmap.ComputeOp) { return o, cmap.UpdateOp })
		}},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(200, tt.f); got > tt.max {
			t.Errorf("%s: %v allocs/op, want <= %v", tt.name, got, tt.max)
		}
	}
}

// TestFlatHeapObjects: a flat map holds no heap object per entry: storing
// 1e6 keys into reserved capacity leaves the heap's object count about as
// it was (the tables are allocated by Reserve).
func TestFlatHeapObjects(t *testing.T) {
	if testing.Short() {
		t.Skip("1e6 keys")
	}
	const n = 1_000_000
	m := cmap.New[uint64, uint64]()
	m.Reserve(n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for k := range uint64(n) {
		m.Store(k, k)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapObjects) - int64(before.HeapObjects); grown > 5000 {
		t.Fatalf("heap objects grew by %d for %d keys", grown, n)
	}
	if m.Len() != n {
		t.Fatalf("Len %d", m.Len())
	}
	runtime.KeepAlive(m)
}
