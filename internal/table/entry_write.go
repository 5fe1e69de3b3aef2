package table

import "github.com/segmap/segmap/internal/release"

// The writer's side of an entry table. Every function here must be called
// by the single writer of the table (in cmap: with the segment lock held),
// on a table that is not frozen, except copyEntries and cloneEntries,
// which only read their source.

// Locate finds key for a writer. It returns the slot holding key and its
// entry, or, if key is absent, NoPos, nil and the slot where it should be
// inserted: the first TOMBSTONE or EMPTY slot on its probe sequence, and
// whether that slot is EMPTY (an insert there uses one more slot of the
// load bound; a reused tombstone does not).
func (t *Table[K, V]) Locate(h uint64, key K) (pos Pos, e *Entry[K, V], free Pos, freeIsEmpty bool) {
	groups := t.entries()
	tw := tagWord[uint64](tagOf(h))
	g := h & t.mask
	free = NoPos
	for range len(groups) {
		grp := &groups[g]
		ctrl := grp.ctrl.Load()
		for m := matchWord(ctrl, tw); m != 0; m &= m - 1 {
			i := slotOf(m)
			if e := grp.slots[i].Load(); e != nil && e.Key == key {
				return Pos(g<<3) + Pos(i), e, NoPos, false
			}
		}
		if free == NoPos {
			if m := matchFree(ctrl); m != 0 {
				i := slotOf(m)
				free = Pos(g<<3) + Pos(i)
				freeIsEmpty = byteAt(ctrl, i) == ctrlEmpty
			}
		}
		if matchEmpty(ctrl) != 0 {
			return NoPos, nil, free, freeIsEmpty
		}
		g = (g + 1) & t.mask
	}
	// Unreachable while the load bound holds (see docs/design.md,
	// "Probing and its termination").
	panic("table: probe found no EMPTY slot: load bound broken")
}

// Insert publishes e in the free slot p returned by Locate for e's key.
func (t *Table[K, V]) Insert(p Pos, h uint64, e *Entry[K, V]) {
	g, i := split(p)
	grp := &t.entries()[g]
	// The tag first, then the entry: see docs/design.md, "Memory
	// ordering", for why the reverse order is wrong.
	release.StoreUint64(&grp.ctrl, setByte(grp.ctrl.Load(), i, tagOf(h)))
	grp.slots[i].Store(e)
}

// Replace publishes e in slot p, which holds an entry with the same key.
func (t *Table[K, V]) Replace(p Pos, e *Entry[K, V]) {
	g, i := split(p)
	t.entries()[g].slots[i].Store(e)
}

// deleteEntry is Delete for an entry table: it removes the entry in slot p
// and releases it to the garbage collector. The slot becomes a TOMBSTONE
// when its group has no EMPTY byte; if the group has one, it becomes EMPTY
// instead, the Swiss-table rule.
//
// Why EMPTY is safe there: every probe that reaches this group stops at it
// anyway (it has an EMPTY byte), so no key beyond it can be cut off. The
// invariant the lock-free readers rely on becomes "a group with no EMPTY
// byte never gets one until the table is rebuilt", which is what the
// linearizability argument needs (docs/design.md, "Memory ordering"): a
// key lies beyond group g on its probe sequence only if g had no EMPTY
// byte when the key was inserted. Without this rule, tombstones pile up
// under churn, every miss probes further, and the table is rebuilt more
// often.
func (t *Table[K, V]) deleteEntry(p Pos) (tombstone bool) {
	g, i := split(p)
	grp := &t.entries()[g]
	ctrl := grp.ctrl.Load()
	b := uint8(ctrlEmpty)
	if matchEmpty(ctrl) == 0 { // no EMPTY byte in the group
		b, tombstone = ctrlTombstone, true
	}
	// The ctrl byte first (the delete's linearization point), then the
	// pointer, so that the entry can be collected.
	release.StoreUint64(&grp.ctrl, setByte(ctrl, i, b))
	grp.slots[i].Store(nil)
	return tombstone
}

// copyEntries is CopyInto for entry tables t and nt, in batches (see
// batch).
func (t *Table[K, V]) copyEntries(nt *Table[K, V], hash func(K) uint64) int {
	var b batch[struct {
		e *Entry[K, V]
		h uint64
	}]
	groups := t.entries()
	for g := range groups {
		grp := &groups[g]
		for m := matchFull(grp.ctrl.Load()); m != 0; m &= m - 1 {
			e := grp.slots[slotOf(m)].Load()
			if e == nil {
				continue
			}
			x := b.next()
			x.e, x.h = e, hash(e.Key)
			if b.push() {
				for _, x := range b.take() {
					nt.insertFresh(x.h, x.e)
				}
			}
		}
	}
	for _, x := range b.take() {
		nt.insertFresh(x.h, x.e)
	}
	return b.total
}

// cloneEntries is Clone for an entry table: it copies the groups
// verbatim.
func (t *Table[K, V]) cloneEntries() *Table[K, V] {
	groups := t.entries()
	nt := &Table[K, V]{header: t.header, groups: make([]group[K, V], len(groups)), layout: entryLayout}
	copy(nt.groups, groups)
	return nt
}

// insertFresh puts e in the first free slot of its probe sequence in a
// table that no reader can see yet and that does not hold e's key, and
// returns that slot.
func (t *Table[K, V]) insertFresh(h uint64, e *Entry[K, V]) Pos {
	groups := t.entries()
	g := h & t.mask
	for {
		grp := &groups[g]
		ctrl := grp.ctrl.Load()
		if m := matchEmpty(ctrl); m != 0 {
			i := slotOf(m)
			release.StoreUint64(&grp.ctrl, setByte(ctrl, i, tagOf(h)))
			grp.slots[i].Store(e)
			return Pos(g<<3) + Pos(i)
		}
		g = (g + 1) & t.mask
	}
}
