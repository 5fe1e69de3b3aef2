package table

import (
	"math/bits"
	"reflect"
	"sync/atomic"
	"unsafe"
)

/*
Flat tables

A Flat table keeps keys and values inline, in its groups, instead of
pointers to entries. It is used for maps whose K and V hold no pointers
and are small (FlatFits): a Load then touches one group and nothing else,
a write allocates nothing, and the garbage collector never scans the
table (its backing array is a []uint64).

Storage: one slice of words, len(groups) × stride words; group g is
words[g*stride : (g+1)*stride]:

	word 0               ctrl: control bytes 0..6 for slots 0..6, byte 7 unused
	word 1               version: bumped after every ctrl store that frees a slot
	words 2+i*(kw+vw)..  slot i: kw key words, then vw value words

kw = ceil(size(K)/8) and vw = ceil(size(V)/8), either may be 0. For
uint64→uint64 a group is 16 words, 128 bytes. A slice of uint64 made by
make is 8-byte aligned on every platform (386 included: the first word of
an allocated array is 64-bit aligned), so every word can be accessed with
the 64-bit functions of sync/atomic.

Ctrl encoding: a control byte is stored XOR 0x80, so that EMPTY (0x80) is
stored as 0x00 and a zeroed group is empty: a new table is make([]uint64,
n), with no initialisation pass. Stored: EMPTY 0x00, TOMBSTONE 0x7E, tag t
0x80|t. Readers XOR the loaded word with msb and apply the SWAR formulas of
ctrl.go; byte 7 then reads EMPTY (there is no sentinel), so every match is
masked to the slots' bytes (slotsMSB), matchTag's included.

Keys and values are moved between words and K, V values through a local
[flatMaxWords]uint64 buffer (see fromWords, putWords). Keys are compared as K
values with ==, never as bytes: NaN is never equal to itself, +0 == -0, and
padding bytes (copied along, with whatever they hold) do not matter.

Memory ordering. Readers take no lock and never wait: they read every
shared word with sync/atomic (sequentially consistent), and a writer (one
at a time, holding the segment lock) writes every word of a published
table with sync/atomic too. The writer never writes into a slot that a
reader may be reading as live:

  insert into free slot i:  words of slot i; ctrl[i] = tag          (LP: ctrl store)
  delete of slot i:         ctrl[i] = EMPTY or TOMBSTONE; version++ (LP: ctrl store)
  overwrite, vw <= 1:       value word of slot i, in place           (LP: that store)
  overwrite, vw >= 2:       words of free slot j of the same group;
                            ctrl[j] = tag, ctrl[i] = old ctrl[j] in ONE store
                            (LP); version++

A reader probes a group thus: v1 = version; c = ctrl; for each slot whose
tag matches in c, load its key words and compare; on equal, load its value
words; then, on a hit and on a miss alike, if version != v1 the group is
scanned again, else the answer stands. Why it is linearizable: a slot's
words are rewritten only after the slot was freed, and every free is
followed by a version bump; so if the reader read any word written after
a free of one of the slots it read, its second version load comes after
that bump (all accesses are sequentially consistent) and it retries. If
the version did not move, every slot it read was live at its ctrl load
and its key words were those of that moment, so:

  - a hit returns a key that was live at the ctrl load, with a value that
    it held at some instant during the call (in-place stores of vw <= 1
    happen only into live slots);
  - a miss in the group is true at the ctrl load: a key that moved within
    its group (overwrite, vw >= 2) or whose slot was freed and reused by
    another key shows up as a version change, not as a miss. That is why
    the miss path checks the version too.

Never waiting: there is no "write in progress" state that a reader waits
on. A writer stalled anywhere (between its word stores and its ctrl store,
or before its version bump) leaves readers with a consistent group; they
retry only when a free completed during their scan. Reads are lock-free,
not wait-free: a reader can be made to retry by a stream of frees in its
group.

The spare slot (tables with vw >= 2, spare tables). An overwrite that
cannot be one store needs a free slot in its key's own group, so a spare
table keeps one in every group: an insert goes only into a group with at
least 2 free slots (EMPTY or TOMBSTONE). The probe's stop rule follows: a
probe stops at a group with more than sp EMPTY bytes (sp = 1 for spare
tables, 0 for others: a stopping group), and a delete writes EMPTY only
into a stopping group, else TOMBSTONE; an overwrite gives slot i the state
of slot j, so the group's EMPTY count does not change. Hence a group that
does not stop probes never comes to stop them until a rebuild, and a key
inserted beyond a non-stopping group stays reachable (the Swiss-table
argument of the package comment, with threshold sp+1). An insert finds a
group with sp+1 free slots at the latest in the stopping group where its
probe ends. Termination: with live+dead <= 0.7 × 7 × len(groups), there
are at least 2.1 × len(groups) EMPTY bytes, so some group has 3 or more
and stops every probe that reaches it.
*/

