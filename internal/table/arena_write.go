package table

import (
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/segmap/segmap/internal/release"
)

// The writer's side of an arena table, with the rules of flat_write.go:
// every method here must be called by the single writer of the table (in
// cmap: with the segment lock held), on a table that is not frozen,
// except Copy and Clone, which only read their source's slots. A record's
// bytes are written before the ref that names it is stored (see "Memory
// ordering of the arena bytes" in arena.go).

// arenaPublishHook, if set (by tests only, while no writer runs), is
// called by Insert and by a spare-slot Replace between the stores of the
// slot's words and the ctrl store that publishes them.
var arenaPublishHook func()

// Locate finds key for a writer, as Flat.Locate does: the slot holding
// key and true, or NoPos, false, the slot an insert should use and
// whether it is EMPTY.
func (t *Arena[K, V]) Locate(h uint64, key K) (pos Pos, found bool, free Pos, freeIsEmpty bool) {
	s := keyString(&key)
	tw := tagWord[uint64](tagOf(h))
	chk := checkOf(h)
	g := h & t.mask
	free = NoPos
	for range t.mask + 1 { // t.Groups(), a call from cmap's instantiation
		grp := t.group(g)
		ctrl := loadCtrl(grp)
		for m := matchWord(ctrl, tw); m != 0; m &= m - 1 {
			i := slotOf(m)
			if ref := atomic.LoadUint64(&grp[flatHeader+i*t.sw]); ref&refCheck == chk && t.keyEq(ref, s) {
				return Pos(g<<3) + Pos(i), true, NoPos, false
			}
		}
		if f := matchFree(ctrl); free == NoPos && stops(f, t.sp) {
			i := slotOf(f)
			free, freeIsEmpty = Pos(g<<3)+Pos(i), byteAt(ctrl, i) == ctrlEmpty
		}
		if stops(matchEmpty(ctrl), t.sp) {
			return NoPos, false, free, freeIsEmpty
		}
		g = (g + 1) & t.mask
	}
	panic("table: arena probe found no stopping group: load bound broken")
}

// appendRecord writes s as a record at the end of the arena and returns
// its ref (without check bits). It allocates only when the tail chunk is
// full: a new chunk, twice the arena's bytes so far between
// arenaFirstChunk and arenaChunkBytes, or a chunk of its own for a record
// larger than arenaChunkBytes. The directory holding a new chunk is
// stored before the caller stores the ref.
func (t *Arena[K, V]) appendRecord(s string) uint64 {
	n := len(s)
	need := recordLen(n)
	var ch []byte
	var idx, off int
	switch {
	case t.tail >= 0 && t.used+need <= len(t.chunks[t.tail]):
		idx, off = t.tail, t.used
		ch = t.chunks[idx]
		t.used += need
	case need > arenaChunkBytes:
		ch = make([]byte, need)
		idx = t.addChunk(ch)
	default:
		ch = make([]byte, min(max(arenaFirstChunk, 2*(t.liveBytes+t.garbage), need), arenaChunkBytes))
		idx = t.addChunk(ch)
		t.tail, t.used = idx, need
	}
	w := 1
	if n < 0x80 {
		ch[off] = byte(n)
	} else {
		w = putUvarint(ch[off:], n)
	}
	copy(ch[off+w:], s)
	t.liveBytes += need
	return uint64(idx)<<24 | uint64(off)
}

// addChunk appends ch to the directory and publishes it, and returns its
// index. It panics before changing anything if the directory is full.
func (t *Arena[K, V]) addChunk(ch []byte) int {
	if len(t.chunks) >= arenaMaxChunks {
		panic("table: arena table holds 2^24 chunks: too many key bytes in one segment")
	}
	t.chunks = append(t.chunks, ch)
	t.storeDir(&arenaDir{chunks: t.chunks})
	return len(t.chunks) - 1
}

