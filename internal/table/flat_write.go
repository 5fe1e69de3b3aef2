package table

import (
	"sync/atomic"

	"github.com/segmap/segmap/internal/release"
)

// The writer's side of a flat table. Every method here must be called by
// the single writer of the slots it changes (in cmap: with the segment
// lock held and the table sealed, or with the group locks of those slots'
// groups held: flat_lock.go), on
// a table that is not frozen, except Copy and Clone, which only read their
// source. Stores into a published table are atomic, in the order that
// docs/design.md, "Writes and the version word", prescribes; stores into
// a table not yet published (Copy's) are plain: the atomic store that
// publishes the table's pointer orders them before any reader's load of
// it.

// flatPublishHook, if set (by tests only, while no writer runs), is called
// by Insert and by a spare-slot Replace between the stores of the slot's
// words and the ctrl store that publishes them: a writer stalled there
// must not stall any reader.
var flatPublishHook func()

// flatReplaceKeyHook, if set (by tests only, while no writer runs), is
// called by an in-place Replace after each store into a key word and
// before the value's store: a reader running there must find the key.
var flatReplaceKeyHook func()

// Locate finds key for a writer. It returns the slot holding key and true,
// or, if key is absent, NoPos, false and the slot where it should be
// inserted: the first free slot of the first group on its probe sequence
// with more than sp free slots, and whether that slot is EMPTY (an insert
// there uses one more slot of the load bound; a reused tombstone does
// not).
func (t *Flat[K, V]) Locate(h uint64, key K) (pos Pos, found bool, free Pos, freeIsEmpty bool) {
	tw := tagWord[uint64](tagOf(h))
	g := h & t.mask
	free = NoPos
	for range t.mask + 1 { // t.Groups(), a call from cmap's instantiation
		grp := t.group(g)
		ctrl := loadCtrl(grp)
		for m := matchWord(ctrl, tw); m != 0; m &= m - 1 {
			i := slotOf(m)
			if t.loadKey(grp, flatHeader+i*t.sw) == key {
				return Pos(g<<3) + Pos(i), true, NoPos, false
			}
		}
		if f := matchFree(ctrl); free == NoPos && stops(f, t.sp) { // more than sp free slots
			i := slotOf(f)
			free, freeIsEmpty = Pos(g<<3)+Pos(i), byteAt(ctrl, i) == ctrlEmpty
		}
		if stops(matchEmpty(ctrl), t.sp) {
			return NoPos, false, free, freeIsEmpty
		}
		g = (g + 1) & t.mask
	}
	// Unreachable while the load bound holds (see docs/design.md, "The
	// spare slot").
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
		release.Store(&grp[s+w], kb[w])
	}
	s += t.kw
	for w := range t.vw {
		release.Store(&grp[s+w], vb[w])
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
	if wordsOf[K]() == 1 && wordsOf[V]() <= 1 { // constants: storeSlot's stores, with no buffers
		release.Store(&grp[s], wordOf(key))
		if wordsOf[V]() == 1 {
			release.Store(&grp[s+1], wordOf(value))
		}
	} else {
		var kb, vb [flatMaxWords]uint64
		putWords(&kb, key)
		putWords(&vb, value)
		t.storeSlot(grp, s, &kb, &vb)
	}
	if flatPublishHook != nil {
		flatPublishHook()
	}
	storeCtrl(grp, setByte(loadCtrl(grp), int(p&7), tagOf(h)))
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
	if wordsOf[K]() == 1 && wordsOf[V]() <= 1 { // constants: the stores below, with no buffers
		if kw := wordOf(key); atomic.LoadUint64(&grp[s]) != kw {
			release.Store(&grp[s], kw)
			if flatReplaceKeyHook != nil {
				flatReplaceKeyHook()
			}
		}
		if wordsOf[V]() == 1 {
			release.Store(&grp[s+1], wordOf(value))
		}
		return p
	}
	var kb [flatMaxWords]uint64
	putWords(&kb, key)
	if t.vw <= 1 {
		for w := range t.kw {
			if atomic.LoadUint64(&grp[s+w]) != kb[w] {
				release.Store(&grp[s+w], kb[w])
				if flatReplaceKeyHook != nil {
					flatReplaceKeyHook()
				}
			}
		}
		if t.vw == 1 {
			var vb [flatMaxWords]uint64
			putWords(&vb, value)
			release.Store(&grp[s+t.kw], vb[0])
		}
		return p
	}
	c := loadCtrl(grp)
	f := matchFree(c)
	if f == 0 {
		panic("table: spare table group has no free slot")
	}
	i, j := int(p&7), slotOf(f)
	var vb [flatMaxWords]uint64
	putWords(&vb, value)
	t.storeSlot(grp, flatHeader+j*t.sw, &kb, &vb)
	if flatPublishHook != nil {
		flatPublishHook()
	}
	storeCtrl(grp, setByte(setByte(c, j, byteAt(c, i)), i, byteAt(c, j)))
	atomic.AddUint64(&grp[1], versionStep) // one atomic op: see flat_lock.go
	return p&^7 + Pos(j)
}

