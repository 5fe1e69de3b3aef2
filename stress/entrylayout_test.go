package stress

import (
	"testing"

	"github.com/segmap/segmap/cmap"
)

// cmap.Map[uint64, uint64], which the other suites drive, uses the flat
// table layout. TestCmapEntryLayout drives a map whose value type holds a
// pointer, so that it keeps the entry layout, through the same Run.

// ptrValue is a uint64 in a value type that holds a pointer (always nil).
type ptrValue struct {
	v uint64
	_ *byte
}

// entryMap is a Map over cmap.Map[uint64, ptrValue].
type entryMap struct{ m *cmap.Map[uint64, ptrValue] }

var _ Map = entryMap{}

func (e entryMap) Load(k uint64) (uint64, bool) {
	v, ok := e.m.Load(k)
	return v.v, ok
}
func (e entryMap) Store(k, v uint64) { e.m.Store(k, ptrValue{v: v}) }
func (e entryMap) LoadOrStore(k, v uint64) (uint64, bool) {
	a, ok := e.m.LoadOrStore(k, ptrValue{v: v})
	return a.v, ok
}
func (e entryMap) LoadAndDelete(k uint64) (uint64, bool) {
	v, ok := e.m.LoadAndDelete(k)
	return v.v, ok
}
func (e entryMap) Delete(k uint64) { e.m.Delete(k) }
func (e entryMap) Swap(k, v uint64) (uint64, bool) {
	p, ok := e.m.Swap(k, ptrValue{v: v})
	return p.v, ok
}
func (e entryMap) CompareAndSwap(k, old, new uint64) bool {
	return e.m.CompareAndSwap(k, ptrValue{v: old}, ptrValue{v: new})
}
func (e entryMap) CompareAndDelete(k, old uint64) bool {
	return e.m.CompareAndDelete(k, ptrValue{v: old})
}
func (e entryMap) Range(f func(k, v uint64) bool) {
	e.m.Range(func(k uint64, v ptrValue) bool { return f(k, v.v) })
}

// TestCmapEntryLayout puts a cmap.Map of the entry layout through Run,
// in the default configuration and with one segment.
func TestCmapEntryLayout(t *testing.T) {
	if l := cmap.New[uint64, ptrValue]().Stats().Layout; l != "entries" {
		t.Fatalf("layout %q, want entries", l)
	}
	if l := cmap.New[uint64, uint64]().Stats().Layout; l != "flat" {
		t.Fatalf("uint64 → uint64: layout %q, want flat", l)
	}
	for _, c := range cmapConfigs[:2] {
		t.Run(c.name, func(t *testing.T) {
			Run(t, func() Map { return entryMap{cmap.New[uint64, ptrValue](c.opts...)} }, Options{})
		})
	}
}
