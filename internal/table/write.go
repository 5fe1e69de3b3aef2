package table

// The writer's side of a table. Every function here must be called by the
// single writer of the table (in cmap: with the segment lock held), on a
// table that is not frozen, except Copy, which only reads its source.

// The load bound: occupied slots, live entries and tombstones together,
// are at most maxLoadNum/maxLoadDen = 0.70 of the capacity (linear probing
// degrades quickly above it).
const (
	maxLoadNum = 7
	maxLoadDen = 10
)

// MaxUsed returns the most slots (live + dead) that a table of n groups may
// have in use: floor(0.7 × capacity). It is below the capacity, so every
// table keeps an EMPTY slot and every probe terminates.
func MaxUsed(groups int) int { return groups * SlotsPerGroup * maxLoadNum / maxLoadDen }

// MaxUsed returns MaxUsed(t.Groups()).
func (t *Table[K, V]) MaxUsed() int {
	return (int(t.mask) + 1) * SlotsPerGroup * maxLoadNum / maxLoadDen
}

// Pos names a slot: group index × 8 + slot index. NoPos is none.
type Pos int

// NoPos is the Pos of no slot.
const NoPos Pos = -1

// split returns the group and slot indexes of p. (Generic to inline: see
// word in ctrl.go.)
func split[P ~int](p P) (int, int) { return int(p) >> 3, int(p) & 7 }

// Locate finds key for a writer. It returns the slot holding key and its
// entry, or, if key is absent, NoPos, nil and the slot where it should be
// inserted: the first TOMBSTONE or EMPTY slot on its probe sequence, and
// whether that slot is EMPTY (an insert there uses one more slot of the
// load bound; a reused tombstone does not).
func (t *Table[K, V]) Locate(h uint64, key K) (pos Pos, e *Entry[K, V], free Pos, freeIsEmpty bool) {
	tw := tagWord[uint64](tagOf(h))
	g := h & t.mask
	free = NoPos
	for range len(t.groups) {
		grp := &t.groups[g]
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
	// Unreachable while the load bound holds (see the package comment).
	panic("table: probe found no EMPTY slot: load bound broken")
}

// Insert publishes e in the free slot p returned by Locate for e's key.
func (t *Table[K, V]) Insert(p Pos, h uint64, e *Entry[K, V]) {
	g, i := split(p)
	grp := &t.groups[g]
	// The tag first, then the entry: see "Memory ordering" in the package
	// comment for why the reverse order is wrong.
	grp.ctrl.Store(setByte(grp.ctrl.Load(), i, tagOf(h)))
	grp.slots[i].Store(e)
}

// Replace publishes e in slot p, which holds an entry with the same key.
func (t *Table[K, V]) Replace(p Pos, e *Entry[K, V]) {
	g, i := split(p)
	t.groups[g].slots[i].Store(e)
}

// Delete removes the entry in slot p and releases it to the garbage
// collector. It reports whether the slot became a TOMBSTONE (counted as
// dead by the caller): it does when its group has no EMPTY byte; if the
// group has one, the slot becomes EMPTY instead, the Swiss-table rule.
//
// Why EMPTY is safe there: every probe that reaches this group stops at it
// anyway (it has an EMPTY byte), so no key beyond it can be cut off. The
// invariant the lock-free readers rely on becomes "a group with no EMPTY
// byte never gets one until the table is rebuilt", which is what the
// linearizability argument needs (docs/design.md): a key lies beyond
// group g on its probe sequence only if g had no EMPTY byte when the key
// was inserted. Without this rule, tombstones pile up under churn, every
// miss probes further, and the table is rebuilt more often.
func (t *Table[K, V]) Delete(p Pos) (tombstone bool) {
	if t.flat.words != nil {
		return t.flat.Delete(p)
	}
	g, i := split(p)
	grp := &t.groups[g]
	ctrl := grp.ctrl.Load()
	b := uint8(ctrlEmpty)
	if matchEmpty(ctrl) == 0 { // no EMPTY byte in the group
		b, tombstone = ctrlTombstone, true
	}
	// The ctrl byte first (the delete's linearization point), then the
	// pointer, so that the entry can be collected.
	grp.ctrl.Store(setByte(ctrl, i, b))
	grp.slots[i].Store(nil)
	return tombstone
}

// Copy returns a new table of n groups (a power of two) holding the entries
// of t and no tombstones, and the number of entries copied. hash must
// return the hash each key was inserted with; if it panics, the new table
// is simply dropped and t is untouched (t is only read). n must be large
// enough: GroupsFor(live) or more.
//
// Copy works in batches: it first gathers up to copyBatch entries and
// their hashes with plain loads, then inserts them. Reading a key is a
// cache miss for a large table (entries are scattered), and every insert
// does atomic stores, which on amd64 are full fences: interleaved, each
// miss would wait for the previous one; gathered, the processor overlaps
// them. (Measured: the worst Store while growing to 1e6 keys.)
func (t *Table[K, V]) Copy(n int, hash func(K) uint64) (*Table[K, V], int) {
	if t.flat.words != nil {
		nf, live := t.flat.Copy(n, hash)
		return wrapFlat(nf), live
	}
	nt := New[K, V](n)
	live := 0
	var batch [copyBatch]struct {
		e *Entry[K, V]
		h uint64
	}
	k := 0
	flush := func() {
		for _, b := range batch[:k] {
			nt.insertFresh(b.h, b.e)
		}
		live += k
		k = 0
	}
	for g := range t.groups {
		grp := &t.groups[g]
		for m := matchFull(grp.ctrl.Load()); m != 0; m &= m - 1 {
			e := grp.slots[slotOf(m)].Load()
			if e == nil {
				continue
			}
			batch[k].e, batch[k].h = e, hash(e.Key)
			if k++; k == copyBatch {
				flush()
			}
		}
	}
	flush()
	return nt, live
}

// copyBatch is the number of entries Copy gathers before inserting them.
const copyBatch = 64

// Clone returns a copy of t with the same layout (tombstones included),
// made by copying its groups verbatim: no key is read or rehashed, so it
// costs a memory copy, not a cache miss per entry. It is how a writer
// copies a table shared with a snapshot or an iterator before changing it.
//
// The plain copy is race-free: the caller holds the segment lock, so no
// writer changes t meanwhile (readers only read), and nt is published
// later by an atomic store of its pointer, which orders these writes
// before any reader's load.
func (t *Table[K, V]) Clone() *Table[K, V] {
	if t.flat.words != nil {
		return wrapFlat(t.flat.Clone())
	}
	nt := &Table[K, V]{groups: make([]group[K, V], len(t.groups)), mask: t.mask}
	copy(nt.groups, t.groups)
	return nt
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
			i := slotOf(m)
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
	g := int(p) >> 3
	return int((uint64(g)-h)&t.mask) + 1
}
