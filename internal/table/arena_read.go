package table

import (
	"sync/atomic"
	"unsafe"
)

// The read path of arena tables, for cmap's Load: the probe of a key's
// home group in steps that each inline (no call: see flat_read.go), the
// first group of Arena.probe with the same loads in the same order:
// ArenaHome loads the group's version and ctrl words, the caller loops
// over Matches, loading each slot's Ref and comparing its record, with
// Check (the check bits), Chunk and Is (the length, then the bytes: the one call left,
// runtime.memequal, on a tag and check hit), Value loads the value, and
// Settled tells whether the answer stands. When it reports false the
// caller calls Arena.FindAfter, which goes on from the next group, if
// the group is full and lacks the key and its version did not move
// (Moved), else Arena.Find, which starts over. Is serves keys shorter than
// 0x80 bytes, whose length is one uvarint byte; cmap's Load sends longer
// keys to Arena.Find.
//
// Soundness of the unsafe indexing: the group is that of FlatHome (group
// h & mask of words, which holds mask+1 groups of stride words with
// stride = flatHeader + SlotsPerGroup×(1+vw), vw a constant of the
// instantiation), and slot indexes come from matchZero on a logical ctrl
// word, which never reports byte 7 (see flat_read.go), so every pointer
// formed lies inside the one allocation of words, at a word boundary. In
// Is, the chunk index is checked against the directory's length and the
// record's end (off + 1 + len(key)) against the chunk's length before the
// chunk's bytes are read, so they lie inside that chunk's allocation.
// The plain reads of the record's bytes are race-free: see "Memory
// ordering of the arena bytes" in arena.go.

// ArenaGroup is a probe of one group of an arena table in progress.
type ArenaGroup[K comparable, V any] struct {
	// p is the group's first word, a its table.
	p unsafe.Pointer
	a *Arena[K, V]
	// ver is the version word loaded first; x the logical ctrl word
	// XOR the hash's tag in every byte (as FlatGroup.x).
	ver, x uint64
}

// ArenaHome starts the probe of the home group of hash h in t, which must
// be an arena table: version first, then ctrl.
func (t *Table[K, V]) ArenaHome(h uint64) ArenaGroup[K, V] {
	if t.layout != arenaLayout {
		panic("table: internal error: ArenaHome called on a table that is not an arena table")
	}
	var v V
	p := unsafe.Add(t.aw, uintptr(h&t.mask)*(flatHeader*8+SlotsPerGroup*(8+(unsafe.Sizeof(v)+7)&^7)))
	return ArenaGroup[K, V]{p, t.arena, atomic.LoadUint64((*uint64)(unsafe.Add(p, 8))), atomic.LoadUint64((*uint64)(p)) ^ flatCtrl ^ lsb*(h>>32&0x7F)}
}

// Moved reports whether g's version moved since ArenaHome loaded it, as
// FlatGroup.Moved (then Arena.Find, else Arena.FindAfter).
func (g ArenaGroup[K, V]) Moved() bool {
	return atomic.LoadUint64((*uint64)(unsafe.Add(g.p, 8))) != g.ver
}

// Matches returns the slots whose tag matches (high bit of byte i set for
// slot i, slots 0..6 only).
func (g ArenaGroup[K, V]) Matches() uint64 { return matchZero(g.x) }

// Slot returns the lowest slot of a match word m != 0 of Matches (<= 6).
func (g ArenaGroup[K, V]) Slot(m uint64) uintptr { return uintptr(slotOf(m)) }

// Pos returns the Pos of slot i of the group, the home group of hash h.
func (g ArenaGroup[K, V]) Pos(h uint64, i uintptr) Pos { return Pos((h&g.a.mask)<<3) + Pos(i) }

// Ref returns the ref word of slot i <= 6.
func (g ArenaGroup[K, V]) Ref(i uintptr) uint64 {
	var v V
	return atomic.LoadUint64((*uint64)(unsafe.Add(g.p, flatHeader*8+i*(8+(unsafe.Sizeof(v)+7)&^7))))
}

// Check reports whether ref, loaded by Ref, has the check bits of hash h:
// if not, its key is not the key of hash h, and Is need not read it.
func (g ArenaGroup[K, V]) Check(ref, h uint64) bool { return ref&refCheck == checkOf(h) }

// Chunk returns the chunk that ref, loaded by Ref, names, from the
// directory loaded now (after the ref), or nil if there is none (never,
// for a ref of this table: checked all the same).
func (g ArenaGroup[K, V]) Chunk(ref uint64) []byte {
	chunks := (*arenaDir)(atomic.LoadPointer(&g.a.dir)).chunks
	if c := ref >> 24 & (arenaMaxChunks - 1); c < uint64(len(chunks)) {
		return chunks[c]
	}
	return nil
}

