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
	compareRechecks(t, "a", &testHookHint, ": no hint was taken")
}

// TestCompareRechecksUnderLockFlat is TestCompareRechecksUnderLock for
// flat maps (uint64 keys), whose lock-free compare is Load's and whose
// locked step is a light write (flatwrite.go), a group-lock write or, in
// a bounded map, the engine's: the value changes between the two (the
// hook), and the locked step must compare again.
func TestCompareRechecksUnderLockFlat(t *testing.T) {
	compareRechecks(t, uint64(7), &testHookCompared, "")
}

// compareRechecks runs CompareAndSwap(key, 1, 5) and CompareAndDelete(key,
// 1) on maps (unbounded and bounded) where key holds 1, with hook set so
// that key's value becomes 2 between the operation's lock-free compare
// and its locked step; each must fail and leave 2. why is added to the
// failure of a hook that did not run.
func compareRechecks[K comparable](t *testing.T, key K, hook *func(), why string) {
	ops := map[string]func(m *Map[K, uint64]) bool{
		"CompareAndSwap":   func(m *Map[K, uint64]) bool { return m.CompareAndSwap(key, 1, 5) },
		"CompareAndDelete": func(m *Map[K, uint64]) bool { return m.CompareAndDelete(key, 1) },
	}
	for _, bounded := range []bool{false, true} {
		for name, op := range ops {
			t.Run(fmt.Sprintf("%s/bounded=%v", name, bounded), func(t *testing.T) {
				opts := []Option{WithSegments(1)}
				if bounded {
					opts = append(opts, WithMaxLen(100, RejectNew))
				}
				m := New[K, uint64](opts...)
				m.Store(key, 1)
				fired := false
				*hook = func() {
					if !fired {
						fired = true
						m.Store(key, 2)
					}
				}
				t.Cleanup(func() { *hook = nil })
				if op(m) {
					t.Errorf("%s(%v, 1) succeeded after it was set to 2", name, key)
				}
				if !fired {
					t.Fatal("the hook did not run" + why)
				}
				if v, ok := m.Load(key); !ok || v != 2 {
					t.Errorf("%v = %v, %v after %s; want 2, true", key, v, ok, name)
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

// TestHintMovedSlot: in an arena map whose values take several words
// (a spare table), an update moves a key to another slot of its group
// (Arena.Replace), and the record stays. Here, between the lock-free
// lookup of LoadAndDelete, CompareAndSwap or CompareAndDelete and its
// lock, key is stored again with the value the operation expects, so it
// moves: the hint's slot no longer holds it, and the locked step must
// find it where it went and succeed, leaving no second copy.
func TestHintMovedSlot(t *testing.T) {
	type v3 [3]uint64
	ops := map[string]struct {
		op   func(m *Map[string, v3]) bool
		want v3 // a's value after; zero: absent
	}{
		"LoadAndDelete": {func(m *Map[string, v3]) bool {
			v, loaded := m.LoadAndDelete("a")
			return loaded && v == v3{1, 1, 1}
		}, v3{}},
		"CompareAndSwap":   {func(m *Map[string, v3]) bool { return m.CompareAndSwap("a", v3{1, 1, 1}, v3{5, 5, 5}) }, v3{5, 5, 5}},
		"CompareAndDelete": {func(m *Map[string, v3]) bool { return m.CompareAndDelete("a", v3{1, 1, 1}) }, v3{}},
	}
	for name, c := range ops {
		t.Run(name, func(t *testing.T) {
			m := New[string, v3](WithSegments(1))
			if got := m.Stats().Layout; got != "arena" {
				t.Fatalf("layout %q, want arena", got)
			}
			m.Store("a", v3{1, 1, 1})
			st := m.state()
			_, p0, _ := st.segs[0].table.Load().Arena().Lookup(st.hasher.Hash("a"), "a")
			moved := false
			fired := hintHookOnce(t, func() {
				m.Store("a", v3{1, 1, 1})
				_, p, _ := st.segs[0].table.Load().Arena().Lookup(st.hasher.Hash("a"), "a")
				moved = p != p0
			})
			if !c.op(m) {
				t.Errorf("%s(a) failed: a was stored again with the same value, in another slot", name)
			}
			if !*fired {
				t.Fatal("the hook did not run: no hint was taken")
			}
			if !moved {
				t.Fatalf("a stayed in slot %d: the test moved nothing", p0)
			}
			v, ok := m.Load("a")
			if c.want == (v3{}) {
				if ok {
					t.Errorf("a = %v after %s, want absent", v, name)
				}
			} else if !ok || v != c.want {
				t.Errorf("a = %v, %v after %s, want %v", v, ok, name, c.want)
			}
			wantLen := 0
			if c.want != (v3{}) {
				wantLen = 1
			}
			if n := m.Len(); n != wantLen {
				t.Errorf("Len = %d, want %d", n, wantLen)
			}
			if err := m.CheckInvariants(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
