package table

import (
	"fmt"
	"sync/atomic"
)

// CheckInvariants verifies every invariant of an arena table whose writer
// is quiescent, given the live and dead counts its owner keeps, and
// returns the first violation found. It is O(capacity) and meant for
// tests.
//
// The invariants: those of a flat table's groups (see
// Flat.CheckInvariants: shape, ctrl bytes, tags, counts, the spare slot,
// a stopping group, every key found by Find and Locate at its slot, no
// key twice), and those of the arena:
//   - the writer's directory is the published one, every chunk is at
//     most arenaMaxOffset bytes or holds one record at offset 0, and the
//     tail (if any) is a chunk with used <= its length;
//   - every live slot's ref names a complete record, and carries the
//     check bits of its key's hash;
//   - liveBytes is the sum of the live records' bytes, and the garbage
//     bound holds: 0 <= last <= garbage, garbage - last <=
//     max(liveBytes, arenaMinGarbage) (NeedsCompact keeps it).
func (t *Arena[K, V]) CheckInvariants(hash func(K) uint64, live, dead int) error {
	n := t.Groups()
	if n&(n-1) != 0 || len(t.words) != n*t.stride {
		return fmt.Errorf("table: arena: %d groups (mask %#x), %d words of stride %d", n, t.mask, len(t.words), t.stride)
	}
	if t.vw != wordsOf[V]() || t.sw != 1+t.vw || t.stride != flatHeader+SlotsPerGroup*t.sw || (t.sp == 1) != (t.vw >= 2) || t.sp > 1 {
		return fmt.Errorf("table: arena: vw %d, sw %d, stride %d, sp %d", t.vw, t.sw, t.stride, t.sp)
	}
	d := t.loadDir()
	if d == nil || len(d.chunks) != len(t.chunks) || (len(d.chunks) > 0 && &d.chunks[0] != &t.chunks[0]) {
		return fmt.Errorf("table: arena: the published directory is not the writer's")
	}
	for i, ch := range t.chunks {
		if len(ch) > arenaMaxOffset && len(ch) != t.recLen(uint64(i)<<24) {
			return fmt.Errorf("table: arena: chunk %d of %d bytes holds more than one record", i, len(ch))
		}
	}
	if t.tail >= len(t.chunks) || t.tail >= 0 && t.used > len(t.chunks[t.tail]) {
		return fmt.Errorf("table: arena: tail %d, used %d, of %d chunks", t.tail, t.used, len(t.chunks))
	}
	bytes := 0
	seen := make(map[K]Pos)
	if err := checkGroups("arena", t.words, t.stride, t.sp, live, dead, func(p Pos, grp []uint64, tag uint8) error {
		ref := atomic.LoadUint64(&grp[flatHeader+int(p&7)*t.sw])
		if _, ok := record(t.chunks, ref); !ok {
			return fmt.Errorf("table: arena slot %d: ref %#x names no record", p, ref)
		}
		bytes += t.recLen(ref)
		return t.checkSlot(hash, p, tag, ref, seen)
	}); err != nil {
		return err
	}
	if bytes != t.liveBytes {
		return fmt.Errorf("table: arena: live records hold %d bytes; liveBytes says %d", bytes, t.liveBytes)
	}
	if t.last < 0 || t.last > t.garbage || t.garbage-t.last > max(t.liveBytes, arenaMinGarbage) {
		return fmt.Errorf("table: arena: %d bytes of garbage (%d the last record) for %d live bytes: over the bound", t.garbage, t.last, t.liveBytes)
	}
	return nil
}

// checkSlot checks the key in slot p, whose tag is tag and ref ref: its
// hash's tag and check bits, that Find and Locate find it there, and that
// no other slot holds it.
func (t *Arena[K, V]) checkSlot(hash func(K) uint64, p Pos, tag uint8, ref uint64, seen map[K]Pos) error {
	k, v := t.At(p)
	h := hash(k)
	if tagOf(h) != tag || ref&refCheck != checkOf(h) {
		return fmt.Errorf("table: arena slot %d: tag %#x, ref %#x; key %q hashes to tag %#x, check %#x", p, tag, ref, keyString(&k), tagOf(h), checkOf(h))
	}
	if q, dup := seen[k]; dup {
		return fmt.Errorf("table: arena: key %q in slots %d and %d", keyString(&k), q, p)
	}
	seen[k] = p
	if q, found, _, _ := t.Locate(h, k); !found || q != p {
		return fmt.Errorf("table: arena: key %q in slot %d is located at %d (found %v) from its home group %d", keyString(&k), p, q, found, h&t.mask)
	}
	fv, ok := t.Find(h, k)
	if !ok || fmt.Sprint(fv) != fmt.Sprint(v) {
		return fmt.Errorf("table: arena: key %q in slot %d: Find = %v, %v; slot holds %v", keyString(&k), p, fv, ok, v)
	}
	return nil
}