// flatMaxBytes is the largest K or V that a flat table stores inline.
const flatMaxBytes = 32

// flatMaxWords is the number of words of flatMaxBytes.
const flatMaxWords = flatMaxBytes / 8

// Stored control bytes of flat tables (the logical byte XOR 0x80).
const (
	flatEmpty     = ctrlEmpty ^ 0x80     // 0x00
	flatTombstone = ctrlTombstone ^ 0x80 // 0x7E
)

// flatHeader is the number of words before a group's first slot: ctrl and
// version.
const flatHeader = 2

// FlatFits reports whether maps of K and V use flat tables: neither holds
// pointers (booleans, numbers, and arrays and structs of them only) and
// each is at most flatMaxBytes bytes.
func FlatFits[K comparable, V any]() bool {
	k, v := reflect.TypeFor[K](), reflect.TypeFor[V]()
	return pointerFree(k) && pointerFree(v) && k.Size() <= flatMaxBytes && v.Size() <= flatMaxBytes
}

// pointerFree reports whether values of t hold no pointer.
func pointerFree(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return pointerFree(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !pointerFree(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

// Flat is an open-addressing hash table holding keys and values inline
// (see "Flat tables" above). Its shape is fixed at creation; only its
// words change, by the writer of its segment, until it is replaced or
// frozen.
type Flat[K comparable, V any] struct {
	// words holds the groups, stride words each; len(words) ==
	// groups × stride with groups a power of two >= 1. Written only by
	// the segment's writer, with atomic stores once the table is
	// published (plain stores before); read by anyone, atomically.
	words []uint64
	// mask == groups-1.
	mask uint64
	// kw and vw are the words of a key and of a value (<= flatMaxWords);
	// sw == kw+vw and stride == flatHeader + SlotsPerGroup*sw.
	kw, vw, sw, stride int
	// sp is 1 in a spare table (vw >= 2), else 0. A probe stops at a group
	// with more than sp EMPTY bytes; an insert goes only into a group with
	// more than sp free slots, so in a spare table every group keeps a
	// free slot; a delete writes EMPTY only into a group that stops
	// probes.
	sp uint64
}

// NewFlat returns an empty flat table of n groups; n must be a power of
// two >= 1 and FlatFits[K, V]() must hold.
func NewFlat[K comparable, V any](n int) *Flat[K, V] {
	if n < 1 || n&(n-1) != 0 {
		panic("table: group count is not a power of two")
	}
	if !FlatFits[K, V]() {
		panic("table: NewFlat: " + reflect.TypeFor[K]().String() + " → " + reflect.TypeFor[V]().String() + " does not fit a flat table")
	}
	var k K
	var v V
	kw, vw := int(unsafe.Sizeof(k)+7)/8, int(unsafe.Sizeof(v)+7)/8
	t := &Flat[K, V]{mask: uint64(n - 1), kw: kw, vw: vw, sw: kw + vw, stride: flatHeader + SlotsPerGroup*(kw+vw)}
	if vw >= 2 {
		t.sp = 1
	}
	// Zeroed words are empty groups (see the ctrl encoding).
	t.words = make([]uint64, n*t.stride)
	return t
}

// Groups returns the number of groups.
func (t *Flat[K, V]) Groups() int { return int(t.mask) + 1 }

// Capacity returns the number of slots.
func (t *Flat[K, V]) Capacity() int { return t.Groups() * SlotsPerGroup }

// MaxUsed returns MaxUsed(t.Groups()).
func (t *Flat[K, V]) MaxUsed() int { return MaxUsed(t.Groups()) }

// Spare reports whether t keeps a spare slot in every group (vw >= 2).
func (t *Flat[K, V]) Spare() bool { return t.sp != 0 }

// group returns the words of group g.
func (t *Flat[K, V]) group(g uint64) []uint64 {
	stride := flatHeader + SlotsPerGroup*(wordsOf[K]()+wordsOf[V]())
	b := int(g) * stride
	return t.words[b : b+stride : b+stride]
}

// fromWords converts the first words of buf to a T (a key or a value).
//
// Soundness of the unsafe view: buf is one object of flatMaxBytes bytes,
// 8-byte aligned; T is at most flatMaxBytes bytes and aligned to at most 8
// (FlatFits, checked by NewFlat; no Go type has a larger alignment), so
// the T lies inside buf, aligned (checkptr accepts it). T holds no
// pointers, so any bits are a valid T and the GC need not see the words.
func fromWords[T any](buf *[flatMaxWords]uint64) T { return *(*T)(unsafe.Pointer(buf)) }

// putWords writes x into a zeroed buffer and returns it: the inverse of
// fromWords (same soundness argument; padding bytes of x are copied as they
// are, and no reader ever compares them).
func putWords[T any](x T) (buf [flatMaxWords]uint64) {
	*(*T)(unsafe.Pointer(&buf)) = x
	return buf
}

// wordsOf returns the number of words of a T. It is a constant in each
// instantiation (the compiler knows the size of every shape), so the
// loops over a key's or value's words below are unrolled; t.kw and t.vw
// hold the same numbers for code that is not on a hot path.
func wordsOf[T any]() int {
	var x T
	return int(unsafe.Sizeof(x)+7) >> 3
}

// loadKey returns the key of the slot at word s of grp, loaded word by
// word.
func (t *Flat[K, V]) loadKey(grp []uint64, s int) K {
	var buf [flatMaxWords]uint64
	kw := wordsOf[K]()
	for w := range kw {
		buf[w] = atomic.LoadUint64(&grp[s+w])
	}
	return fromWords[K](&buf)
}

// loadValue returns the value of the slot at word s of grp.
func (t *Flat[K, V]) loadValue(grp []uint64, s int) V {
	var buf [flatMaxWords]uint64
	s += wordsOf[K]()
	for w := range wordsOf[V]() {
		buf[w] = atomic.LoadUint64(&grp[s+w])
	}
	return fromWords[V](&buf)
}

// Find returns the value of key and true, or false if key is absent. It
// takes no lock, never waits, and may run concurrently with the table's
// writer; see "Memory ordering" in the comment above for why its answer
// is linearizable. It inlines into its callers (cmap's Load), leaving one
// call, to probe.
func (t *Flat[K, V]) Find(h uint64, key K) (V, bool) { return t.probe(h, key, nil) }

// probe is Find. If stale is not nil, the probe starts with stale[0] and
// stale[1] as the version and stored ctrl words of key's home group, as
// if it had loaded them earlier: tests pass words loaded before a write,
// as a reader descheduled there would hold them. The SWAR formulas of
// ctrl.go are written out (see Table.Find).
func (t *Flat[K, V]) probe(h uint64, key K, stale *[2]uint64) (V, bool) {
	sw := wordsOf[K]() + wordsOf[V]()
	tw := lsb * uint64(uint8(h>>32)&0x7F)
	g := h & t.mask
	grp := t.group(g)
	var ver, stored uint64
	if stale == nil {
		ver = atomic.LoadUint64(&grp[1])
		stored = atomic.LoadUint64(&grp[0])
	} else {
		ver, stored = stale[0], stale[1]
	}
	var v V
	for n := uint64(0); ; {
		ctrl := stored ^ msb
		x := ctrl ^ tw
		hit := false
		for m := (x - lsb) &^ x & slotsMSB; m != 0; m &= m - 1 { // matchTag
			s := flatHeader + bits.TrailingZeros64(m)>>3*sw
			if t.loadKey(grp, s) == key {
				v, hit = t.loadValue(grp, s), true
				break
			}
		}
		// The answer for this group, hit or miss, stands only if no slot
		// was freed meanwhile: a slot read may have been refilled (a torn
		// or unpublished value, or another key where key was), or key
		// may have moved within the group.
		if atomic.LoadUint64(&grp[1]) != ver {
			ver = atomic.LoadUint64(&grp[1])
			stored = atomic.LoadUint64(&grp[0])
			continue
		}
		if hit {
			return v, true
		}
		if e := ctrl &^ (ctrl << 6) & slotsMSB; e&(e-t.sp) != 0 || n == t.mask { // a stopping group, or the last
			var zero V
			return zero, false
		}
		n++
		g = (g + 1) & t.mask
		grp = t.group(g)
		ver = atomic.LoadUint64(&grp[1])
		stored = atomic.LoadUint64(&grp[0])
	}
}

// At returns the key and value in slot p, which holds a key. Only the
// writer, or a reader of a frozen table, can rely on the answer.
func (t *Flat[K, V]) At(p Pos) (K, V) {
	grp := t.group(uint64(p) >> 3)
	s := flatHeader + int(p&7)*t.sw
	return t.loadKey(grp, s), t.loadValue(grp, s)
}

// Range calls yield for each key and value in the table, in slot order,
// until yield returns false; it reports whether it ran to the end. It
// takes no lock: on a table that a writer still changes it may see or
// miss entries written meanwhile, or a torn value, so callers iterate
// frozen tables only.
func (t *Flat[K, V]) Range(yield func(K, V) bool) bool {
	if FlatOneWord[K, V]() {
		return t.range1(yield) // flat_read.go
	}
	for g := range uint64(t.Groups()) {
		grp := t.group(g)
		for m := (atomic.LoadUint64(&grp[0]) & slotsMSB); m != 0; m &= m - 1 { // stored: a tag has its high bit set
			s := flatHeader + bits.TrailingZeros64(m)>>3*t.sw
			if !yield(t.loadKey(grp, s), t.loadValue(grp, s)) {
				return false
			}
		}
	}
	return true
}
