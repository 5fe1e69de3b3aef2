package table

import (
	"reflect"
	"sync/atomic"
	"unsafe"

	"github.com/segmap/segmap/internal/release"
)

// The flat layout: keys and values inline, for pointer-free K and V
// (FlatFits). docs/design.md, "Flat layout", is the essay: the storage,
// the ctrl encoding, the version word and why a reader that checks it is
// linearizable and never waits, and the spare slot with its stop rule.
// In brief, as the code below relies on it:
//
//	group g = words[g*stride : (g+1)*stride]
//	word 0               ctrl, stored XOR flatCtrl (a zeroed group is empty)
//	word 1               version: bumped (+2) after every ctrl store that frees
//	                     a slot; bit 0 is the group's write lock (flat_lock.go)
//	words 2+i*(kw+vw)..  slot i: kw key words, then vw value words
//
// Every word is read and, once the table is published, written with
// sync/atomic; the writer never writes into a slot that a reader may be
// reading as live (but for an overwrite's in-place stores of an equal key's
// bits and the value), and a reader's answer for a group stands only if the
// group's version did not move during its scan (probe). A probe stops at a
// group with more than sp EMPTY bytes (stops); sp is 1 in a spare table
// (vw >= 2), which keeps a free slot in every group for overwrites.

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
// (see the comment at the top of this file). Its shape is fixed at
// creation; only its words change, by the writer of its segment, until it
// is replaced or frozen.
type Flat[K comparable, V any] struct {
	// words holds the groups, stride words each; len(words) ==
	// groups × stride with groups a power of two >= 1. Written only by
	// the segment's writer, with atomic stores once the table is
	// published (plain stores before); read by anyone, atomically.
	words []uint64
	header
	// kw and vw are the words of a key and of a value (<= flatMaxWords);
	// sw == kw+vw and stride == flatHeader + SlotsPerGroup*sw.
	kw, vw, sw, stride int
	// sp is 1 in a spare table (vw >= 2), else 0. A probe stops at a group
	// with more than sp EMPTY bytes; an insert goes only into a group with
	// more than sp free slots, so in a spare table every group keeps a
	// free slot; a delete writes EMPTY only into a group that stops
	// probes.
	sp uint64
	// sealed != 0: group-lock writers must not write the table (see
	// flat_lock.go). Written (atomically) only by the holder of the
	// segment lock; read atomically by group-lock writers. A table made
	// by Copy or Clone is born sealed (its maker holds the segment lock
	// and unseals it when it lets go), one made by NewFlat unsealed.
	sealed uint32
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
	t := &Flat[K, V]{header: header{mask: uint64(n - 1)}, kw: kw, vw: vw, sw: kw + vw, stride: flatHeader + SlotsPerGroup*(kw+vw)}
	if vw >= 2 {
		t.sp = 1
	}
	// Zeroed words are empty groups (see the ctrl encoding).
	t.words = make([]uint64, n*t.stride)
	return t
}

// Spare reports whether t keeps a spare slot in every group (vw >= 2).
func (t *Flat[K, V]) Spare() bool { return t.sp != 0 }

// flatCtrl is the constant that turns a stored ctrl word into the logical
// one that the helpers of ctrl.go read, and back (XOR both ways): it flips
// the high bit of the slots' bytes and turns byte 7, stored 0, into the
// sentinel TOMBSTONE of an entry table. A zeroed group reads emptyCtrl.
const flatCtrl = emptyCtrl

// loadCtrl returns the logical ctrl word of grp. (Generic in grp's type,
// which is always []uint64, only to be inlined into the probes cmap
// instantiates: see word in ctrl.go.)
func loadCtrl[G ~[]uint64](grp G) uint64 { return atomic.LoadUint64(&grp[0]) ^ flatCtrl }

// storeCtrl stores the logical ctrl word ctrl into grp, with a release
// store: its caller is the group's one writer (internal/release).
// (Generic to inline, as loadCtrl.)
func storeCtrl[G ~[]uint64](grp G, ctrl uint64) { release.Store(&grp[0], ctrl^flatCtrl) }

// stops reports whether a group whose EMPTY slots are e (matchEmpty) has
// more than sp of them: a group that stops probes (docs/design.md, "The
// spare slot").
// (Generic to inline: see word in ctrl.go.)
func stops[W word](e, sp W) bool { return e&(e-sp) != 0 }

// group returns the words of group g. (wordsOf written out: its inlined
// generic calls left each caller a load of their dictionaries and a nil
// check of them.)
func (t *Flat[K, V]) group(g uint64) []uint64 {
	var k K
	var v V
	stride := flatHeader + SlotsPerGroup*(int(unsafe.Sizeof(k)+7)>>3+int(unsafe.Sizeof(v)+7)>>3)
	b := int(g) * stride
	return t.words[b : b+stride : b+stride]
}

// putWords writes x into the first words of buf, which the caller has
// zeroed. It writes in place rather than returning a buffer: a returned
// buffer is copied 16 bytes at a time right after x's narrower store, a
// load the CPU cannot forward from the store buffer, which stalled every
// Replace for a dozen cycles.
//
// Soundness of the unsafe views of words as a K or V (here, and in
// loadWords, wordOf, flatLoad, Find1, Value1, range1): buf is one object
// of flatMaxBytes bytes, 8-byte aligned, or, for a T of at most 8 bytes,
// one uint64; T is at most that size and aligned to at most 8 (FlatFits,
// checked by NewFlat; no Go type has a larger alignment), so the T lies
// inside it, aligned (checkptr accepts it). T holds no pointers, so any
// bits are a valid T and the GC need not see the words. Padding bytes of
// a T are copied as they are, and no reader ever compares them.
func putWords[T any](buf *[flatMaxWords]uint64, x T) {
	*(*T)(unsafe.Pointer(buf)) = x
}

