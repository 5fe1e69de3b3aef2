package table

import "sync/atomic"

// The entry layout: a slot is an atomic pointer to an immutable Entry
// (docs/design.md, "The map"). Every Table method in entry*.go is for
// entry tables only and checks the layout (entries, in layout.go).

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

// New returns an empty entry table of n groups; n must be a power of two
// >= 1.
func New[K comparable, V any](n int) *Table[K, V] {
	if n < 1 || n&(n-1) != 0 {
		panic("table: group count is not a power of two")
	}
	t := &Table[K, V]{header: header{mask: uint64(n - 1)}, groups: make([]group[K, V], n), layout: entryLayout}
	for i := range t.groups {
		t.groups[i].ctrl.Store(emptyCtrl)
	}
	return t
}

// Find returns the entry of key, or nil. It takes no lock and may run
// concurrently with the table's writer; see docs/design.md, "Memory
// ordering", for why its answer is linearizable. It probes the home group
// itself, so that the common lookup, which ends there, makes no further
// call; longer probes continue in probe.
func (t *Table[K, V]) Find(h uint64, key K) *Entry[K, V] {
	groups := t.entries()
	grp := &groups[h&uint64(len(groups)-1)]
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
	groups := t.entries()
	tw := tagWord[uint64](tagOf(h))
	g := (h + uint64(skip)) & t.mask
	for range len(groups) - skip {
		grp := &groups[g]
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
	groups := t.entries()
	for g := range groups {
		grp := &groups[g]
		for m := matchFull(grp.ctrl.Load()); m != 0; m &= m - 1 {
			if e := grp.slots[slotOf(m)].Load(); e != nil && !yield(e) {
				return false
			}
		}
	}
	return true
}

// At returns the entry published in slot p, or nil. Only a writer, or a
// reader of a frozen table, can rely on the answer staying true.
func (t *Table[K, V]) At(p Pos) *Entry[K, V] {
	g, i := split(p)
	return t.entries()[g].slots[i].Load()
}
