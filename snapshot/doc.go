// Package snapshot provides [Snapshot], a consistent, point-in-time,
// read-only view of a [github.com/segmap/segmap/cmap.Map], taken by
// [github.com/segmap/segmap/cmap.Map.Snapshot] in time proportional to the
// number of segments, not of entries.
//
// What each operation promises under concurrency is in docs/guarantees.md.
package snapshot
