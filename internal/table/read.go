package table

// Read returns the value of key, hashed h, and whether key is present, in
// a table of either layout, for lock-free readers that can afford one
// call (cmap's LoadOrStore and zero-Map Load, Snapshot.Load): the
// home-group steps of flat_read.go and entry_read.go, inlined here, then
// the layout's probe of the next groups (FindAfter) if the home group is
// full and lacks key, or its whole probe (Find) if the group changed.
// cmap's Load spells the same steps out itself, to make no call at all.
func (t *Table[K, V]) Read(h uint64, key K) (value V, ok bool) {
	if t.flat.words != nil {
		g := t.FlatHome(h)
		if FlatOneWord[K, V]() { // a constant
			value, ok = g.Find1(key)
		} else {
			for m := g.Matches(); m != 0; m &= m - 1 {
				if i := g.Slot(m); g.Key(i) == key {
					value, ok = g.Value(i), true
					break
				}
			}
		}
		if g.Settled(h, ok) {
			return value, ok
		}
		if !ok && !g.Moved() {
			return t.flat.FindAfter(h, key)
		}
		return t.flat.Find(h, key)
	}
	if t.arena != nil {
		return t.arena.Find(h, key)
	}
	g := t.EntryHome(h)
	e := g.Find(h, key)
	if e == nil && !g.Stops() {
		e = t.Find(h, key)
	}
	if e == nil {
		return value, false
	}
	return e.Value, true
}
