package table

import (
	"sync/atomic"
	"unsafe"
)

// The read path of flat tables, for cmap's Load: the probe of a key's
// home group, in three steps that each inline (the inliner's budget is
// 80, and any call costs 57, so none makes a call): FlatHome loads the
// group's version and ctrl words, FlatGroup's Find1 (one-word keys and
// values) or Find compares the keys that the ctrl word matches, and
// Settled tells whether the answer stands. They read the words with
// atomic.LoadUint64, an intrinsic wherever the map is instantiated (the
// methods of sync/atomic's types are calls in a package that does not
// import sync/atomic), and index them unsafely, with no bounds checks.
// Together they are Flat.probe's first group, the same loads in the same
// order, so the answer is linearizable for the same reason ("Memory
// ordering" in flat.go). When Settled reports false the caller calls
// Flat.FindAfter, which goes on from the next group, if the group is
// full and lacks the key and its version did not move (Moved), else
// Flat.Find, which starts over.
//
// Soundness of the unsafe indexing: the group's address is that of word
// g×stride of t.flat.words, which holds (mask+1) × stride words with
// stride = flatHeader + SlotsPerGroup×(kw+vw) (NewFlat; kw and vw are
// the words of K and V, constants of the instantiation); g = h & mask <=
// mask, so the group's stride words lie inside words; and
// the match helpers of ctrl.go never report byte 7: it is the
// sentinel TOMBSTONE (high bit set, also XOR a 7-bit tag), so a slot index
// is at most 6 < SlotsPerGroup (in the logical word, the stored one XOR flatCtrl), and the slot's kw+vw words lie inside the group. Every pointer formed
// points into the one allocation of words (checkptr accepts it), at a
// word boundary (8-byte aligned: see "Storage" in flat.go).

// FlatGroup is a probe of one group of a flat table in progress: the
// group's address and the version and (stored) ctrl words loaded first.
type FlatGroup[K comparable, V any] struct {
	p   unsafe.Pointer
	ver uint64
	// x is the logical ctrl word (the stored one XOR flatCtrl: see
	// loadCtrl) XOR the tag of the hash in every byte: its zero bytes are
	// the slots whose tag matches (matchZero).
	x uint64
	// sb is the bytes of a slot, 8×(kw+vw): a constant, carried here so
	// that the next steps fit the inliner's budget.
	sb uintptr
}

// FlatOneWord reports whether K is one word and V at most one, the shapes
// of FlatGroup.Find1. It is a constant of each instantiation.
func FlatOneWord[K comparable, V any]() bool {
	var k K
	var v V
	return (unsafe.Sizeof(k)+7)/8 == 1 && unsafe.Sizeof(v) <= 8
}

// FlatHome starts the probe of the home group of hash h in t, which must
// be flat: version first, then ctrl. The tag word is written out
// (tagWord(tagOf(h))): with the two helpers FlatHome costs 91 for the
// inliner, over its budget of 80 (go1.26.8, -gcflags=-m=2), and Load
// would call it (TestLoadInlines).
func (t *Table[K, V]) FlatHome(h uint64) FlatGroup[K, V] {
	if t.layout != flatLayout {
		panic("table: internal error: FlatHome called on a table that is not flat")
	}
	var k K
	var v V
	sb := (unsafe.Sizeof(k)+7)&^7 + (unsafe.Sizeof(v)+7)&^7
	p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(t.flat.words)), uintptr(h&t.mask)*(flatHeader*8+SlotsPerGroup*sb))
	return FlatGroup[K, V]{p, atomic.LoadUint64((*uint64)(unsafe.Add(p, 8))), atomic.LoadUint64((*uint64)(p)) ^ flatCtrl ^ lsb*(h>>32&0x7F), sb}
}

// Moved reports whether g's version moved since FlatHome loaded it:
// whether an answer that Settled refused was refused for that reason (the
// caller starts over with Flat.Find) rather than because the group
// neither holds the key nor stops probes (the caller goes on to the next
// group with Flat.FindAfter).
func (g FlatGroup[K, V]) Moved() bool {
	return atomic.LoadUint64((*uint64)(unsafe.Add(g.p, 8))) != g.ver
}

// Find1 is Find and Value for a one-word K and a V of at most one word
// (FlatOneWord): it returns key's value and true if a slot that the ctrl
// word matches holds key. The key is compared, and the value converted,
// from the word loaded, with no buffer: a K (V) of less than a word is
// stored in the first bytes of its word (putWords), which are the first
// bytes of the local word read back, the same conversion in reverse. A V
// of no words is "loaded" from the key's word, inside the slot, and
// converted to nothing. The answer stands only if Settled says so.
func (g FlatGroup[K, V]) Find1(key K) (v V, ok bool) {
	for m := matchZero(g.x); m != 0; m &= m - 1 {
		s := unsafe.Add(g.p, flatHeader*8+uintptr(slotOf(m))*g.sb)
		if w := atomic.LoadUint64((*uint64)(s)); *(*K)(unsafe.Pointer(&w)) == key {
			w = atomic.LoadUint64((*uint64)(unsafe.Add(s, g.sb-8))) // vb = sb-8: 8 or 0
			return *(*V)(unsafe.Pointer(&w)), true
		}
	}
	return v, false
}

