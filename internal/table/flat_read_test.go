package table

import (
	"sync/atomic"
	"testing"
	"unsafe"
)

// checkHome checks the home-group probe of cmap's Load (FlatHome, Find1
// or the loop over Matches, Settled, then FindAfter where the home group
// is full and lacks k) for key k against the model (want,
// in): where the home group settles the lookup, its answer is the
// model's, and a hit always settles it (no writer runs). flatModel's
// lookup calls it, so every shape and hasher of the flat tests runs it.
func (f *flatModel[K, V]) checkHome(k K, want V, in bool) {
	h := f.hash(k)
	g := wrapFlat(f.t).FlatHome(h)
	var v V
	ok := false
	if FlatOneWord[K, V]() {
		v, ok = g.Find1(k)
	} else {
		for m := g.Matches(); m != 0; m &= m - 1 {
			if i := g.Slot(m); g.Key(i) == k {
				v, ok = g.Value(i), true
				break
			}
		}
	}
	settled := g.Settled(h, ok)
	if ok && !settled {
		f.tb.Fatalf("home probe of %v: a hit not settled with no writer", k)
	}
	if settled && (ok != in || ok && v != want) {
		f.tb.Fatalf("home probe of %v = %v, %v; want %v, %v", k, v, ok, want, in)
	}
	if !settled && !ok && !g.Moved() {
		// The home group is full and lacks k: Load goes on with FindAfter.
		if v, ok := f.t.FindAfter(h, k); ok != in || ok && v != want {
			f.tb.Fatalf("FindAfter(%v) = %v, %v; want %v, %v", k, v, ok, want, in)
		}
	}
}

// TestAtomicLayout checks what EntryHome's load of group.ctrl relies on:
// an atomic.Uint64 is one word, holding its value at its own address.
func TestAtomicLayout(t *testing.T) {
	var a atomic.Uint64
	if unsafe.Sizeof(a) != 8 {
		t.Fatalf("atomic.Uint64 is %d bytes", unsafe.Sizeof(a))
	}
	a.Store(0x0123456789abcdef)
	if got := atomic.LoadUint64((*uint64)(unsafe.Pointer(&a))); got != 0x0123456789abcdef {
		t.Fatalf("the word at an atomic.Uint64's address holds %#x", got)
	}
}
