package main

import (
	"fmt"

	"github.com/segmap/segmap/cmap"
)

// The cmap adapter lives in its own file so that the rest of the harness
// does not depend on cmap's API beyond these few calls.

func init() {
	register(&impl{id: "cmap", label: "cmap", order: 0, ours: true, snaps: true,
		u64: newCmap[uint64], str: newCmap[string]})
	register(&impl{id: "cmapentries", label: "cmap (entry layout)", order: 1, ref: true,
		u64: newCmapEntries[uint64], str: newCmapEntries[string]})
}

// The Compute op names of cmap, for wordcount.go.
type cmapComputeOp = cmap.ComputeOp

const cmapUpdate = cmap.UpdateOp

// entryValue is a uint64 in a type that holds a pointer (always nil), so
// that a cmap.Map of it keeps the entry layout: uint64 values would make
// it flat.
type entryValue struct {
	v uint64
	_ *byte
}

// cmapEntries is cmap.Map with the entry layout, for reference beside
// cmap (selected with -maps cmapentries; not in all).
type cmapEntries[K comparable] struct{ m *cmap.Map[K, entryValue] }

func newCmapEntries[K comparable]() benchMap[K] {
	return cmapEntries[K]{m: cmap.New[K, entryValue]()}
}

func (c cmapEntries[K]) Load(k K) (uint64, bool) {
	v, ok := c.m.Load(k)
	return v.v, ok
}
func (c cmapEntries[K]) Store(k K, v uint64) { c.m.Store(k, entryValue{v: v}) }
func (c cmapEntries[K]) Delete(k K)          { c.m.Delete(k) }

// oneSegment implements oneSegmenter.
func (c cmapEntries[K]) oneSegment() benchMap[K] {
	return cmapEntries[K]{m: cmap.New[K, entryValue](cmap.WithSegments(1))}
}

// cmapMap is cmap.Map with its default options (no presize).
type cmapMap[K comparable] struct{ m *cmap.Map[K, uint64] }

func newCmap[K comparable]() benchMap[K] {
	return cmapMap[K]{m: cmap.New[K, uint64]()}
}

func (c cmapMap[K]) Load(k K) (uint64, bool) { return c.m.Load(k) }
func (c cmapMap[K]) Store(k K, v uint64)     { c.m.Store(k, v) }
func (c cmapMap[K]) Delete(k K)              { c.m.Delete(k) }

// oneSegment implements oneSegmenter.
func (c cmapMap[K]) oneSegment() benchMap[K] {
	return cmapMap[K]{m: cmap.New[K, uint64](cmap.WithSegments(1))}
}

// snapshot implements snapshotter.
func (c cmapMap[K]) snapshot() any { return c.m.Snapshot() }

// describe implements describer: the layout figures of cmap.Map.Stats.
func (c cmapMap[K]) describe() string {
	s := c.m.Stats()
	return fmt.Sprintf("%d segments, capacity %d, %d live, %d tombstones, load %.2f, longest probe %d groups, %d resizes",
		s.Segments, s.Capacity, s.Len, s.Tombstones, s.LoadFactor, s.MaxProbe, s.Resizes)
}
