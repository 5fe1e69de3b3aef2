package cmap

import (
	"reflect"
	"unsafe"

	"github.com/segmap/segmap/internal/table"
)

// DeleteFunc deletes every entry for which del returns true, and returns
// how many entries it deleted. It is named after [maps.DeleteFunc].
//
// del runs with no lock of the map held, so it may be slow and may call
// any method of m. Each deletion is atomic for its key: DeleteFunc deletes
// key only if key still holds, at the instant of the delete, the value that
// del was given for it, so that an entry stored again after del saw it is
// not deleted on the strength of its old value. In a map that stores
// pointers to entries, "the value del was given" means the very entry that
// held it (every write publishes a new entry, so even a store of an equal
// value is seen as a change); in a map of the flat layout (see [Map]) it
// means the same key and value bits: there, storing an identical value
// again cannot be told from not storing it, and DeleteFunc deletes it.
//
// DeleteFunc is not atomic across keys: it visits the segments one at a
// time with the consistency of [Map.Range] (del sees no key twice, and
// sees every key present for the whole call); the entries of a segment are
// given to del first, and those it selects are then deleted one by one,
// each under its segment's lock for the time of one delete (so DeleteFunc
// holds a list of one segment's selected entries at a time). An entry
// stored during the call may or may not be given to del. For a
// deletion of the whole map at one instant, use [Map.Clear].
//
// Deleting through DeleteFunc is deleting, not evicting: the function of
// [WithOnEvict] is not called for the entries it deletes; on a map bounded
// by [WithMaxLen] each deletion makes room for an insert, and on a map
// with insertion order each deleted entry leaves the order, as with
// [Map.Delete]. A key that is not equal to itself (a floating-point NaN)
// can be given to del but is never found again by key, so DeleteFunc does
// not delete it; [Map.Clear] and [Map.PopOldest] do.
//
// If del panics, the entries deleted before stay deleted, nothing else is
// deleted, and the panic goes on to the caller with no lock held.
func (m *Map[K, V]) DeleteFunc(del func(key K, value V) bool) int {
	if del == nil {
		panic("cmap: DeleteFunc: nil func")
	}
	st := m.loaded()
	if st == nil {
		return 0
	}
	var (
		eq  func(a, b *V) bool
		keq func(a, b *K) bool
	)
	if st.flat {
		eq, keq = bitsEqual[V](), bitsEqual[K]()
	}
	if st.arena {
		// Strings: equal keys have equal bytes (and a key's string
		// points into whichever table's arena it was read from).
		eq, keq = bitsEqual[V](), func(a, b *K) bool { return *a == *b }
	}
	var (
		entries []*table.Entry[K, V] // an entry table's selected entries
		pairs   []flatPair[K, V]     // a flat table's selected keys and values
		n       int
	)
	for i := range st.segs {
		entries, pairs = entries[:0], pairs[:0]
		st.selectSegment(i, del, &entries, &pairs)
		for _, e := range entries {
			if st.deleteEntry(e) {
				n++
			}
		}
		for j := range pairs {
			if st.deleteFlat(&pairs[j], eq, keq) {
				n++
			}
		}
	}
	return n
}

// flatPair is a key and the value del saw for it, in a flat table.
type flatPair[K comparable, V any] struct {
	key   K
	value V
}

// selectSegment gives the entries of segment i's table, pinned, to del,
// with no lock held, and appends those it selects to entries (an entry
// table) or pairs (a flat table). It unpins the table even if del panics.
func (st *state[K, V]) selectSegment(i int, del func(K, V) bool, entries *[]*table.Entry[K, V], pairs *[]flatPair[K, V]) {
	t := st.pin(i)
	if t == nil {
		return
	}
	defer st.unpin(i, t)
	if t.IsInline() {
		t.RangeKV(func(k K, v V) bool {
			if del(k, v) {
				*pairs = append(*pairs, flatPair[K, V]{k, v})
			}
			return true
		})
		return
	}
	t.Range(func(e *table.Entry[K, V]) bool {
		if del(e.Key, e.Value) {
			*entries = append(*entries, e)
		}
		return true
	})
}