// putUvarint writes n as a uvarint into b and returns its length.
func putUvarint(b []byte, n int) int {
	i := 0
	for n >= 0x80 {
		b[i] = byte(n) | 0x80
		n >>= 7
		i++
	}
	b[i] = byte(n)
	return i + 1
}

// recLen returns the bytes of the record that ref names (length prefix
// included), for the writer's counts.
func (t *Arena[K, V]) recLen(ref uint64) int {
	b, ok := record(t.chunks, ref)
	if !ok {
		panic("table: internal error: arena ref names no record")
	}
	return recordLen(len(b))
}

// storeSlot writes ref and value into the slot at word s of grp, with
// atomic stores, the value first.
func (t *Arena[K, V]) storeSlot(grp []uint64, s int, ref uint64, vb *[flatMaxWords]uint64) {
	for w := range t.vw {
		release.Store(&grp[s+1+w], vb[w])
	}
	release.Store(&grp[s], ref)
}

// Insert publishes key and value in the free slot p that Locate returned
// for key: the record first, then the slot's words, then the tag with one
// ctrl store (the linearization point), as Flat.Insert.
func (t *Arena[K, V]) Insert(p Pos, h uint64, key K, value V) {
	grp := t.group(uint64(p) >> 3)
	s := flatHeader + int(p&7)*t.sw
	ref := t.appendRecord(keyString(&key)) | checkOf(h)
	if wordsOf[V]() <= 1 { // a constant: storeSlot's stores, with no buffer
		if wordsOf[V]() == 1 {
			release.Store(&grp[s+1], wordOf(value))
		}
		release.Store(&grp[s], ref)
	} else {
		var vb [flatMaxWords]uint64
		putWords(&vb, value)
		t.storeSlot(grp, s, ref, &vb)
	}
	if arenaPublishHook != nil {
		arenaPublishHook()
	}
	storeCtrl(grp, setByte(loadCtrl(grp), int(p&7), tagOf(h)))
}

// Replace sets the value in slot p, which holds a key equal to key, and
// returns the key's slot afterwards. The record stays: equal strings have
// equal bytes, so nothing is written to the arena and nothing allocated.
// A value of at most one word is stored in place (one atomic store, the
// linearization point); a larger one goes with the ref into a free slot
// of the same group, published by one ctrl store and followed by a
// version bump, exactly as in Flat.Replace.
func (t *Arena[K, V]) Replace(p Pos, key K, value V) Pos {
	grp := t.group(uint64(p) >> 3)
	s := flatHeader + int(p&7)*t.sw
	if wordsOf[V]() <= 1 { // a constant
		if wordsOf[V]() == 1 {
			release.Store(&grp[s+1], wordOf(value))
		}
		return p
	}
	var vb [flatMaxWords]uint64
	putWords(&vb, value)
	c := loadCtrl(grp)
	f := matchFree(c)
	if f == 0 {
		panic("table: spare table group has no free slot")
	}
	i, j := int(p&7), slotOf(f)
	t.storeSlot(grp, flatHeader+j*t.sw, atomic.LoadUint64(&grp[s]), &vb)
	if arenaPublishHook != nil {
		arenaPublishHook()
	}
	storeCtrl(grp, setByte(setByte(c, j, byteAt(c, i)), i, byteAt(c, j)))
	t.bump(grp)
	return p&^7 + Pos(j)
}

