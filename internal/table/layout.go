package table

// The layout seam. A Table is an entry table (groups of pointers to
// entries) or a flat table (t.flat: keys and values inline), chosen once
// per map (FlatFits). Methods that both layouts share (Groups, Capacity,
// MaxUsed, ProbeLen, Delete, Copy, Clone, CheckInvariants) serve either;
// those that deal in entries (Find, Lookup, At, Locate, Insert, Replace,
// Range, CopyLog) are for entry tables only, and flat ones are reached
// through Flat. The functions here serve either layout, for callers off
// the hot paths; the hot paths (cmap's Load and write engine) branch on
// IsFlat once and call the layout's own method.

// NewLayout returns an empty table of n groups (a power of two >= 1),
// flat if flat is set (FlatFits[K, V]() must then hold).
func NewLayout[K comparable, V any](n int, flat bool) *Table[K, V] {
	if flat {
		return wrapFlat(NewFlat[K, V](n))
	}
	return New[K, V](n)
}

// wrapFlat returns the Table of flat table f.
func wrapFlat[K comparable, V any](f *Flat[K, V]) *Table[K, V] {
	return &Table[K, V]{mask: f.mask, flat: *f}
}

// IsFlat reports whether t is a flat table.
func (t *Table[K, V]) IsFlat() bool { return t.flat.words != nil }

// Flat returns t's flat table; t must be flat.
func (t *Table[K, V]) Flat() *Flat[K, V] { return &t.flat }

// Get returns the value of key, for readers of either layout (see Find
// and Flat.Find).
func (t *Table[K, V]) Get(h uint64, key K) (V, bool) {
	if t.flat.words != nil {
		return t.flat.Find(h, key)
	}
	if e := t.Find(h, key); e != nil {
		return e.Value, true
	}
	var zero V
	return zero, false
}

// ValueAt returns the value in slot p, which holds a key. Only the writer,
// or a reader of a frozen table, can rely on the answer.
func (t *Table[K, V]) ValueAt(p Pos) V {
	if t.flat.words != nil {
		_, v := t.flat.At(p)
		return v
	}
	return t.At(p).Value
}

// RangeKV is Range for either layout: it calls yield with each key and
// value, in slot order, until yield returns false, and reports whether it
// ran to the end. Callers iterate frozen (or pinned) tables only.
func (t *Table[K, V]) RangeKV(yield func(K, V) bool) bool {
	if t.flat.words != nil {
		return t.flat.Range(yield)
	}
	return t.Range(func(e *Entry[K, V]) bool { return yield(e.Key, e.Value) })
}

// PosOfKey returns the slot of key, hashed h, or NoPos, for callers off
// the hot paths (Stats) of either layout.
func (t *Table[K, V]) PosOfKey(h uint64, key K) Pos {
	if t.flat.words != nil {
		pos, _, _, _ := t.flat.Locate(h, key)
		return pos
	}
	pos, _, _, _ := t.Locate(h, key)
	return pos
}