// wordOf returns the word that stores a T of at most one word: its
// bytes first, the rest zero, as putWords stores it into a buffer's
// first word, with no buffer.
func wordOf[T any](x T) uint64 {
	var w uint64
	*(*T)(unsafe.Pointer(&w)) = x
	return w
}

// wordsOf returns the number of words of a T. It is a constant in each
// instantiation (the compiler knows the size of every shape), so the
// loops over a key's or value's words below are unrolled; t.kw and t.vw
// hold the same numbers for code that is not on a hot path.
func wordsOf[T any]() int {
	var x T
	return int(unsafe.Sizeof(x)+7) >> 3
}

// loadKey returns the key of the slot at word s of grp.
func (t *Flat[K, V]) loadKey(grp []uint64, s int) K { return loadWords[K](grp, s) }

// loadValue returns the value of the slot at word s of grp. (K's words
// are written out rather than wordsOf[K](), a generic call that would
// take loadValue over the inliner's budget: 84 > 80.)
func (t *Flat[K, V]) loadValue(grp []uint64, s int) V {
	var k K
	return loadWords[V](grp, s+int(unsafe.Sizeof(k)+7)>>3)
}

// loadWords returns the T stored in the words of grp from word s, loaded
// one by one into a buffer (see putWords for the conversion). A T of
// one word is converted from the word loaded, with no buffer: the
// compiler zeroes a buffer, writes it and reads it back through the
// stack, on every key compared by a write's probe. The size test is a
// constant of the instantiation.
func loadWords[T any](grp []uint64, s int) T {
	var x T
	n := int(unsafe.Sizeof(x)+7) >> 3
	if n == 1 {
		w := atomic.LoadUint64(&grp[s])
		return *(*T)(unsafe.Pointer(&w)) // see putWords
	}
	var buf [flatMaxWords]uint64
	for w := range n {
		buf[w] = atomic.LoadUint64(&grp[s+w])
	}
	return *(*T)(unsafe.Pointer(&buf)) // see putWords
}

// Find returns the value of key and true, or false if key is absent. It
// takes no lock, never waits, and may run concurrently with the table's
// writer; see docs/design.md, "Writes and the version word", for why its
// answer is linearizable. It inlines into its callers (cmap's Load),
// leaving one call, to probe.
func (t *Flat[K, V]) Find(h uint64, key K) (V, bool) { return t.probe(h, key, nil, 0) }

// FindAfter is Find for a caller that probed key's home group itself
// (cmap's Load, with FlatHome) and found that it neither holds key nor
// stops probes, with its version unchanged: the probe goes on from the
// next group, as Find's would. With one group, the home group is probed
// again, and a miss there ends the probe.
func (t *Flat[K, V]) FindAfter(h uint64, key K) (V, bool) { return t.probe(h, key, nil, 1) }

// probe is Find. If stale is not nil, the probe starts with stale[0] and
// stale[1] as the version and stored ctrl words of key's home group, as
// if it had loaded them earlier: tests pass words loaded before a write,
// as a reader descheduled there would hold them.
// The probe starts from the group from places after the home group (0
// or 1: FindAfter), counting the groups skipped as probed: it ends at a
// group that stops probes or after mask+1 groups, home group included.
func (t *Flat[K, V]) probe(h uint64, key K, stale *[2]uint64, from uint64) (V, bool) {
	sw := wordsOf[K]() + wordsOf[V]()
	tw := tagWord[uint64](tagOf(h))
	g := (h + from) & t.mask
	grp := t.group(g)
	var ver, stored uint64
	if stale == nil {
		ver = atomic.LoadUint64(&grp[1])
		stored = atomic.LoadUint64(&grp[0])
	} else {
		ver, stored = stale[0], stale[1]
	}
	var v V
	for n := from; ; {
		ctrl := stored ^ flatCtrl
		hit := false
		for m := matchWord(ctrl, tw); m != 0; m &= m - 1 {
			s := flatHeader + slotOf(m)*sw
			if t.loadKey(grp, s) == key {
				v, hit = t.loadValue(grp, s), true
				break
			}
		}
		// The answer for this group, hit or miss, stands only if no slot
		// was freed meanwhile: a slot read may have been refilled (a torn
		// or unpublished value, or another key where key was), or key
		// may have moved within the group.
		// (The whole word is compared, lock bit included: a lock taken or
		// released meanwhile only costs a retry; see flat_lock.go.)
		if atomic.LoadUint64(&grp[1]) != ver {
			ver = atomic.LoadUint64(&grp[1])
			stored = atomic.LoadUint64(&grp[0])
			continue
		}
		if hit {
			return v, true
		}
		if stops(matchEmpty(ctrl), t.sp) || n >= t.mask { // a stopping group, or the last
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
		for m := matchFull(loadCtrl(grp)); m != 0; m &= m - 1 {
			s := flatHeader + slotOf(m)*t.sw
			if !yield(t.loadKey(grp, s), t.loadValue(grp, s)) {
				return false
			}
		}
	}
	return true
}
