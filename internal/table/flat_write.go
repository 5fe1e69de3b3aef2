package table

import (
	"math/bits"
	"sync/atomic"
)

// The writer's side of a flat table. Every method here must be called by
// the single writer of the table (in cmap: with the segment lock held), on
// a table that is not frozen, except Copy and Clone, which only read their
// source. Stores into a published table are atomic, in the order that
// "Memory ordering" (flat.go) prescribes; stores into a table not yet
// published (Copy's) are plain: the atomic store that publishes the
// table's pointer orders them before any reader's load of it.

// flatPublishHook, if set (by tests only, while no writer runs), is called
// by Insert and by a spare-slot Replace between the stores of the slot's
// words and the ctrl store that publishes them: a writer stalled there
// must not stall any reader.
var flatPublishHook func()

// Locate finds key for a writer. It returns the slot holding key and true,
// or, if key is absent, NoPos, false and the slot where it should be
// inserted: the first free slot of the first group on its probe sequence
// with more than sp free slots, and whether that slot is EMPTY (an insert
// there uses one more slot of the load bound; a reused tombstone does
// not).
func (t *Flat[K, V]) Locate(h uint64, key K) (pos Pos, found bool, free Pos, freeIsEmpty bool) {
	tw := lsb * uint64(uint8(h>>32)&0x7F)
	g := h & t.mask
	free = NoPos
	for range t.Groups() {
		grp := t.group(g)
		ctrl := atomic.LoadUint64(&grp[0]) ^ msb
		x := ctrl ^ tw
		for m := (x - lsb) &^ x & slotsMSB; m != 0; m &= m - 1 { // matchTag
			i := bits.TrailingZeros64(m) >> 3
			if t.loadKey(grp, flatHeader+i*t.sw) == key {
				return Pos(g<<3) + Pos(i), true, NoPos, false
			}
		}
		e := ctrl &^ (ctrl << 6) & slotsMSB // matchEmpty
		if f := ctrl & slotsMSB; free == NoPos && f&(f-t.sp) != 0 {
			i := bits.TrailingZeros64(f) >> 3
			free, freeIsEmpty = Pos(g<<3)+Pos(i), e>>(8*i)&0x80 != 0
		}
		if e&(e-t.sp) != 0 { // a stopping group
			return NoPos, false, free, freeIsEmpty
		}
		g = (g + 1) & t.mask
	}
	// Unreachable while the load bound holds (see "The spare slot").
	panic("table: flat probe found no stopping group: load bound broken")
}

// slotWords returns the group of slot p and the index of its first word.
func (t *Flat[K, V]) slotWords(p Pos) ([]uint64, int) {
	return t.group(uint64(p) >> 3), flatHeader + int(p&7)*t.sw
}

// storeSlot writes key and value into the words of the slot at word s of
// grp, with atomic stores: a reader holding an old ctrl word may be
// reading them (it will see the version moved).
func (t *Flat[K, V]) storeSlot(grp []uint64, s int, kb, vb *[flatMaxWords]uint64) {
	for w := range t.kw {
		atomic.StoreUint64(&grp[s+w], kb[w])
	}
	s += t.kw
	for w := range t.vw {
		atomic.StoreUint64(&grp[s+w], vb[w])
	}
}

// Insert publishes key and value in the free slot p that Locate returned
// for key: the slot's words first, then the tag, with one ctrl store (the
// linearization point). A reader that loads the new ctrl word sees the
// words; one that loaded an older ctrl word does not read this slot, or
// read it while it was live before a delete whose version bump it will
// see.
func (t *Flat[K, V]) Insert(p Pos, h uint64, key K, value V) {
	grp, s := t.slotWords(p)
	kb, vb := putWords(key), putWords(value)
	t.storeSlot(grp, s, &kb, &vb)
	if flatPublishHook != nil {
		flatPublishHook()
	}
	c := atomic.LoadUint64(&grp[0])
	atomic.StoreUint64(&grp[0], setByte(c, int(p&7), 0x80|uint8(h>>32)&0x7F))
}

// Replace sets the key and value in slot p, which holds a key equal to
// key, and returns the key's slot afterwards. The slot takes key's bits,
// as the built-in map's assignment does: an equal key with other bits
// (+0 for -0 in a float field) replaces the one stored.
//
// A value of at most one word is stored in place, with one atomic store
// (the linearization point): a reader reads either the old word or the
// new one. The key words that differ from key's are stored in place just
// before it; the old and new keys are equal, so a reader comparing any
// mix of their words gets the same answer (see "Memory ordering" in
// flat.go). A larger value cannot be stored atomically, so key and the
// new value go into a free slot j of the same group (a spare table always
// has one), published by one ctrl store that gives j the key's tag and
// slot p the state j had (EMPTY or TOMBSTONE: the group's counts, and so
// whether it stops probes, do not change), and then the version is bumped,
// since slot p was freed.
func (t *Flat[K, V]) Replace(p Pos, key K, value V) Pos {
	grp, s := t.slotWords(p)
	kb := putWords(key)
	if t.vw <= 1 {
		for w := range t.kw {
			if atomic.LoadUint64(&grp[s+w]) != kb[w] {
				atomic.StoreUint64(&grp[s+w], kb[w])
			}
		}
		if t.vw == 1 {
			vb := putWords(value)
			atomic.StoreUint64(&grp[s+t.kw], vb[0])
		}
		return p
	}
	c := atomic.LoadUint64(&grp[0])
	f := ^c & slotsMSB // stored: a free byte has its high bit clear
	if f == 0 {
		panic("table: spare table group has no free slot")
	}
	i, j := int(p&7), bits.TrailingZeros64(f)>>3
	vb := putWords(value)
	t.storeSlot(grp, flatHeader+j*t.sw, &kb, &vb)
	if flatPublishHook != nil {
		flatPublishHook()
	}
	atomic.StoreUint64(&grp[0], setByte(setByte(c, j, byteAt(c, i)), i, byteAt(c, j)))
	atomic.AddUint64(&grp[1], 1)
	return p&^7 + Pos(j)
}

