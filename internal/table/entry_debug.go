package table

import "fmt"

// checkEntries is CheckInvariants for an entry table. The invariants (see
// docs/design.md, "Probing and its termination"):
//   - len(groups) is a power of two and mask == len(groups)-1;
//   - the sentinel byte of every ctrl word is TOMBSTONE;
//   - a slot is non-nil iff its control byte is a tag, and the tag is the
//     tag of its key's hash;
//   - live and dead equal the numbers of tag and TOMBSTONE bytes;
//   - live + dead <= MaxUsed(len(groups)), so at least one byte is EMPTY;
//   - every key is found by Find from its home group (no EMPTY byte lies
//     between its home group and its slot);
//   - a key occurs at most once.
func (t *Table[K, V]) checkEntries(hash func(K) uint64, live, dead int) error {
	n := len(t.groups)
	if n == 0 || n&(n-1) != 0 || t.mask != uint64(n-1) {
		return fmt.Errorf("table: %d groups with mask %#x", n, t.mask)
	}
	var nLive, nDead, nEmpty int
	seen := make(map[K]Pos)
	for g := range t.groups {
		grp := &t.groups[g]
		ctrl := grp.ctrl.Load()
		if byteAt(ctrl, 7) != ctrlTombstone {
			return fmt.Errorf("table: group %d: sentinel byte is %#x", g, byteAt(ctrl, 7))
		}
		for i := range SlotsPerGroup {
			p := Pos(g<<3 + i)
			b := byteAt(ctrl, i)
			e := grp.slots[i].Load()
			switch {
			case b == ctrlEmpty || b == ctrlTombstone:
				if e != nil {
					return fmt.Errorf("table: slot %d: ctrl %#x but entry %v", p, b, e.Key)
				}
				if b == ctrlEmpty {
					nEmpty++
				} else {
					nDead++
				}
			case b&0x80 != 0:
				return fmt.Errorf("table: slot %d: invalid ctrl byte %#x", p, b)
			default:
				if e == nil {
					return fmt.Errorf("table: slot %d: tag %#x but no entry", p, b)
				}
				nLive++
				if e.Key != e.Key {
					continue // a NaN key: hashed randomly, never found, by design
				}
				h := hash(e.Key)
				if tagOf(h) != b {
					return fmt.Errorf("table: slot %d: tag %#x, key %v hashes to tag %#x", p, b, e.Key, tagOf(h))
				}
				if q, dup := seen[e.Key]; dup {
					return fmt.Errorf("table: key %v in slots %d and %d", e.Key, q, p)
				}
				seen[e.Key] = p
				if f := t.Find(h, e.Key); f != e {
					return fmt.Errorf("table: key %v in slot %d is not found from its home group %d", e.Key, p, h&t.mask)
				}
			}
		}
	}
	if nLive != live || nDead != dead {
		return fmt.Errorf("table: counted %d live, %d dead; owner says %d live, %d dead", nLive, nDead, live, dead)
	}
	if nLive+nDead > MaxUsed(n) {
		return fmt.Errorf("table: %d live + %d dead > bound %d for %d groups", nLive, nDead, MaxUsed(n), n)
	}
	if nEmpty == 0 {
		return fmt.Errorf("table: no EMPTY slot")
	}
	return nil
}

// Check verifies a log against t, the segment's current table holding
// live entries (the writer quiescent), and returns the first violation
// found: seqs increase along recs[head:], every record before head is
// stale, each entry of t has exactly one valid record, and no record past
// the length and the shared part holds an entry. It is
// O(len(recs) + capacity), for tests.
func (l *Log[K, V]) Check(t *Table[K, V], live int) error {
	if l.head < 0 || l.head > len(l.recs) {
		return fmt.Errorf("log: head %d out of [0, %d]", l.head, len(l.recs))
	}
	if l.single && len(l.recs) > 1 {
		return fmt.Errorf("log: %d records for a zero-size entry type", len(l.recs))
	}
	if end := max(len(l.recs), l.shared); end <= cap(l.recs) {
		for i, r := range l.recs[end:cap(l.recs)] {
			if r.Entry != nil {
				return fmt.Errorf("log: record %d, past the length %d and the shared part %d, still holds key %v",
					end+i, len(l.recs), l.shared, r.Entry.Key)
			}
		}
	} else {
		return fmt.Errorf("log: shared part %d beyond the capacity %d", l.shared, cap(l.recs))
	}
	valid := make(map[*Entry[K, V]]bool)
	for i := range l.recs {
		r := &l.recs[i]
		if r.Pos < 0 || int(r.Pos>>3) >= len(t.groups) || r.Pos&7 >= SlotsPerGroup {
			return fmt.Errorf("log: record %d: slot %d out of range", i, r.Pos)
		}
		if i > l.head && r.Seq <= l.recs[i-1].Seq {
			return fmt.Errorf("log: record %d has seq %d after %d", i, r.Seq, l.recs[i-1].Seq)
		}
		if r.Entry == nil || t.At(r.Pos) != r.Entry {
			continue
		}
		if i < l.head {
			return fmt.Errorf("log: valid record %d (key %v) before head %d", i, r.Entry.Key, l.head)
		}
		if valid[r.Entry] {
			return fmt.Errorf("log: key %v has two valid records", r.Entry.Key)
		}
		valid[r.Entry] = true
	}
	var err error
	n := 0
	t.Range(func(e *Entry[K, V]) bool {
		n++
		if !valid[e] {
			err = fmt.Errorf("log: key %v in the table has no valid record", e.Key)
		}
		return err == nil
	})
	if err == nil && (n != live || len(valid) != live) {
		err = fmt.Errorf("log: %d valid records, %d entries in the table, %d live", len(valid), n, live)
	}
	return err
}
