package cmap

import (
	"fmt"
	"testing"
)

// TestHintRefilledSlot: the lock-free lookup of LoadAndDelete,
// CompareAndSwap and CompareAndDelete hands key's slot to the locked step,
// which must check that the slot still holds key. Here, between the
// lookup and the lock, key is deleted and its slot refilled by another
// key: every key hashes alike, so the other key lands in the same slot,
// with the same tag, and only its arena record tells them apart. The
// locked step must find key absent and leave the other key alone. In a
// plain map and in a bounded one (WithMaxLen), whose writes admit first.
func TestHintRefilledSlot(t *testing.T) {
	same := WithHasher(func(uint64, string) uint64 { return 0x0123_4567_89ab_cdef })
	ops := map[string]func(m *Map[string, uint64]) bool{
		"LoadAndDelete": func(m *Map[string, uint64]) bool {
			_, loaded := m.LoadAndDelete("a")
			return loaded
		},
		"CompareAndSwap":   func(m *Map[string, uint64]) bool { return m.CompareAndSwap("a", 1, 5) },
		"CompareAndDelete": func(m *Map[string, uint64]) bool { return m.CompareAndDelete("a", 1) },
	}
	for _, bounded := range []bool{false, true} {
		for name, op := range ops {
			t.Run(fmt.Sprintf("%s/bounded=%v", name, bounded), func(t *testing.T) {
				opts := []Option{WithSegments(1), same}
				if bounded {
					opts = append(opts, WithMaxLen(100, RejectNew))
				}
				hintRefilled(t, name, op, New[string, uint64](opts...))
			})
		}
	}
}

func hintRefilled(t *testing.T, name string, op func(m *Map[string, uint64]) bool, m *Map[string, uint64]) {
	if got := m.Stats().Layout; got != "arena" {
		t.Fatalf("layout %q, want arena", got)
	}
	m.Store("a", 1)
	fired := hintHookOnce(t, func() {
		m.Delete("a")
		m.Store("b", 1) // a's slot, a's value: only the record differs
	})
	if op(m) {
		t.Errorf("%s(a) reported success after a was deleted", name)
	}
	if !*fired {
		t.Fatal("the hook did not run: no hint was taken")
	}
	if v, ok := m.Load("b"); !ok || v != 1 {
		t.Errorf("b = %v, %v after %s(a); want 1, true", v, ok, name)
	}
	if _, ok := m.Load("a"); ok {
		t.Error("a present")
	}
	if n := m.Len(); n != 1 {
		t.Errorf("Len = %d, want 1", n)
	}
}

// TestCompareRechecksUnderLock: CompareAndSwap and CompareAndDelete
// compare the value again once they hold the lock. Here, between the
// lock-free lookup that saw key hold old and the lock, another write
// changes key's value (its slot and record stay): the operation must fail
// and leave the new value. In an arena map (whose light writes take the
// hint) and a bounded one (the engine's path).
func TestCompareRechecksUnderLock(t *testing.T) {
	ops := map[string]func(m *Map[string, uint64]) bool{
		"CompareAndSwap":   func(m *Map[string, uint64]) bool { return m.CompareAndSwap("a", 1, 5) },
		"CompareAndDelete": func(m *Map[string, uint64]) bool { return m.CompareAndDelete("a", 1) },
	}
	for _, bounded := range []bool{false, true} {
		for name, op := range ops {
			t.Run(fmt.Sprintf("%s/bounded=%v", name, bounded), func(t *testing.T) {
				opts := []Option{WithSegments(1)}
				if bounded {
					opts = append(opts, WithMaxLen(100, RejectNew))
				}
				m := New[string, uint64](opts...)
				m.Store("a", 1)
				fired := hintHookOnce(t, func() { m.Store("a", 2) })
				if op(m) {
					t.Errorf("%s(a, 1) succeeded after a was set to 2", name)
				}
				if !*fired {
					t.Fatal("the hook did not run: no hint was taken")
				}
				if v, ok := m.Load("a"); !ok || v != 2 {
					t.Errorf("a = %v, %v after %s; want 2, true", v, ok, name)
				}
			})
		}
	}
}

// TestCompareRechecksUnderLockFlat is TestCompareRechecksUnderLock for
// flat maps (uint64 keys), whose lock-free compare is Load's and whose
// locked step is a light write (flatwrite.go), a group-lock write or, in
// a bounded map, the engine's: the value changes between the two (the
// hook), and the locked step must compare again.
func TestCompareRechecksUnderLockFlat(t *testing.T) {
	ops := map[string]func(m *Map[uint64, uint64]) bool{
		"CompareAndSwap":   func(m *Map[uint64, uint64]) bool { return m.CompareAndSwap(7, 1, 5) },
		"CompareAndDelete": func(m *Map[uint64, uint64]) bool { return m.CompareAndDelete(7, 1) },
	}
	for _, bounded := range []bool{false, true} {
		for name, op := range ops {
			t.Run(fmt.Sprintf("%s/bounded=%v", name, bounded), func(t *testing.T) {
				opts := []Option{WithSegments(1)}
				if bounded {
					opts = append(opts, WithMaxLen(100, RejectNew))
				}
				m := New[uint64, uint64](opts...)
				m.Store(7, 1)
				fired := false
				testHookCompared = func() {
					if !fired {
						fired = true
						m.Store(7, 2)
					}
				}
				t.Cleanup(func() { testHookCompared = nil })
				if op(m) {
					t.Errorf("%s(7, 1) succeeded after 7 was set to 2", name)
				}
				if !fired {
					t.Fatal("the hook did not run")
				}
				if v, ok := m.Load(7); !ok || v != 2 {
					t.Errorf("7 = %v, %v after %s; want 2, true", v, ok, name)
				}
			})
		}
	}
}

// hintHookOnce makes f run the first time a write takes a lookup's hint,
// between the lookup and the lock, until the test ends; the result
// reports whether it ran.
func hintHookOnce(t *testing.T, f func()) *bool {
	fired := new(bool)
	testHookHint = func() {
		if !*fired {
			*fired = true
			f()
		}
	}
	t.Cleanup(func() { testHookHint = nil })
	return fired
}