// Delete removes the key in slot p. It reports whether the slot became a
// TOMBSTONE (counted as dead by the caller): it does unless the group
// stops probes (more than sp EMPTY bytes), in which case it becomes EMPTY
// (the Swiss-table rule; see "The spare slot"). The ctrl store is the
// linearization point; the version bump after it tells readers that held
// the old ctrl word that the slot's words may be reused.
func (t *Flat[K, V]) Delete(p Pos) (tombstone bool) {
	grp := t.group(uint64(p) >> 3)
	c := atomic.LoadUint64(&grp[0])
	ctrl := c ^ msb
	b := uint8(flatEmpty)
	if e := ctrl &^ (ctrl << 6) & slotsMSB; e&(e-t.sp) == 0 {
		b, tombstone = flatTombstone, true
	}
	atomic.StoreUint64(&grp[0], setByte(c, int(p&7), b))
	atomic.AddUint64(&grp[1], 1)
	return tombstone
}

// empty returns a new empty table of n groups shaped like t.
func (t *Flat[K, V]) empty(n int) *Flat[K, V] {
	nt := *t
	nt.mask = uint64(n - 1)
	nt.words = make([]uint64, n*t.stride) // zeroed: empty groups
	return &nt
}

// Copy returns a new table of n groups (a power of two) holding the keys
// and values of t and no tombstones, and the number copied. hash must
// return the hash each key was inserted with; if it panics, the new table
// is dropped and t is untouched (t is only read). n must be large enough:
// GroupsFor(live) or more.
//
// The new table is make([]uint64) and nothing more (a zeroed group is
// empty), and Copy works in batches, as Table.Copy does: it gathers up to
// copyBatch keys, values and hashes, then inserts them, so that the cache
// misses of the inserts overlap.
func (t *Flat[K, V]) Copy(n int, hash func(K) uint64) (*Flat[K, V], int) {
	if n < 1 || n&(n-1) != 0 {
		panic("table: group count is not a power of two")
	}
	nt := t.empty(n)
	live := 0
	var batch [copyBatch]struct {
		h uint64
		k K
		v V
	}
	k := 0
	flush := func() {
		for i := range batch[:k] {
			b := &batch[i]
			nt.insertFresh(b.h, b.k, b.v)
		}
		live += k
		k = 0
	}
	for g := range uint64(t.Groups()) {
		grp := t.group(g)
		for m := atomic.LoadUint64(&grp[0]) & slotsMSB; m != 0; m &= m - 1 { // stored tags
			s := flatHeader + bits.TrailingZeros64(m)>>3*t.sw
			b := &batch[k]
			b.k, b.v = t.loadKey(grp, s), t.loadValue(grp, s)
			b.h = hash(b.k)
			if k++; k == copyBatch {
				flush()
			}
		}
	}
	flush()
	return nt, live
}

// insertFresh puts key and value in the first group of their probe
// sequence with more than sp free slots, in a table that no reader can see
// yet (plain stores) and that holds no tombstone and not key, and returns
// the slot.
func (t *Flat[K, V]) insertFresh(h uint64, key K, value V) Pos {
	kb, vb := putWords(key), putWords(value)
	g := h & t.mask
	for {
		grp := t.group(g)
		c := grp[0]
		if f := ^c & slotsMSB; f&(f-t.sp) != 0 { // more than sp free (EMPTY: stored 0x00) slots
			i := bits.TrailingZeros64(f) >> 3
			s := flatHeader + i*t.sw
			copy(grp[s:s+t.kw], kb[:t.kw])
			copy(grp[s+t.kw:s+t.sw], vb[:t.vw])
			grp[0] = c | uint64(0x80|uint8(h>>32)&0x7F)<<(8*i)
			return Pos(g<<3) + Pos(i)
		}
		g = (g + 1) & t.mask
	}
}

// Clone returns a copy of t with the same layout (tombstones and version
// words included), made by copying its words: no key is read or rehashed.
// It is how a writer copies a table shared with a snapshot or an iterator
// before changing it. The plain copy is race-free: the caller holds the
// segment lock, so nothing writes t meanwhile (readers only read), and the
// copy is published later by an atomic store of its pointer.
func (t *Flat[K, V]) Clone() *Flat[K, V] {
	nt := *t
	nt.words = make([]uint64, len(t.words))
	copy(nt.words, t.words)
	return &nt
}

// ProbeLen returns the number of groups a probe for the key in slot p
// visits (1 when it is in its home group).
func (t *Flat[K, V]) ProbeLen(p Pos, h uint64) int {
	return int((uint64(p>>3)-h)&t.mask) + 1
}
