package table

import "unsafe"

// Table is one open-addressing hash table of a segment, in one of the
// layouts of layout.go; everything here is shared by every layout. Its
// shape is fixed at creation; only its control words and slots change, by
// the writer of its segment, until it is replaced or frozen.
type Table[K comparable, V any] struct {
	header
	// aw is &arena.words[0] if layout == arenaLayout, else nil: the
	// arena's groups one load nearer to cmap's Load, which reaches them
	// from the table with no load of arena (ArenaHome). Set at creation:
	// an arena's words are allocated once, with the arena.
	aw unsafe.Pointer
	// arena is the table if layout == arenaLayout (arena.go), with
	// arena.mask == mask. It is nil in other layouts.
	arena *Arena[K, V]
	// layout says which of the fields holds the table. It is set at
	// creation and never changes; the accessors check it (layout.go).
	layout layout
	// groups is the table if layout == entryLayout (entry.go): a
	// power-of-two length == mask+1. It is nil in other layouts.
	groups []group[K, V]
	// flat is the table if layout == flatLayout (flat.go), with flat.mask
	// == mask. It is the zero Flat in other layouts.
	flat Flat[K, V]
	// The header is read by every probe: padding it to 256 bytes keeps it
	// in cache lines (and an allocation size class) of its own, away from
	// other objects that goroutines write (flat.sealed is written at
	// seals), in pairs of lines of its own, as x86 prefetches lines in
	// pairs. The fields a Load reads (mask, aw, arena, layout, groups,
	// flat.words) lie in its first 64 bytes, one line.
	_ [256 - 8 - 8 - 8 - 8 - 24 - 80]byte
}

// header is the part of a table that every layout has: its size.
type header struct {
	// mask == groups-1, where groups, the number of groups, is a power
	// of two >= 1 (at most MaxGroups).
	mask uint64
}

// Groups returns the number of groups.
func (h *header) Groups() int { return int(h.mask) + 1 }

// Capacity returns the number of slots.
func (h *header) Capacity() int { return (int(h.mask) + 1) * SlotsPerGroup }

// Limits returns t's number of groups and MaxUsed. (A generic method,
// which inlines into other packages' instantiations, where header's
// methods are calls.)
func (t *Table[K, V]) Limits() (groups, maxUsed int) {
	g := int(t.mask) + 1
	return g, g * SlotsPerGroup * maxLoadNum / maxLoadDen
}

// MaxUsed returns MaxUsed(h.Groups()).
func (h *header) MaxUsed() int { return MaxUsed(int(h.mask) + 1) }

// ProbeLen returns the number of groups a probe for the key in slot p, of
// hash h, visits (1 when it is in its home group): probes are linear in
// every layout.
func (h *header) ProbeLen(p Pos, hash uint64) int {
	return int((uint64(p>>3)-hash)&h.mask) + 1
}

// The load bound: occupied slots, live and dead together, are at most
// maxLoadNum/maxLoadDen = 0.70 of the capacity (linear probing degrades
// quickly above it).
const (
	maxLoadNum = 7
	maxLoadDen = 10
)

// MaxUsed returns the most slots (live + dead) that a table of n groups may
// have in use: floor(0.7 × capacity). It is below the capacity, so every
// table keeps an EMPTY slot and every probe terminates.
func MaxUsed(groups int) int { return groups * SlotsPerGroup * maxLoadNum / maxLoadDen }

// Pos names a slot: group index × 8 + slot index. NoPos is none.
type Pos int

// NoPos is the Pos of no slot.
const NoPos Pos = -1

// split returns the group and slot indexes of p. (Generic to inline: see
// word in ctrl.go.)
func split[P ~int](p P) (int, int) { return int(p) >> 3, int(p) & 7 }

// copyBatch is the number of pairs Copy gathers before inserting them.
const copyBatch = 64

// batch is the driver of every layout's Copy. Copy reads the pairs of the
// old table and their hashes into a batch (next, push) and, when push
// reports it full and once at the end, inserts take() into the new table.
//
// Why batches: reading a key is a cache miss in a large table (an entry
// table's entries are scattered; a flat table's groups are visited in
// order but hashed anywhere), and every insert into an entry table does
// atomic stores, which on amd64 are full fences. Interleaved, each miss
// would wait for the previous one; gathered, the processor overlaps them.
// (Measured: the worst Store while growing to 1e6 keys, and BenchmarkCopy.)
type batch[T any] struct {
	items [copyBatch]T
	// n items are gathered; total counts the items taken so far.
	n, total int
}

// next returns the item to fill next. (n < copyBatch always: the mask
// only spares a bounds check.)
func (b *batch[T]) next() *T { return &b.items[b.n&(copyBatch-1)] }

// push adds the item next returned and reports whether the batch is full.
func (b *batch[T]) push() bool {
	b.n++
	return b.n == copyBatch
}

// take returns the gathered items and empties the batch.
func (b *batch[T]) take() []T {
	s := b.items[:b.n]
	b.total += b.n
	b.n = 0
	return s
}
