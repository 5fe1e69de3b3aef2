package table

import (
	"fmt"
	"sync/atomic"
)

// CheckInvariants verifies every invariant of a flat table whose writer is
// quiescent, given the live and dead counts its owner keeps, and returns
// the first violation found. It is O(capacity) and meant for tests.
//
// The invariants (see docs/design.md, "Flat layout"):
//   - the group count is a power of two, mask == groups-1, len(words) ==
//     groups × stride, stride == flatHeader + SlotsPerGroup × (kw+vw),
//     and sp == 1 exactly when vw >= 2;
//   - every stored control byte is EMPTY (0x00), TOMBSTONE (0x7E) or a
//     tag (0x80|t); byte 7 is 0;
//   - the tag of a slot is the tag of its key's hash;
//   - live and dead equal the numbers of tag and TOMBSTONE bytes, and
//     live + dead <= MaxUsed(groups);
//   - in a spare table every group has a free slot;
//   - some group stops probes (has more than sp EMPTY bytes);
//   - every key is found, with its value, by Find and by Locate, at its
//     slot (no stopping group lies between its home group and its slot);
//   - a key occurs at most once.
func (t *Flat[K, V]) CheckInvariants(hash func(K) uint64, live, dead int) error {
	n := t.Groups()
	if n&(n-1) != 0 || len(t.words) != n*t.stride {
		return fmt.Errorf("table: flat: %d groups (mask %#x), %d words of stride %d", n, t.mask, len(t.words), t.stride)
	}
	if t.sw != t.kw+t.vw || t.stride != flatHeader+SlotsPerGroup*t.sw || (t.sp == 1) != (t.vw >= 2) || t.sp > 1 {
		return fmt.Errorf("table: flat: kw %d, vw %d, sw %d, stride %d, sp %d", t.kw, t.vw, t.sw, t.stride, t.sp)
	}
	seen := make(map[K]Pos)
	return checkGroups("flat", t.words, t.stride, t.sp, live, dead, func(p Pos, _ []uint64, tag uint8) error {
		return t.checkSlot(hash, p, tag, seen)
	})
}

// checkGroups verifies the ctrl words and the counts of the groups of a
// flat or arena table (words holds groups of stride words; sp as in Flat),
// calling slot for every live slot p with its group and tag, and returns
// the first violation found; layout names the layout in its messages.
// The invariants: every stored control byte is EMPTY (0x00), TOMBSTONE
// (0x7E) or a tag (0x80|t), and byte 7 is 0; live and dead equal the
// numbers of tag and TOMBSTONE bytes, and live + dead <= MaxUsed(groups);
// in a spare table every group has a free slot; some group stops probes.
func checkGroups(layout string, words []uint64, stride int, sp uint64, live, dead int, slot func(p Pos, grp []uint64, tag uint8) error) error {
	n := len(words) / stride
	var nLive, nDead, stopping int
	for g := range uint64(n) {
		grp := words[int(g)*stride : int(g+1)*stride]
		c := atomic.LoadUint64(&grp[0])
		if b := byteAt(c, 7); b != 0 {
			return fmt.Errorf("table: %s group %d: byte 7 is %#x", layout, g, b)
		}
		free, empty := 0, 0
		for i := range SlotsPerGroup {
			p := Pos(g<<3) + Pos(i)
			switch b := byteAt(c, i); {
			case b == flatEmpty:
				empty++
				free++
			case b == flatTombstone:
				nDead++
				free++
			case b&0x80 == 0:
				return fmt.Errorf("table: %s slot %d: invalid ctrl byte %#x", layout, p, b)
			default:
				nLive++
				if err := slot(p, grp, b&0x7F); err != nil {
					return err
				}
			}
		}
		if sp == 1 && free == 0 {
			return fmt.Errorf("table: %s group %d of a spare table has no free slot", layout, g)
		}
		if uint64(empty) > sp {
			stopping++
		}
	}
	if nLive != live || nDead != dead {
		return fmt.Errorf("table: %s: counted %d live, %d dead; owner says %d live, %d dead", layout, nLive, nDead, live, dead)
	}
	if nLive+nDead > MaxUsed(n) {
		return fmt.Errorf("table: %s: %d live + %d dead > bound %d for %d groups", layout, nLive, nDead, MaxUsed(n), n)
	}
	if stopping == 0 {
		return fmt.Errorf("table: %s: no group stops probes", layout)
	}
	return nil
}

// checkSlot checks the key in slot p, whose tag is tag: its hash, that
// Find and Locate find it there, and that no other slot holds it.
func (t *Flat[K, V]) checkSlot(hash func(K) uint64, p Pos, tag uint8, seen map[K]Pos) error {
	k, v := t.At(p)
	if k != k {
		return nil // a NaN key: hashed randomly, never found, by design
	}
	h := hash(k)
	if tagOf(h) != tag {
		return fmt.Errorf("table: flat slot %d: tag %#x, key %v hashes to tag %#x", p, tag, k, tagOf(h))
	}
	if q, dup := seen[k]; dup {
		return fmt.Errorf("table: flat: key %v in slots %d and %d", k, q, p)
	}
	seen[k] = p
	if q, found, _, _ := t.Locate(h, k); !found || q != p {
		return fmt.Errorf("table: flat: key %v in slot %d is located at %d (found %v) from its home group %d", k, p, q, found, h&t.mask)
	}
	fv, ok := t.Find(h, k)
	// Compared as printed: V may hold NaNs, and padding bytes.
	if !ok || fmt.Sprint(fv) != fmt.Sprint(v) {
		return fmt.Errorf("table: flat: key %v in slot %d: Find = %v, %v; slot holds %v", k, p, fv, ok, v)
	}
	return nil
}