// Delete removes the key in slot p. It reports whether the slot became a
// TOMBSTONE (counted as dead by the caller): it does unless the group
// stops probes (more than sp EMPTY bytes), in which case it becomes EMPTY
// (the Swiss-table rule; see docs/design.md, "The spare slot"). The ctrl
// store is the linearization point; the version bump after it tells
// readers that held the old ctrl word that the slot's words may be
// reused.
func (t *Flat[K, V]) Delete(p Pos) (tombstone bool) {
	tombstone = t.DeleteHeld(p)
	atomic.AddUint64(&t.group(uint64(p) >> 3)[1], versionStep) // one atomic op: see flat_lock.go
	return tombstone
}

// DeleteHeld is Delete without the version bump, for the holder of the
// group's lock, which must release it with UnlockGroupBump: one atomic
// operation where an unlock after a bump takes two. Between the two, the
// group is the holder's alone and it writes nothing else there, so a
// reader sees what it would see if the bump came at once: a reader that
// loaded the version before the delete and after it, both before the
// unlock, read a slot's words that nobody could change meanwhile (a
// delete changes only the ctrl byte), and a writer that reuses the slot
// needs the lock, which it gets only with the bump.
func (t *Flat[K, V]) DeleteHeld(p Pos) (tombstone bool) {
	grp := t.group(uint64(p) >> 3)
	ctrl := loadCtrl(grp)
	b := uint8(ctrlEmpty)
	if !stops(matchEmpty(ctrl), t.sp) {
		b, tombstone = ctrlTombstone, true
	}
	storeCtrl(grp, setByte(ctrl, int(p&7), b))
	return tombstone
}

// empty returns a new empty table of n groups shaped like t, born sealed
// (see Flat.sealed). It reads only t's shape, which is immutable, and not
// t's sealed flag, which the segment lock's holder may be writing: a
// preparation calls it holding no lock.
func (t *Flat[K, V]) empty(n int) *Flat[K, V] {
	return &Flat[K, V]{
		words:  make([]uint64, n*t.stride), // zeroed: empty groups
		header: header{mask: uint64(n - 1)},
		kw:     t.kw, vw: t.vw, sw: t.sw, stride: t.stride,
		sp:     t.sp,
		sealed: 1,
	}
}

// Copy returns a new table of n groups (a power of two) holding the keys
// and values of t and no tombstones, and the number copied. hash must
// return the hash each key was inserted with; if it panics, the new table
// is dropped and t is untouched (t is only read). n must be large enough:
// GroupsFor(live) or more.
//
// The new table is make([]uint64) and nothing more (a zeroed group is
// empty): Copy is empty and CopyInto.
func (t *Flat[K, V]) Copy(n int, hash func(K) uint64) (*Flat[K, V], int) {
	if n < 1 || n&(n-1) != 0 {
		panic("table: group count is not a power of two")
	}
	nt := t.empty(n)
	return nt, t.CopyInto(nt, hash)
}