// Matches returns the slots whose tag matches, for a caller that
// compares their keys (Key) itself: the high bit of byte i set for slot
// i, only for slots 0..6. The loop is the caller's so that each step
// fits the inliner's budget, keys of more than a word being read through
// a buffer.
func (g FlatGroup[K, V]) Matches() uint64 { return matchZero(g.x) }

// Slot returns the lowest slot of a match word m != 0 of Matches (<= 6).
func (g FlatGroup[K, V]) Slot(m uint64) uintptr { return uintptr(slotOf(m)) }

// Key returns the key in slot i <= 6 of the group, read word by word
// through a buffer, as by Flat.probe.
func (g FlatGroup[K, V]) Key(i uintptr) K {
	return flatLoad[K](unsafe.Add(g.p, flatHeader*8+i*g.sb))
}

// Value returns the value in slot i <= 6 of the group, read word by word
// through a buffer; the value's words are the last of the slot's. A
// zero-size V (a set: struct{} values) is returned without forming a
// pointer: its address would be the slot's end, which for slot 6 of the
// last group is one past the table's allocation, and checkptr rejects
// that even though nothing is read there. (The test is a constant of the
// instantiation, so the branch costs nothing.)
func (g FlatGroup[K, V]) Value(i uintptr) V {
	var v V
	if unsafe.Sizeof(v) == 0 {
		return v
	}
	return flatLoad[V](unsafe.Add(g.p, flatHeader*8+i*g.sb+g.sb-(unsafe.Sizeof(v)+7)&^7))
}

// Value1 is Value for a V of at most one word (the caller's test of
// unsafe.Sizeof, a constant of the instantiation, as for
// ArenaGroup.Value1), converted with no buffer from the slot's last word,
// loaded as in Find1: the value's word, or for a zero-size V the key's
// last word, converted to nothing.
func (g FlatGroup[K, V]) Value1(i uintptr) V {
	w := atomic.LoadUint64((*uint64)(unsafe.Add(g.p, flatHeader*8+i*g.sb+g.sb-8)))
	return *(*V)(unsafe.Pointer(&w))
}

// Settled reports whether the answer of Find or Find1 (ok: key found)
// stands: no slot of the group was freed since its version was loaded (a
// slot read may have been refilled, or key moved within the group), and
// key was found or the group stops probes (more than sp EMPTY bytes,
// sp = 1 in a spare table, vw >= 2: see Flat.probe).
func (g FlatGroup[K, V]) Settled(h uint64, ok bool) bool {
	var v V
	sp := uint64(0)
	if unsafe.Sizeof(v) > 8 {
		sp = 1
	}
	return atomic.LoadUint64((*uint64)(unsafe.Add(g.p, 8))) == g.ver && (ok || stops(matchEmpty(g.x^tagWord[uint64](tagOf(h))), sp))
}

// flatLoad returns the T stored in the words at p, loaded one by one
// into a buffer (see putWords for the conversion). p points to a key's
// or a value's words in a flat table.
func flatLoad[T any](p unsafe.Pointer) T {
	var buf [flatMaxWords]uint64
	for w := range wordsOf[T]() {
		buf[w] = atomic.LoadUint64((*uint64)(unsafe.Add(p, w*8)))
	}
	return *(*T)(unsafe.Pointer(&buf)) // see putWords
}

// range1 is Flat.Range for a one-word K and a V of at most one word
// (FlatOneWord): each key and value is converted from the word loaded, as
// by Find1, with no buffer. The unsafe indexing is sound for the reasons
// given above: g <= mask, and slot indexes come from matchFull, which
// reports slots 0..6 only.
func (t *Flat[K, V]) range1(yield func(K, V) bool) bool {
	var v V
	sb := 8 + (unsafe.Sizeof(v)+7)&^7
	base := unsafe.Pointer(unsafe.SliceData(t.words))
	for g := range uintptr(t.mask + 1) {
		p := unsafe.Add(base, g*(flatHeader*8+SlotsPerGroup*sb))
		for m := matchFull(atomic.LoadUint64((*uint64)(p)) ^ flatCtrl); m != 0; m &= m - 1 {
			s := unsafe.Add(p, flatHeader*8+uintptr(slotOf(m))*sb)
			k, w := atomic.LoadUint64((*uint64)(s)), atomic.LoadUint64((*uint64)(unsafe.Add(s, sb-8)))
			if !yield(*(*K)(unsafe.Pointer(&k)), *(*V)(unsafe.Pointer(&w))) {
				return false
			}
		}
	}
	return true
}
