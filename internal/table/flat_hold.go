package table

import (
	"sync/atomic"
	"unsafe"

	"github.com/segmap/segmap/internal/release"
)

// The light group-lock writes of flat tables of one-word keys and values
// (FlatOneWord), for cmap's flatwrite.go: a write whose key's home group
// settles it (the key is there, or the group stops probes and has room)
// locks that group, reads its ctrl word once and makes its change, each
// step a method of FlatHold that inlines into cmap's instantiation (the
// inliner's budget is 80; a call costs 57), so that the whole write makes
// no call but its release stores (internal/release), which the caller
// makes with the addresses and words these methods return. The steps are those of LockGroup,
// LocateFree, Insert, Replace, DeleteHeld and UnlockGroup(Bump) restricted
// to the home group: the same stores in the same order, so readers see
// what they see of those (docs/design.md, "Writes and the version word",
// "Group locks"). A V of no words (a set) stores no value word.
//
// Soundness of the unsafe indexing: as for FlatHome (flat_read.go): the
// group's address is that of word g×stride of words with g = h & mask,
// so its stride words lie inside words; slot indexes come from the match
// helpers of ctrl.go, which never report byte 7 (the sentinel), so they
// are at most 6 and the slot's words lie inside the group. Every pointer
// formed points into the one allocation of words, at a word boundary.

// FlatHold is a writer's handle on the home group of a key in a flat
// table of one-word keys and values: the group's address. The caller
// holds the group's lock between TryLock and Unlock (or UnlockBump) and
// calls the other methods only then, with the ctrl word that Ctrl
// returned since it took the lock, and the writes it makes since.
//
// The methods spell out their addresses (the version word at p+8, slot i
// at p+16+i×sb, sb = 8 + V's bytes rounded up to a word: the key's word
// and the value's, if V has any) and words (wordOf) rather than call a
// helper for them: a generic step of K or V called inside an
// inlined method leaves cmap's instantiation a load of the step's
// dictionary and a nil check of it, two or three instructions each
// (go1.26.8, go tool objdump; TestLightFlatWriteInlines fails on one).
type FlatHold[K comparable, V any] struct {
	p unsafe.Pointer
}

// Hold returns the handle on the home group of hash h. t must hold
// one-word keys and values (FlatOneWord).
func (t *Flat[K, V]) Hold(h uint64) FlatHold[K, V] {
	var v V // the slot bytes sb, written out: see FlatHold
	return FlatHold[K, V]{unsafe.Add(unsafe.Pointer(unsafe.SliceData(t.words)), uintptr(h&t.mask)*(flatHeader*8+SlotsPerGroup*(8+(unsafe.Sizeof(v)+7)&^7)))}
}

// TryLock takes the group's lock if it is free, and reports whether it
// did, as TryLockGroup.
func (g FlatHold[K, V]) TryLock() bool {
	p := (*uint64)(unsafe.Add(g.p, 8)) // ver, written out: see FlatHold
	v := atomic.LoadUint64(p)
	return v&lockBit == 0 && atomic.CompareAndSwapUint64(p, v, v|lockBit)
}

// Unlock releases the group's lock, as UnlockGroup.
func (g FlatHold[K, V]) Unlock() { atomic.AndUint64((*uint64)(unsafe.Add(g.p, 8)), ^uint64(lockBit)) }

// UnlockBump releases the group's lock and bumps its version, as
// UnlockGroupBump: for a holder that deleted (Delete).
func (g FlatHold[K, V]) UnlockBump() { atomic.AddUint64((*uint64)(unsafe.Add(g.p, 8)), lockBit) }

// Ctrl returns the group's logical ctrl word (loadCtrl).
func (g FlatHold[K, V]) Ctrl() uint64 { return atomic.LoadUint64((*uint64)(g.p)) ^ flatCtrl }

// slot returns the address of slot i's key word.
func (g FlatHold[K, V]) slot(i int) unsafe.Pointer {
	var v V // the slot bytes sb, written out: see FlatHold
	return unsafe.Add(g.p, flatHeader*8+uintptr(i)*(8+(unsafe.Sizeof(v)+7)&^7))
}

// Match returns the slots whose tag matches hash h's in the group's
// ctrl word ctrl, with matchTag's false positives; the caller compares
// their keys (Key), lowest first (Slot). The loop is the caller's so that
// each step fits the inliner's budget.
func (g FlatHold[K, V]) Match(ctrl, h uint64) uint64 { return matchZero(ctrl ^ lsb*(h>>32&0x7F)) }

// Slot returns the lowest slot of a match word m != 0 of Match (<= 6).
func (g FlatHold[K, V]) Slot(m uint64) int { return slotOf(m) }

