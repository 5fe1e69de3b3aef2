package table

// The writer's side of a table. Every function here must be called by the
// single writer of the table (in cmap: with the segment lock held), on a
// table that is not frozen, except Copy, which only reads its source.

// MaxLoad is the bound on occupied slots, live entries and tombstones
// together, as a fraction of capacity: maxLoadNum/maxLoadDen = 0.70 (the
// seed spec's value: linear probing degrades quickly above it).
const (
	maxLoadNum = 7
	maxLoadDen = 10
)

// MaxUsed returns the most slots (live + dead) that a table of n groups may
// have in use: floor(0.7 × capacity). It is below the capacity, so every
// table keeps an EMPTY slot and every probe terminates.
func MaxUsed(groups int) int { return groups * SlotsPerGroup * maxLoadNum / maxLoadDen }

// GroupsFor returns the smallest power-of-two number of groups whose load
// bound admits n used slots.
func GroupsFor(n int) int {
	g := 1
	for MaxUsed(g) < n {
		g <<= 1
	}
	return g
}

// Pos names a slot: group index × 8 + slot index. NoPos is none.
type Pos int

// NoPos is the Pos of no slot.
const NoPos Pos = -1

func (p Pos) split() (int, int) { return int(p) >> 3, int(p) & 7 }

// Locate finds key for a writer. It returns the slot holding key and its
// entry, or, if key is absent, NoPos, nil and the slot where it should be
// inserted: the first TOMBSTONE or EMPTY slot on its probe sequence, and
// whether that slot is EMPTY (an insert there uses one more slot of the
// load bound; a reused tombstone does not).
func (t *Table[K, V]) Locate(h uint64, key K) (pos Pos, e *Entry[K, V], free Pos, freeIsEmpty bool) {
	tag := tagOf(h)
	g := h & t.mask
	free = NoPos
	for range len(t.groups) {
		grp := &t.groups[g]
		ctrl := grp.ctrl.Load()
		for m := matchTag(ctrl, tag); m != 0; m = m.dropFirst() {
			i := m.first()
			if e := grp.slots[i].Load(); e != nil && e.Key == key {
				return Pos(g<<3) + Pos(i), e, NoPos, false
			}
		}
		if free == NoPos {
			if m := matchFree(ctrl); m != 0 {
				i := m.first()
				free = Pos(g<<3) + Pos(i)
				freeIsEmpty = byteAt(ctrl, i) == ctrlEmpty
			}
		}
		if matchEmpty(ctrl) != 0 {
			return NoPos, nil, free, freeIsEmpty
		}
		g = (g + 1) & t.mask
	}
	// Unreachable while the load bound holds (see the package comment).
	panic("table: probe found no EMPTY slot: load bound broken")
}

// Insert publishes e in the free slot p returned by Locate for e's key.
func (t *Table[K, V]) Insert(p Pos, h uint64, e *Entry[K, V]) {
	g, i := p.split()
	grp := &t.groups[g]
	// The tag first, then the entry: see "Memory ordering" in the package
	// comment for why the reverse order is wrong.
	grp.ctrl.Store(setByte(grp.ctrl.Load(), i, tagOf(h)))
	grp.slots[i].Store(e)
}

// Replace publishes e in slot p, which holds an entry with the same key.
func (t *Table[K, V]) Replace(p Pos, e *Entry[K, V]) {
	g, i := p.split()
	t.groups[g].slots[i].Store(e)
}

// Delete turns slot p into a tombstone and releases its entry to the
// garbage collector.
func (t *Table[K, V]) Delete(p Pos) {
	g, i := p.split()
	grp := &t.groups[g]
	// The tombstone first (the delete's linearization point), then the
	// pointer, so that the entry can be collected.
	grp.ctrl.Store(setByte(grp.ctrl.Load(), i, ctrlTombstone))
	grp.slots[i].Store(nil)
}

// Copy returns a new table of n groups (a power of two) holding the entries
// of t and no tombstones, and the number of entries copied. hash must
// return the hash each key was inserted with; if it panics, the new table
// is simply dropped and t is untouched (t is only read). n must be large
// enough: GroupsFor(live) or more.
func (t *Table[K, V]) Copy(n int, hash func(K) uint64) (*Table[K, V], int) {
	nt := New[K, V](n)
	live := 0
	for g := range t.groups {
		grp := &t.groups[g]
		for m := matchFull(grp.ctrl.Load()); m != 0; m = m.dropFirst() {
			e := grp.slots[m.first()].Load()
			if e == nil {
				continue
			}
			nt.insertFresh(hash(e.Key), e)
			live++
		}
	}
	return nt, live
}

// insertFresh puts e in the first free slot of its probe sequence in a
// table that no reader can see yet and that does not hold e's key, and
// returns that slot.
func (t *Table[K, V]) insertFresh(h uint64, e *Entry[K, V]) Pos {
	g := h & t.mask
	for {
		grp := &t.groups[g]
		ctrl := grp.ctrl.Load()
		if m := matchEmpty(ctrl); m != 0 {
			i := m.first()
			grp.ctrl.Store(setByte(ctrl, i, tagOf(h)))
			grp.slots[i].Store(e)
			return Pos(g<<3) + Pos(i)
		}
		g = (g + 1) & t.mask
	}
}

// ProbeLen returns the number of groups a probe for the key in slot p
// visits (1 when it is in its home group).
func (t *Table[K, V]) ProbeLen(p Pos, h uint64) int {
	g, _ := p.split()
	return int((uint64(g)-h)&t.mask) + 1
}
