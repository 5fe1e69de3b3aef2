package table

import "sync/atomic"

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

// Table is one open-addressing hash table. Its shape is fixed at creation;
// only its ctrl words and slots change, by the writer of its segment, until
// it is replaced or frozen.
type Table[K comparable, V any] struct {
	// groups has a power-of-two length >= 1.
	groups []group[K, V]
	// mask == len(groups)-1, or flat.mask in a flat table.
	mask uint64
	// flat is the table itself if the map's layout is flat (flat.words
	// != nil; groups is then nil): every method of Table that both
	// layouts share delegates to it (layout.go).
	flat Flat[K, V]
	// The header is read by every probe: padding it to 128 bytes keeps it
	// in cache lines (and an allocation size class) of its own, away from
	// small objects that other goroutines write.
	_ [128 - 32 - 72]byte
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
func (t *Table[K, V]) Groups() int { return int(t.mask) + 1 }

// Capacity returns the number of slots.
func (t *Table[K, V]) Capacity() int { return (int(t.mask) + 1) * SlotsPerGroup }

// Find returns the entry of key, or nil. It takes no lock and may run
// concurrently with the table's writer; see the package comment for why its
// answer is linearizable. It probes the home group itself, so that the
// common lookup, which ends there, makes no further call; longer probes
// continue in probe.
func (t *Table[K, V]) Find(h uint64, key K) *Entry[K, V] {
	grp := &t.groups[h&uint64(len(t.groups)-1)]
	ctrl := grp.ctrl.Load()
	for m := matchTag(ctrl, tagOf(h)); m != 0; m &= m - 1 {
		if e := grp.slots[slotOf(m)].Load(); e != nil && e.Key == key {
			return e
		}
	}
	if matchEmpty(ctrl) != 0 {
		return nil
	}
	_, e := t.probe(h, key, 1)
	return e
}

// Lookup is Find that also returns the slot of the entry (NoPos if none),
// so that a writer that looked before taking its lock can skip its own
// probe if the table is still current and the slot still holds the entry
// (see At).
func (t *Table[K, V]) Lookup(h uint64, key K) (Pos, *Entry[K, V]) { return t.probe(h, key, 0) }

// probe is the lock-free probe for key, from the group skip places after
// its home group (Find has probed the home group when it passes 1).
func (t *Table[K, V]) probe(h uint64, key K, skip int) (Pos, *Entry[K, V]) {
	tw := tagWord[uint64](tagOf(h))
	g := (h + uint64(skip)) & t.mask
	for range len(t.groups) - skip {
		grp := &t.groups[g]
		ctrl := grp.ctrl.Load()
		for m := matchWord(ctrl, tw); m != 0; m &= m - 1 {
			i := slotOf(m)
			if e := grp.slots[i].Load(); e != nil && e.Key == key {
				return Pos(g<<3) + Pos(i), e
			}
		}
		if matchEmpty(ctrl) != 0 {
			return NoPos, nil
		}
		g = (g + 1) & t.mask
	}
	return NoPos, nil
}

// Range calls yield for each entry in the table, in slot order, until yield
// returns false; it reports whether it ran to the end. It takes no lock: on
// a table that a writer still changes it may see or miss entries written
// meanwhile, and may see a key twice if it is deleted and re-inserted, so
// callers iterate frozen tables only.
func (t *Table[K, V]) Range(yield func(e *Entry[K, V]) bool) bool {
	for g := range t.groups {
		grp := &t.groups[g]
		for m := matchFull(grp.ctrl.Load()); m != 0; m &= m - 1 {
			if e := grp.slots[slotOf(m)].Load(); e != nil && !yield(e) {
				return false
			}
		}
	}
	return true
}
