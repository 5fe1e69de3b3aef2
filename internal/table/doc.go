// Package table is the engine of cmap: one open-addressing hash table whose
// reads take no lock and whose writes are made by a single writer at a time
// (the owner of the segment lock in package cmap).
//
// It is internal so that package cmap (the writer) and package snapshot (a
// reader of frozen tables) can share it without snapshot importing cmap.
package table

/*
Design

The design is written once, in docs/design.md: its terminology (segment,
table, group, ctrl, slot, entry, tag, tombstone, live, dead, frozen,
pinned, layout, version, used with that one meaning in every file of cmap
and table), the data layout, "Probing and its termination", "Memory
ordering" (why a lock-free Find is linearizable, and the obvious,
incorrect order), "Flat layout", and "The probe, written once". The
comments here carry the local argument at the line it protects and name
the essay's section for the rest.

Files. The neutral files serve every layout: ctrl.go (the SWAR helpers
on a logical ctrl word), header.go (the header that every layout's table
has, Pos, the load bound, the batched copy driver), layout.go (the one
dispatch on the layout, and the accessors that check it), hash.go,
limits.go, frozen.go and order.go (the insertion log, whose records point
to entries). Each layout is a set of files named after it: entry.go,
entry_write.go and entry_debug.go (slots point to immutable entries), and
flat.go, flat_write.go and flat_debug.go (keys and values inline), and
arena.go, arena_read.go, arena_write.go and arena_debug.go (string keys
in byte arenas, values inline).

How to add a layout (as the arena layout was added):
  - arena.go: its type, as Flat is (embedding header, so that Groups,
    Capacity, MaxUsed and ProbeLen come for free), its lock-free Find,
    and the argument for its memory ordering, which docs/design.md gets
    as a section of its own; arena_write.go: Locate, Insert, Replace,
    Delete, Copy (with batch) and Clone for the writer; arena_debug.go:
    CheckInvariants. Its probes read ctrl words through the helpers of
    ctrl.go, converted to the logical encoding as flat.go's loadCtrl does.
  - layout.go: a constant arenaLayout, a field of Table, an accessor
    Arena() that checks the tag as Flat() does, and one case in each
    switch of the dispatch (Delete, Copy, Clone, CheckInvariants, and the
    helpers off the hot paths).
  - cmap: the choice of the layout in New, and a case at each branch on
    IsFlat, where Load and the write engine (cmap/write.go: locate and
    publish) call the layout's own methods.
Nothing else changes: the engine's locking, copy-on-write, growth,
counts and reservations see only a *Table, a Pos and a value.
*/