// Key returns the key in slot i, converted from the word loaded, as by
// FlatGroup.Find1.
func (g FlatHold[K, V]) Key(i int) K {
	var v V
	w := atomic.LoadUint64((*uint64)(unsafe.Add(g.p, flatHeader*8+uintptr(i)*(8+(unsafe.Sizeof(v)+7)&^7))))
	return *(*K)(unsafe.Pointer(&w))
}

// Value returns the value in slot i, which holds a key.
func (g FlatHold[K, V]) Value(i int) V {
	var v V
	if unsafe.Sizeof(v) == 0 { // a constant; no pointer past the slot
		return v
	}
	w := atomic.LoadUint64((*uint64)(unsafe.Add(g.p, flatHeader*8+8+uintptr(i)*(8+(unsafe.Sizeof(v)+7)&^7))))
	return *(*V)(unsafe.Pointer(&w))
}

// The stores of a light write are the caller's: each method below returns
// a word's address and the word to store there with release.Store (a
// call to an assembly function, whose cost would take any method making
// it over the inliner's budget in cmap's instantiation).

// KeyWord returns the address of slot i's key word and key's word, for a
// replace, which stores it only if the word loaded there differs (an
// equal key with other bits, +0 for -0, as Flat.Replace; a reader
// comparing the old word or the new one gets the same answer).
func (g FlatHold[K, V]) KeyWord(i int, key K) (*uint64, uint64) {
	var v V
	var w uint64
	*(*K)(unsafe.Pointer(&w)) = key // wordOf, written out
	return (*uint64)(unsafe.Add(g.p, flatHeader*8+uintptr(i)*(8+(unsafe.Sizeof(v)+7)&^7))), w
}

// ValueWord returns the address of slot i's value word and value's word:
// a replace's one store (after KeyWord's, if any), the linearization
// point. V must have a word (unsafe.Sizeof(V) > 0, the caller's constant
// test): a set stores no value.
func (g FlatHold[K, V]) ValueWord(i int, value V) (*uint64, uint64) {
	var w uint64
	*(*V)(unsafe.Pointer(&w)) = value // wordOf, written out
	return (*uint64)(unsafe.Add(g.p, flatHeader*8+8+uintptr(i)*(8+(unsafe.Sizeof(value)+7)&^7))), w
}

// Room returns the slot where an insert of a key that the group does not
// hold goes, and whether it is EMPTY, if the group stops probes (then the
// key is absent from the table: probes for it end here, and the holder of
// the group's lock owns it); ok is false if it does not, and the insert
// must locate the key beyond the group. The slot is the group's first
// free one, as Locate's.
func (g FlatHold[K, V]) Room(ctrl uint64) (i int, empty, ok bool) {
	if matchEmpty(ctrl) == 0 { // sp == 0: one EMPTY byte stops probes
		return 0, false, false
	}
	i = slotOf(matchFree(ctrl))
	return i, byteAt(ctrl, i) == ctrlEmpty, true
}

// Free returns the group's first free slot (a TOMBSTONE or EMPTY byte)
// and true, or false if the group holds seven keys: where an insert goes
// once the key is known absent from the table although the group does
// not stop probes (Room reports false), the slot Locate would pick there.
func (g FlatHold[K, V]) Free(ctrl uint64) (int, bool) {
	m := matchFree(ctrl)
	return slotOf(m), m != 0
}

// Insert publishes key, hashed h, and value in the free slot i (Room) of
// the group, whose ctrl word is ctrl, as Flat.Insert: the slot's words
// first, then the ctrl word with the key's tag, the linearization point.
// It is the one step that is a call (three release stores are over the
// inliner's budget), and keeps the stores' order here, where the tests
// of the table's publication (flatPublishHook) see it.
func (g FlatHold[K, V]) Insert(ctrl uint64, i int, h uint64, key K, value V) {
	release.Store((*uint64)(g.slot(i)), wordOf(key))
	if unsafe.Sizeof(value) != 0 { // a constant: a set stores no value
		release.Store((*uint64)(unsafe.Add(g.slot(i), 8)), wordOf(value))
	}
	if flatPublishHook != nil {
		flatPublishHook()
	}
	release.Store((*uint64)(g.p), setByte(ctrl, i, tagOf(h))^flatCtrl)
}

// DeleteWord returns the address of the group's ctrl word and the stored
// ctrl word that frees slot i, which holds a key, as DeleteHeld: EMPTY if
// the group stops probes, else TOMBSTONE (reported). The store is the
// linearization point; the holder must then release the lock with
// UnlockBump.
func (g FlatHold[K, V]) DeleteWord(ctrl uint64, i int) (p *uint64, w uint64, tombstone bool) {
	b := uint8(ctrlEmpty)
	if matchEmpty(ctrl) == 0 {
		b, tombstone = ctrlTombstone, true
	}
	return (*uint64)(g.p), setByte(ctrl, i, b) ^ flatCtrl, tombstone
}