// Room returns, for the writer of an arena table whose key its home
// group g does not hold (no slot whose tag matches holds an equal record),
// the slot where an insert of the key goes and whether it is EMPTY, if the
// group stops probes: then the key is absent from the table, and the slot
// is the one Locate would return (the group's first free one). ok is false
// if the group does not stop probes; the writer must then call Locate. h
// is the key's hash, with which ArenaHome started g. cmap's light arena
// writes probe a short key's home group with Load's steps (ArenaHome,
// Matches, Ref, Check, Chunk, Short), with no version check: nothing but
// the writer, which holds the segment lock, changes the table.
func (g ArenaGroup[K, V]) Room(h uint64) (i uintptr, empty, ok bool) {
	ctrl := g.x ^ lsb*(h>>32&0x7F) // the logical ctrl word (ArenaHome's x, untagged)
	e := matchEmpty(ctrl)
	var v V
	if unsafe.Sizeof(v) > 8 { // a constant: with a spare slot, stops(e, 1) (see Flat)
		e &= e - 1
	}
	if e == 0 {
		return 0, false, false
	}
	// The free slots include the EMPTY ones, so they stop probes too, and
	// Locate takes the first of them. (It is EMPTY: a delete leaves a
	// TOMBSTONE only in a group that does not stop probes, and once it
	// does not, no write but a rebuild adds an EMPTY byte to it, so a
	// group that stops probes holds no TOMBSTONE; the flag is computed as
	// Locate computes it all the same.)
	j := slotOf(matchFree(ctrl))
	return uintptr(j), byteAt(ctrl, j) == ctrlEmpty, true
}

// ValueWord returns the address of slot i's value word (i <= 6) in the
// group g, which holds a key, and value's word: the one store (with
// release.Store, the caller's: see the stores of flat_hold.go) of
// Replace's in-place update, the linearization point, for a writer that
// located the key with ArenaHome's steps, as cmap's light arena writes do
// for keys of 4 to 16 bytes. The caller must be the table's writer (the
// segment lock held) and test 0 < unsafe.Sizeof(value) <= 8, constants:
// a zero-size V stores nothing, as in Replace (its address would be one
// past the table's allocation for slot 6 of the last group).
//
// The address is Value1's: the value's word follows slot i's ref word in
// the group that ArenaHome found (see "Soundness of the unsafe indexing"
// in arena_read.go), so it lies inside the table's words.
func (g ArenaGroup[K, V]) ValueWord(i uintptr, value V) (*uint64, uint64) {
	if unsafe.Sizeof(value) > 8 { // a constant: w would not hold value
		panic("table: internal error: ValueWord of a value of more than one word")
	}
	var w uint64
	*(*V)(unsafe.Pointer(&w)) = value // wordOf, written out
	return (*uint64)(unsafe.Add(g.p, flatHeader*8+i*(8+(unsafe.Sizeof(value)+7)&^7)+8)), w
}

// bump adds versionStep to the group's version word, as flat tables do
// after a ctrl store that frees a slot. An arena group's version word has
// one writer, the holder of the segment lock (arena maps take no group
// locks, so bit 0 stays clear and no one else ever writes the word), so
// the add is a load and a release store (internal/release), made after
// the ctrl store and before the lock's release.
func (t *Arena[K, V]) bump(grp []uint64) {
	release.Store(&grp[1], atomic.LoadUint64(&grp[1])+versionStep)
}

// Delete removes the key in slot p, as Flat.Delete does, and counts its
// record as garbage. It reports whether the slot became a TOMBSTONE.
func (t *Arena[K, V]) Delete(p Pos) (tombstone bool) {
	return t.DeleteRec(p, t.slotRecLen(p))
}

// DeleteRec is Delete for a caller that knows the length n of the record
// of the key in slot p (RecLen of that key), without reading it.
func (t *Arena[K, V]) DeleteRec(p Pos, n int) (tombstone bool) {
	grp := t.group(uint64(p) >> 3)
	t.liveBytes -= n
	t.garbage += n
	t.last = n
	ctrl := loadCtrl(grp)
	b := uint8(ctrlEmpty)
	if !stops(matchEmpty(ctrl), t.sp) {
		b, tombstone = ctrlTombstone, true
	}
	storeCtrl(grp, setByte(ctrl, int(p&7), b))
	t.bump(grp)
	return tombstone
}

// slotRecLen returns the length of the record that slot p's ref names.
func (t *Arena[K, V]) slotRecLen(p Pos) int {
	grp := t.group(uint64(p) >> 3)
	return t.recLen(atomic.LoadUint64(&grp[flatHeader+int(p&7)*t.sw]))
}

