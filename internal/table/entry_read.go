package table

import (
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// The read path of entry tables, for cmap's Load: the probe of a key's
// home group in two steps that each inline (no call: see flat_read.go):
// EntryHome loads the group's ctrl word, and EntryGroup's Find compares
// the keys of the entries it matches. Together they are Find's first
// group, the same loads in the same order, so the answer is
// linearizable for the same reason (see the package comment). If Find
// finds nothing and Stops reports false, the caller calls Table.Find,
// which starts over.
//
// The ctrl word is loaded with atomic.LoadUint64, an intrinsic, through a
// *uint64 to group.ctrl: atomic.Uint64 holds its value in its one field
// of nonzero size, so its address is the value's (TestAtomicLayout checks
// that the type is one word); (*atomic.Uint64).Load would be a call in a
// package that does not import sync/atomic.
//
// Soundness of the unsafe indexing: the group is element h & mask of
// t.groups, of length mask+1 (New), so it lies inside that array; and
// the match helpers of ctrl.go never report byte 7: it is the
// sentinel TOMBSTONE (high bit set, also XOR a 7-bit tag), so a slot index
// is at most 6 < SlotsPerGroup. Both pointers stay inside the one allocation of groups
// (checkptr accepts them).

// EntryGroup is a probe of one group of an entry table in progress: the
// group and the ctrl word loaded first.
type EntryGroup[K comparable, V any] struct {
	g    *group[K, V]
	ctrl uint64
}

// EntryHome starts the probe of the home group of hash h in t, which must
// be an entry table. It spells out entries (the layout check, then
// t.groups): the inlined call of that generic method left Load a load of
// its dictionary and a nil check of it (TestLoadInlines).
func (t *Table[K, V]) EntryHome(h uint64) EntryGroup[K, V] {
	if t.layout != entryLayout {
		panic("table: internal error: entry method called on a table that is not an entry table")
	}
	g := (*group[K, V])(unsafe.Add(unsafe.Pointer(unsafe.SliceData(t.groups)), uintptr(h&t.mask)*unsafe.Sizeof(group[K, V]{})))
	return EntryGroup[K, V]{g, atomic.LoadUint64((*uint64)(unsafe.Pointer(&g.ctrl)))}
}

// Find returns key's entry if a slot that the ctrl word matches holds it,
// else nil.
func (eg EntryGroup[K, V]) Find(h uint64, key K) *Entry[K, V] {
	// matchTag(eg.ctrl, tagOf(h)) and slotOf(m), written out: with the
	// helpers Find costs 119 for the inliner, over its budget of 80
	// (go1.26.8, -gcflags=-m=2), and Load would call it (TestLoadInlines).
	x := eg.ctrl ^ lsb*(h>>32&0x7F)
	for m := (x - lsb) &^ x & msb; m != 0; m &= m - 1 {
		sl := (*atomic.Pointer[Entry[K, V]])(unsafe.Add(unsafe.Pointer(&eg.g.slots), uintptr(bits.TrailingZeros64(m)>>3)*unsafe.Sizeof(eg.g.slots[0])))
		if e := sl.Load(); e != nil && e.Key == key {
			return e
		}
	}
	return nil
}

// Stops reports whether the group has an EMPTY slot, which ends a probe:
// a key that Find did not find is absent.
func (eg EntryGroup[K, V]) Stops() bool { return matchEmpty(eg.ctrl) != 0 }
