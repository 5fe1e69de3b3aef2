package table

import (
	"math/bits"
	"sync/atomic"
)

// Entry is one published key-value pair. It is immutable once a slot
// points to it: an update publishes a new Entry.
type Entry[K comparable, V any] struct {
	Key   K
	Value V
}

// group is one cache line of the table: a ctrl word and the slots it
// describes.
type group[K comparable, V any] struct {
	// ctrl holds control byte i for slot i < SlotsPerGroup in its byte i;
	// byte 7 is always ctrlTombstone (the sentinel). Written only by the
	// segment's writer (load, modify, store), read by anyone.
	ctrl atomic.Uint64
	// slots[i] != nil only if control byte i is a tag (a writer sets the
	// tag before the pointer and clears the pointer after the tombstone);
	// a tag with a nil slot is an insert or delete in progress.
	slots [SlotsPerGroup]atomic.Pointer[Entry[K, V]]
}

// Group is a group, for the hand-inlined home-group probe of cmap's Load.
type Group[K comparable, V any] = group[K, V]

// Ctrl returns the group's ctrl word.
func (g *group[K, V]) Ctrl() uint64 { return g.ctrl.Load() }

// Slot returns the entry in slot i (< SlotsPerGroup), or nil.
func (g *group[K, V]) Slot(i int) *Entry[K, V] { return g.slots[i].Load() }

// SWAR constants for callers that write the match formulas out (see
// ctrl.go).
const (
	LSB = lsb
	MSB = msb
)

// Home returns the home group of hash h.
func (t *Table[K, V]) Home(h uint64) *Group[K, V] { return &t.groups[h&uint64(len(t.groups)-1)] }

// FindAfterHome continues a probe for key whose home group did not hold
// it and had no EMPTY byte: it is Find without the home group.
func (t *Table[K, V]) FindAfterHome(h uint64, key K) *Entry[K, V] { return t.findSlow(h, key) }

// Table is one open-addressing hash table. Its shape is fixed at creation;
// only its ctrl words and slots change, by the writer of its segment, until
// it is replaced or frozen.
type Table[K comparable, V any] struct {
	// groups has a power-of-two length >= 1.
	groups []group[K, V]
	// mask == len(groups)-1.
	mask uint64
	// The header is read by every probe: padding it to 64 bytes keeps it
	// in a cache line (and an allocation size class) of its own, away from
	// small objects that other goroutines write.
	_ [64 - 32]byte
}

// New returns an empty table of n groups; n must be a power of two >= 1.
func New[K comparable, V any](n int) *Table[K, V] {
	if n < 1 || n&(n-1) != 0 {
		panic("table: group count is not a power of two")
	}
	t := &Table[K, V]{groups: make([]group[K, V], n), mask: uint64(n - 1)}
	for i := range t.groups {
		t.groups[i].ctrl.Store(emptyCtrl)
	}
	return t
}

// Groups returns the number of groups.
func (t *Table[K, V]) Groups() int { return len(t.groups) }

// Capacity returns the number of slots.
func (t *Table[K, V]) Capacity() int { return len(t.groups) * SlotsPerGroup }

// Find returns the entry of key, or nil. It takes no lock and may run
// concurrently with the table's writer; see the package comment for why its
// answer is linearizable.
//
// The SWAR helpers of ctrl.go are written out by hand in Find, findSlow,
// Locate and Range: the compiler does not inline a generic function's
// calls to small unexported helpers when the function is instantiated in
// another package (cmap), and each call costs more than the probe itself
// (measured: Load 2× slower); see ctrl.go.
func (t *Table[K, V]) Find(h uint64, key K) *Entry[K, V] {
	// The home group is probed here; longer probes continue in findSlow.
	grp := &t.groups[h&uint64(len(t.groups)-1)]
	ctrl := grp.ctrl.Load()
	v := ctrl ^ lsb*uint64(uint8(h>>32)&0x7F) // matchTag
	for m := (v - lsb) &^ v & msb; m != 0; m &= m - 1 {
		if e := grp.slots[bits.TrailingZeros64(m)>>3].Load(); e != nil && e.Key == key {
			return e
		}
	}
	if ctrl&^(ctrl<<6)&msb != 0 { // matchEmpty
		return nil
	}
	return t.findSlow(h, key)
}

// findSlow continues Find's probe after the home group.
func (t *Table[K, V]) findSlow(h uint64, key K) *Entry[K, V] {
	tagWord := lsb * uint64(uint8(h>>32)&0x7F)
	g := h & t.mask
	for range len(t.groups) - 1 {
		g = (g + 1) & t.mask
		grp := &t.groups[g]
		ctrl := grp.ctrl.Load()
		v := ctrl ^ tagWord
		for m := (v - lsb) &^ v & msb; m != 0; m &= m - 1 {
			if e := grp.slots[bits.TrailingZeros64(m)>>3].Load(); e != nil && e.Key == key {
				return e
			}
		}
		if ctrl&^(ctrl<<6)&msb != 0 {
			return nil
		}
	}
	return nil
}

// Range calls yield for each entry in the table, in slot order, until yield
// returns false; it reports whether it ran to the end. It takes no lock: on
// a table that a writer still changes it may see or miss entries written
// meanwhile, and may see a key twice if it is deleted and re-inserted, so
// callers iterate frozen tables only.
func (t *Table[K, V]) Range(yield func(e *Entry[K, V]) bool) bool {
	for g := range t.groups {
		grp := &t.groups[g]
		for m := ^grp.ctrl.Load() & slotsMSB; m != 0; m &= m - 1 { // matchFull
			if e := grp.slots[bits.TrailingZeros64(m)>>3].Load(); e != nil && !yield(e) {
				return false
			}
		}
	}
	return true
}