// CopyInto copies the keys and values of t into nt, a flat table of t's
// shape that no reader can see yet, holding nothing and large enough
// (GroupsFor(live) groups or more), in batches (see batch), and returns
// the number copied (see Table.CopyInto). It panics if nt has another
// shape.
func (t *Flat[K, V]) CopyInto(nt *Flat[K, V], hash func(K) uint64) int {
	if nt.stride != t.stride || nt.sw != t.sw || len(nt.words) != nt.Groups()*nt.stride {
		panic("table: internal error: Flat.CopyInto a table of another shape")
	}
	return copyPairs(t.words, t.stride, t.sw, t.pairAt, hash, nt.insertBatch)
}

// pairAt returns the key and value of the slot at word s of grp.
func (t *Flat[K, V]) pairAt(grp []uint64, s int) (K, V) {
	return t.loadKey(grp, s), t.loadValue(grp, s)
}

// insertBatch inserts the pairs of a batch with insertFresh.
func (t *Flat[K, V]) insertBatch(b []pair[K, V]) {
	for i := range b {
		t.insertFresh(b[i].h, b[i].k, b[i].v)
	}
}

// pair is a key, its value and its hash, as CopyInto gathers them.
type pair[K comparable, V any] struct {
	h uint64
	k K
	v V
}

// copyPairs is the loop of the CopyInto of flat and arena tables, whose
// groups have the same geometry: words holds groups of stride words, each
// a ctrl word, a version word and slots of sw words. It reads the key and
// value of every full slot with at (the slot's words start at word s of
// grp), hashes the key, and hands the pairs to insert in batches (see
// batch); it returns how many it copied. If hash panics, the pairs not
// yet handed over are dropped.
func copyPairs[K comparable, V any](words []uint64, stride, sw int, at func(grp []uint64, s int) (K, V), hash func(K) uint64, insert func([]pair[K, V])) int {
	var b batch[pair[K, V]]
	for g := 0; g+stride <= len(words); g += stride {
		grp := words[g : g+stride]
		for m := matchFull(loadCtrl(grp)); m != 0; m &= m - 1 {
			s := flatHeader + slotOf(m)*sw
			x := b.next()
			x.k, x.v = at(grp, s)
			x.h = hash(x.k)
			if b.push() {
				insert(b.take())
			}
		}
	}
	insert(b.take())
	return b.total
}

// insertFresh puts key and value in the first group of their probe
// sequence with more than sp free slots, in a table that no reader can see
// yet (plain stores) and that holds no tombstone and not key, and returns
// the slot.
func (t *Flat[K, V]) insertFresh(h uint64, key K, value V) Pos {
	var kb, vb [flatMaxWords]uint64
	putWords(&kb, key)
	putWords(&vb, value)
	g := h & t.mask
	for {
		grp := t.group(g)
		ctrl := grp[0] ^ flatCtrl
		if f := matchFree(ctrl); stops(f, t.sp) { // more than sp free (here EMPTY) slots
			i := slotOf(f)
			s := flatHeader + i*t.sw
			copy(grp[s:s+t.kw], kb[:t.kw])
			copy(grp[s+t.kw:s+t.sw], vb[:t.vw])
			grp[0] = setByte(ctrl, i, tagOf(h)) ^ flatCtrl
			return Pos(g<<3) + Pos(i)
		}
		g = (g + 1) & t.mask
	}
}

// Clone returns a copy of t with the same layout (tombstones and version
// words included), made by copying its words: no key is read or rehashed.
// It is how a writer copies a table shared with a snapshot or an iterator
// before changing it. The plain copy (but of the version words) is
// race-free: the caller holds the segment lock and t is sealed, so
// nothing writes t's ctrl words and slots meanwhile (readers only read), and the
// copy is published later by an atomic store of its pointer.
func (t *Flat[K, V]) Clone() *Flat[K, V] {
	nt := *t
	nt.words = make([]uint64, len(t.words))
	// Group by group: a group-lock writer that found t sealed may take
	// and release a group's lock meanwhile, writing nothing else, so the
	// version words are loaded atomically, and the copy's locks are all
	// free.
	for b := 0; b < len(t.words); b += t.stride {
		nt.words[b] = t.words[b]
		nt.words[b+1] = atomic.LoadUint64(&t.words[b+1]) &^ lockBit
		copy(nt.words[b+flatHeader:b+t.stride], t.words[b+flatHeader:b+t.stride])
	}
	nt.sealed = 1 // born sealed: see Flat.sealed
	return &nt
}