// RecLen returns the length of key's record, length prefix included:
// what the record of key, present in t, holds, computed from key alone.
// (Generic, with the common case first, so that it inlines into the
// instantiations of other packages.)
func (t *Arena[K, V]) RecLen(key K) int { return recordLen(len(keyString(&key))) }

// recordLen returns the length of the record of a key of n bytes, length
// prefix included: one byte of prefix below 0x80 bytes. (Generic in an int
// type so that it inlines into other packages' instantiations: see word
// in ctrl.go.)
func recordLen[I ~int](n I) I {
	if n < 0x80 {
		return n + 1
	}
	return I(uvarintLen(int(n))) + n
}

// NeedsCompact reports whether deleting the key in slot p would break
// the garbage bound (garbage, less the record deleted last, at most
// max(live bytes, arenaMinGarbage)): whether the garbage already there is
// over max(the live bytes after the delete, arenaMinGarbage). A
// compaction (a Copy to the same size, before the delete) restores it.
// It is the arena's counterpart of the tombstone bound: the arena holds
// at most twice its live bytes, plus arenaMinGarbage and one record.
func (t *Arena[K, V]) NeedsCompact(p Pos) bool { return t.CompactsFor(t.slotRecLen(p)) }

// CompactsFor is NeedsCompact for a delete of a record of n bytes.
func (t *Arena[K, V]) CompactsFor(n int) bool {
	return t.garbage > max(t.liveBytes-n, arenaMinGarbage)
}

// empty returns a new empty table of n groups shaped like t, with an
// empty arena whose first chunk has room for live bytes of records (at
// most arenaMaxOffset, the largest offset a ref holds).
func (t *Arena[K, V]) empty(n, live int) *Arena[K, V] {
	nt := &Arena[K, V]{header: header{mask: uint64(n - 1)}, vw: t.vw, sw: t.sw, stride: t.stride, sp: t.sp, tail: -1}
	nt.words = make([]uint64, n*t.stride)
	nt.storeDir(&arenaDir{})
	if live > 0 {
		nt.tail = nt.addChunk(make([]byte, min(live, arenaMaxOffset)))
	}
	return nt
}

// Copy returns a new table of n groups (a power of two) holding the keys
// and values of t and no tombstones, and the number copied: the
// compaction of the arena too, since only the live keys' records are
// written into the new table's arena. hash must return the hash each key
// was inserted with; if it panics, the new table is dropped and t is
// untouched. n must be GroupsFor(live) or more.
func (t *Arena[K, V]) Copy(n int, hash func(K) uint64) (*Arena[K, V], int) {
	if n < 1 || n&(n-1) != 0 {
		panic("table: group count is not a power of two")
	}
	nt := t.empty(n, t.liveBytes)
	return nt, t.CopyInto(nt, hash)
}

// CopyInto copies the keys and values of t into nt, an empty arena table
// of t's shape that no reader can see yet and large enough (GroupsFor(live)
// groups or more), and returns the number copied (see Table.CopyInto). If
// nt has no chunk yet (NewArena, Table.Prepare), its first chunk is
// allocated here, holding t's live bytes. It panics if nt has another
// shape or holds keys.
func (t *Arena[K, V]) CopyInto(nt *Arena[K, V], hash func(K) uint64) int {
	if nt.stride != t.stride || nt.sw != t.sw || nt.sp != t.sp || len(nt.words) != nt.Groups()*nt.stride || nt.liveBytes != 0 || nt.garbage != 0 {
		panic("table: internal error: Arena.CopyInto a table of another shape, or not empty")
	}
	if nt.tail < 0 && t.liveBytes > 0 {
		nt.tail = nt.addChunk(make([]byte, min(t.liveBytes, arenaMaxOffset)))
	}
	return copyPairs(t.words, t.stride, t.sw, t.pairAt, hash, nt.insertBatch)
}