// deleteEntry deletes e's key if e is still its entry, and reports whether
// it did. A lock-free lookup first: if the key has another entry or none,
// nothing is locked (the failed delete is linearizable at that lookup).
func (st *state[K, V]) deleteEntry(e *table.Entry[K, V]) bool {
	h := st.hasher.Hash(e.Key)
	_, _, hn := st.lookup(h, e.Key)
	if hn.e != e {
		return false
	}
	var w writer[K, V]
	defer w.close()
	w.init(st, "DeleteFunc", e.Key, h)
	w.open(hn)
	if !w.found() || w.cur.e != e {
		return false
	}
	w.del()
	return true
}

// deleteFlat deletes p.key if its slot still holds p.key and p.value bit
// for bit (keq, eq: an overwrite stores the written key's bits, so a key
// equal to p.key with other bits, such as -0 over +0, was stored after del
// saw p), and reports whether it did; as deleteEntry, it locks nothing if
// a lock-free lookup finds another value or none.
func (st *state[K, V]) deleteFlat(p *flatPair[K, V], eq func(a, b *V) bool, keq func(a, b *K) bool) bool {
	h := st.hasher.Hash(p.key)
	v, ok, hn := st.lookup(h, p.key)
	if !ok || !eq(&v, &p.value) {
		return false
	}
	for try := 0; st.glock && try < 2; try++ {
		var g gwrite[K, V]
		if !st.gbegin(&g, h, p.key, false, false) {
			break
		}
		match := false
		if g.found() {
			k, v := g.t.At(g.pos)
			match = keq(&k, &p.key) && eq(&v, &p.value)
		}
		// The share of the shrink rule once the entry matches
		// (takeDelete); beyond it, a reshare (reshareFor) and one more
		// try, then the engine deletes.
		if !match || g.takeDelete() {
			if match {
				g.del()
			}
			g.close("DeleteFunc")
			return match
		}
		g.close("DeleteFunc")
		if try > 0 || !st.reshareFor(&g) {
			break
		}
	}
	var w writer[K, V]
	defer w.close()
	w.init(st, "DeleteFunc", p.key, h)
	w.open(hn)
	if !w.found() {
		return false
	}
	if k, v := w.cur.t.AtInline(w.cur.pos); !keq(&k, &p.key) || !eq(&v, &p.value) {
		return false
	}
	w.del()
	return true
}

// bitsEqual returns a function that reports whether two values of the
// pointer-free type V have the same bits in every byte that belongs to a
// field (padding is skipped: its bytes are not part of the value and may
// differ between copies). Unlike ==, it tells a value that was stored
// again with the same bits from nothing, even for NaNs (NaN != NaN would
// make a NaN value undeletable), and it needs no comparable constraint.
//
// Soundness of the unsafe view: a and b point to whole V values; every
// range comes from V's reflect layout, so it lies inside the value, and V
// holds no pointers (the flat layout admits no others), so reading its
// bytes as bytes hides nothing from the GC (checkptr accepts it: the view
// stays within one allocation).
func bitsEqual[V any]() func(a, b *V) bool {
	ranges := fieldRanges(reflect.TypeFor[V](), 0, nil)
	size := reflect.TypeFor[V]().Size()
	return func(a, b *V) bool {
		if size == 0 {
			return true
		}
		x := unsafe.Slice((*byte)(unsafe.Pointer(a)), size)
		y := unsafe.Slice((*byte)(unsafe.Pointer(b)), size)
		for _, r := range ranges {
			if string(x[r[0]:r[1]]) != string(y[r[0]:r[1]]) {
				return false
			}
		}
		return true
	}
}

// fieldRanges appends to rs the byte ranges [start, end) at offset off of
// the non-padding bytes of a value of type t, merging adjacent ranges.
func fieldRanges(t reflect.Type, off uintptr, rs [][2]uintptr) [][2]uintptr {
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			rs = fieldRanges(f.Type, off+f.Offset, rs)
		}
		return rs
	case reflect.Array:
		for i := range t.Len() {
			rs = fieldRanges(t.Elem(), off+uintptr(i)*t.Elem().Size(), rs)
		}
		return rs
	}
	if t.Size() == 0 {
		return rs
	}
	if n := len(rs); n > 0 && rs[n-1][1] == off {
		rs[n-1][1] = off + t.Size()
		return rs
	}
	return append(rs, [2]uintptr{off, off + t.Size()})
}
