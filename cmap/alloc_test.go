package cmap_test

import (
	"testing"

	"github.com/segmap/segmap/cmap"
)

func TestAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	m := cmap.New[uint64, uint64](cmap.WithCapacity(2000))
	for k := range uint64(1000) {
		m.Store(k, k)
	}
	s := cmap.New[string, int]()
	s.Store("present", 1)
	next := uint64(1000)
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
		{"Store existing", 1, func() { m.Store(5, 6) }},
		{"Store new (reserved)", 1, func() { m.Store(next, 1); next++ }},
		{"Compute update", 1, func() {
			m.Compute(7, func(o uint64, _ bool) (uint64, cmap.ComputeOp) { return o + 1, cmap.UpdateOp })
		}},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(200, tt.f); got > tt.max {
			t.Errorf("%s: %v allocs/op, want <= %v", tt.name, got, tt.max)
		}
	}
}