// pairAt returns the key and value of the slot at word s of grp.
func (t *Arena[K, V]) pairAt(grp []uint64, s int) (K, V) {
	return stringKey[K](t.keyAt(grp, s)), t.loadValue(grp, s)
}

// insertBatch inserts the pairs of a batch with insertFresh.
func (t *Arena[K, V]) insertBatch(b []pair[K, V]) {
	for i := range b {
		t.insertFresh(b[i].h, b[i].k, b[i].v)
	}
}

// insertFresh puts key and value in the first group of their probe
// sequence with more than sp free slots, in a table that no reader can see
// yet (plain stores) and that holds no tombstone and not key.
func (t *Arena[K, V]) insertFresh(h uint64, key K, value V) Pos {
	ref := t.appendRecord(keyString(&key)) | checkOf(h)
	var vb [flatMaxWords]uint64
	putWords(&vb, value)
	g := h & t.mask
	for {
		grp := t.group(g)
		ctrl := grp[0] ^ flatCtrl
		if f := matchFree(ctrl); stops(f, t.sp) {
			i := slotOf(f)
			s := flatHeader + i*t.sw
			grp[s] = ref
			copy(grp[s+1:s+t.sw], vb[:t.vw])
			grp[0] = setByte(ctrl, i, tagOf(h)) ^ flatCtrl
			return Pos(g<<3) + Pos(i)
		}
		g = (g + 1) & t.mask
	}
}

// Clone returns a copy of t with the same slots, made by copying its
// words, sharing its arena: the records are immutable, so both tables
// may name them. The clone takes over t's tail chunk (it appends past
// t's records, which t's readers never read), and t gives it up: t must
// not be written again (cmap clones a table shared with a snapshot or an
// iterator, and writes only the clone). The plain copy is race-free for
// the reasons given at Table.Clone.
func (t *Arena[K, V]) Clone() *Arena[K, V] {
	nt := &Arena[K, V]{header: t.header, vw: t.vw, sw: t.sw, stride: t.stride, sp: t.sp,
		tail: t.tail, used: t.used, liveBytes: t.liveBytes, garbage: t.garbage, last: t.last}
	nt.words = make([]uint64, len(t.words))
	copy(nt.words, t.words)
	nt.chunks = slices.Clip(slices.Clone(t.chunks)) // nt's appends never write t's array
	nt.storeDir(&arenaDir{chunks: nt.chunks})
	t.tail = -1
	return nt
}

// Compacted returns a copy of t with the same slots (ctrl words, values
// and tombstones copied verbatim, as by Clone) whose arena holds only the
// live keys' records: each live slot's record is appended to a fresh
// arena sized for them, and its ref rewritten to name the copy, with the
// same check bits. Nothing is hashed or probed, and every key keeps its
// slot, so a position in t is the same key's position in the copy. It is
// the compaction that NeedsCompact asks for, at the cost of a memory copy
// of the groups and one record copy per live key; Copy to the same size
// would also drop the tombstones, at the cost of a hash and a probe per
// key. t is left as it is, still naming its own records, for its readers
// (and a snapshot that shares it). The plain reads of t's words and
// records, and the plain writes into the copy, are race-free for the
// reasons given at Table.Clone.
func (t *Arena[K, V]) Compacted() *Arena[K, V] {
	nt := t.empty(t.Groups(), t.liveBytes)
	copy(nt.words, t.words)
	for g := range uint64(t.Groups()) {
		grp := nt.group(g)
		for m := matchFull(grp[0] ^ flatCtrl); m != 0; m &= m - 1 {
			s := flatHeader + slotOf(m)*t.sw
			b, ok := record(t.chunks, grp[s])
			if !ok {
				panic("table: internal error: arena ref names no record")
			}
			grp[s] = nt.appendRecord(bytesString(b)) | grp[s]&refCheck
		}
	}
	return nt
}
