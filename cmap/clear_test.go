package cmap_test

import (
	"testing"

	"github.com/segmap/segmap/cmap"
)

// TestClearAtomicForReaders checks that a lock-free reader never sees a
// Clear half done. Clear replaces the segments' tables one by one with
// every lock held; a reader takes no lock, so in the middle of a Clear it
// could find k2 (stored after k1, in a segment already cleared) gone and
// k1 (in a segment not yet cleared) present: a state the map never held;
// and Len could count one segment cleared and the other not.
func TestClearAtomicForReaders(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(4))
	k1, k2 := -1, -1
	for k := 0; k1 < 0 || k2 < 0; k++ {
		switch m.SegmentOf(k) {
		case 0:
			if k2 < 0 {
				k2 = k
			}
		case 3:
			if k1 < 0 {
				k1 = k
			}
		}
	}
	m.Store(k1, 1)
	m.Store(k2, 2)
	probed := false
	cmap.SetClearHook(func(i int) {
		if i != m.SegmentOf(k2) {
			return
		}
		// k2's segment is cleared, k1's is not yet.
		probed = true
		_, has2 := m.Load(k2)
		_, has1 := m.Load(k1)
		if has1 && !has2 {
			t.Errorf("mid-Clear: Load(k1) found it, Load(k2) did not, though k1 was stored before k2")
		}
		// Len reads the counts of one instant too: both keys, or none.
		if n := m.Len(); n != 2 && n != 0 {
			t.Errorf("mid-Clear: Len() = %d, a count the map never had", n)
		}
	})
	defer cmap.SetClearHook(nil)
	m.Clear()
	if !probed {
		t.Fatal("the hook never ran for k2's segment")
	}
	if _, ok := m.Load(k1); ok {
		t.Fatal("k1 present after Clear")
	}
	m.Store(k1, 3) // no lock left held, and the map works on
	if v, ok := m.Load(k1); !ok || v != 3 {
		t.Fatalf("Load(k1) after Clear and Store = %v, %v", v, ok)
	}
}