// Is reports whether ref's record in ch, its Chunk, holds key, shorter
// than 0x80 bytes: the record's one-byte length, then its bytes.
//
// Every pointer it forms lies inside ch: the record's first byte at off
// and its bytes from off+1 are formed only after the bounds check (off+1+
// len(key) <= len(ch)), and the bytes' pointer only for a key of one byte
// or more. (An empty key's record may be the chunk's last byte, and
// off+1 would then point one past the chunk, which checkptr rejects.)
func (g ArenaGroup[K, V]) Is(ch []byte, ref uint64, key string) bool {
	off := ref & (arenaMaxOffset - 1)
	return off+1+uint64(len(key)) <= uint64(len(ch)) &&
		*(*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(ch)), off)) == byte(len(key)) &&
		(len(key) == 0 || *(*string)(unsafe.Pointer(&strHeader{unsafe.Add(unsafe.Pointer(unsafe.SliceData(ch)), off+1), len(key)})) == key)
}

// Short returns the bytes of ref's record in ch, its Chunk, as a string
// if the record's length is n (1 <= n < 0x80), else "". cmap's Load
// compares their KeyWords with the key's: for keys of 4 to 16 bytes, a
// comparison with no call.
//
// The record's first byte at off, and its bytes from off+1, are formed
// only after the bounds check (off+1+n <= len(ch)), so they lie inside
// ch; n >= 1, so off+1 is inside ch too.
func (g ArenaGroup[K, V]) Short(ch []byte, ref, n uint64) string {
	off := ref & (arenaMaxOffset - 1)
	if off+1+n <= uint64(len(ch)) && *(*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(ch)), off)) == byte(n) {
		return *(*string)(unsafe.Pointer(&strHeader{unsafe.Add(unsafe.Pointer(unsafe.SliceData(ch)), off+1), int(n)}))
	}
	return ""
}

// strHeader is a string's representation: the record's bytes are viewed
// as a string through it rather than with unsafe.String, whose checks of
// the length (a call to panic, never taken: the length is len(key), and
// the bytes lie inside the chunk) would be the one call of Load's arena
// path besides the comparison.
type strHeader struct {
	p unsafe.Pointer
	n int
}

// Value returns the value in slot i <= 6, read word by word through a
// buffer; the value's words follow the ref. A zero-size V is returned
// without forming a pointer, as in FlatGroup.Value: its address would be
// one past the table's allocation for slot 6 of the last group.
func (g ArenaGroup[K, V]) Value(i uintptr) V {
	var v V
	if unsafe.Sizeof(v) == 0 {
		return v
	}
	return flatLoad[V](unsafe.Add(g.p, flatHeader*8+8+i*(8+(unsafe.Sizeof(v)+7)&^7)))
}

// Value1 is Value for a V of at most one word (the caller's test of
// unsafe.Sizeof, a constant of the instantiation: Value1 and Value do not
// both fit one function within the inliner's budget). The value is
// converted from the one word loaded, as in FlatGroup.Find1, with no
// buffer (Value's, zeroed, written and read back through the stack, cost
// a string key's Load hit about a tenth of its time). The word is the
// value's for vb = 8 (V's bytes rounded up to words); for a zero-size V
// it is the slot's ref, which lies inside the table (the value's own
// address would be one past the table's allocation for slot 6 of the
// last group, which checkptr rejects), converted to nothing.
func (g ArenaGroup[K, V]) Value1(i uintptr) V {
	var v V
	vb := (unsafe.Sizeof(v) + 7) &^ 7 // 8 or 0
	w := atomic.LoadUint64((*uint64)(unsafe.Add(g.p, flatHeader*8+i*(8+vb)+vb)))
	return *(*V)(unsafe.Pointer(&w))
}

// Settled reports whether the answer (ok: key found) stands, as
// FlatGroup.Settled: the version did not move, and key was found or the
// group stops probes.
func (g ArenaGroup[K, V]) Settled(h uint64, ok bool) bool {
	var v V
	sp := uint64(0)
	if unsafe.Sizeof(v) > 8 {
		sp = 1
	}
	return atomic.LoadUint64((*uint64)(unsafe.Add(g.p, 8))) == g.ver && (ok || stops(matchEmpty(g.x^tagWord[uint64](tagOf(h))), sp))
}
