// Package cmap provides [Map], a concurrent hash map: a typed, faster
// replacement for sync.Map with the same method names and promises, plus
// [Map.Len], [Map.Compute], [Map.LoadOrCompute], [Map.Reserve],
// [Map.Snapshot] (a consistent view in O(segments); a flat map's also
// reads its group locks), [Map.Stats], and
// optional insertion order ([WithInsertionOrder]) and bounds
// ([WithMaxLen]).
//
// Keys are partitioned by hash into segments; each segment is an
// open-addressing table (linear probing over 64-byte groups of 7 slots,
// SWAR control bytes as in Swiss tables) that readers probe without any
// lock and writers change under the segment's lock. A table that must
// grow, drop tombstones or shrink is rebuilt and swapped in: only that
// segment's writers wait, never readers, never the whole map. Snapshots
// freeze tables copy-on-write, the idea of Ctrie's O(1) snapshots applied
// to lock-striped segments (Java's ConcurrentHashMap, Guava's Striped).
//
// What each operation promises under concurrency is in docs/guarantees.md
// of the repository; the design, with the argument that lock-free reads are
// linearizable, is in docs/design.md; measurements beside sync.Map and
// xsync are in docs/benchmarks.md.
package cmap
