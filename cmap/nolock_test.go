package cmap_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmap/segmap/cmap"
)

// TestUnchangedKeyTakesNoLock checks the promises that a write which
// leaves its key unchanged takes no lock: Delete and LoadAndDelete of a
// missing key, LoadOrStore and LoadOrCompute of a present one,
// CompareAndSwap and CompareAndDelete of a key that does not hold old.
// With every lock that a writer of the key could wait for held (HoldKey:
// its segment's lock and, in a flat map, its home group's lock), each
// such call must return. It runs over each layout and read path of the
// lock-free test: flat one-word keys (the test inlined in
// loadAndDelete), flat two-word keys (Load), short arena keys (the home
// group's probe of adeleteShort), long arena keys (lookupArena), the
// entry layout, and the maps whose options take the general paths
// (insertion order, a bound, a user's hasher). The maps are full enough that some keys' home groups are
// full, so the test goes on past them (FindAfter). As a check of the
// holding, a delete of a present key under the same locks must wait.
func TestUnchangedKeyTakesNoLock(t *testing.T) {
	t.Run("flat uint64", func(t *testing.T) {
		unchangedKeyNoLock(t, cmap.New[uint64, uint64](cmap.WithSegments(1)), func(i int) uint64 { return uint64(i) * 0x9E3779B97F4A7C15 }, 0, 1)
	})
	t.Run("flat [2]uint64", func(t *testing.T) {
		unchangedKeyNoLock(t, cmap.New[[2]uint64, uint64](cmap.WithSegments(1)), func(i int) [2]uint64 { return [2]uint64{uint64(i), 7} }, 0, 1)
	})
	t.Run("arena short", func(t *testing.T) {
		unchangedKeyNoLock(t, cmap.New[string, uint64](cmap.WithSegments(1)), func(i int) string { return fmt.Sprintf("key-%d", i) }, 0, 1)
	})
	t.Run("arena long", func(t *testing.T) {
		unchangedKeyNoLock(t, cmap.New[string, uint64](cmap.WithSegments(1)), func(i int) string { return fmt.Sprintf("%s-%d", strings.Repeat("long", 6), i) }, 0, 1)
	})
	t.Run("insertion order", func(t *testing.T) {
		unchangedKeyNoLock(t, cmap.New[uint64, uint64](cmap.WithSegments(1), cmap.WithInsertionOrder()), func(i int) uint64 { return uint64(i) * 0x9E3779B97F4A7C15 }, 0, 1)
	})
	t.Run("bounded", func(t *testing.T) {
		unchangedKeyNoLock(t, cmap.New[string, uint64](cmap.WithSegments(1), cmap.WithMaxLen(5000, cmap.EvictOldest)), func(i int) string { return fmt.Sprintf("key-%d", i) }, 0, 1)
	})
	t.Run("hasher", func(t *testing.T) {
		unchangedKeyNoLock(t, cmap.New[string, uint64](cmap.WithSegments(1), cmap.WithHasher(fnv)), func(i int) string { return fmt.Sprintf("key-%d", i) }, 0, 1)
	})
	t.Run("entry", func(t *testing.T) {
		unchangedKeyNoLock(t, cmap.New[string, string](cmap.WithSegments(1)), func(i int) string { return fmt.Sprintf("key-%d", i) }, "v", "w")
	})
}

func unchangedKeyNoLock[K comparable, V comparable](t *testing.T, m *cmap.Map[K, V], key func(int) K, v, other V) {
	const present, absent = 1000, 300
	for i := range present {
		m.Store(key(i), v)
	}
	wait := func(f func()) bool {
		done := make(chan struct{})
		go func() { f(); close(done) }()
		select {
		case <-done:
			return true
		case <-time.After(10 * time.Second):
			return false
		}
	}
	for i := present; i < present+absent; i++ {
		k := key(i)
		release := m.HoldKey(k)
		if !wait(func() { m.Delete(k) }) {
			release()
			t.Fatalf("Delete(%v) of an absent key waits for a lock", k)
		}
		if !wait(func() {
			if _, loaded := m.LoadAndDelete(k); loaded {
				t.Errorf("LoadAndDelete(%v) of an absent key loaded", k)
			}
		}) {
			release()
			t.Fatalf("LoadAndDelete(%v) of an absent key waits for a lock", k)
		}
		release()
	}
	// The reads of the other methods that take no lock: LoadOrStore and
	// LoadOrCompute of a present key, CompareAndSwap and
	// CompareAndDelete of a key that does not hold old (present with
	// another value, or absent).
	for i := 0; i < present+absent; i += 4 {
		k := key(i)
		release := m.HoldKey(k)
		if !wait(func() {
			if i < present {
				if a, loaded := m.LoadOrStore(k, other); !loaded || a != v {
					t.Errorf("LoadOrStore(%v) of a present key = %v, %v", k, a, loaded)
				}
				if a, loaded := m.LoadOrCompute(k, func() V { return other }); !loaded || a != v {
					t.Errorf("LoadOrCompute(%v) of a present key = %v, %v", k, a, loaded)
				}
			}
			if m.CompareAndSwap(k, other, v) || m.CompareAndDelete(k, other) {
				t.Errorf("CompareAndSwap or CompareAndDelete of %v, which does not hold %v, succeeded", k, other)
			}
		}) {
			release()
			t.Fatalf("a read of %v (present: %v) that takes no lock waits for one", k, i < present)
		}
		release()
	}
	// The holding holds: a present key's delete waits for it.
	k := key(0)
	release := m.HoldKey(k)
	done := make(chan struct{})
	go func() { m.Delete(k); close(done) }()
	select {
	case <-done:
		t.Fatalf("Delete(%v) of a present key returned while HoldKey held its locks", k)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	<-done
	if _, ok := m.Load(k); ok || m.Len() != present-1 {
		t.Fatalf("after the delete: Load(%v) found %v, Len %d, want %d", k, ok, m.Len(), present-1)
	}
}

// fnv is FNV-1a, seeded: a hasher of the user's, which sends arena maps
// past their inlined short-key steps.
func fnv(seed uint64, k string) uint64 {
	h := seed ^ 0xcbf29ce484222325
	for i := range len(k) {
		h = (h ^ uint64(k[i])) * 0x100000001b3
	}
	return h ^ h>>29
}
