package striped_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/segmap/segmap/striped"
)

type point struct{ x, y int }

// TestIndexIsStableAndInRange checks Index for several key types: in
// range, the same for equal keys, and spread over all the stripes.
func TestIndexIsStableAndInRange(t *testing.T) {
	t.Parallel()
	t.Run("K=int", func(t *testing.T) { checkIndex(t, striped.New[int](16).Index, func(i int) int { return i }) })
	t.Run("K=string", func(t *testing.T) {
		checkIndex(t, striped.New[string](16).Index, func(i int) string { return "key-" + strconv.Itoa(i) })
	})
	t.Run("K=struct", func(t *testing.T) {
		checkIndex(t, striped.New[point](16).Index, func(i int) point { return point{i, -i} })
	})
	t.Run("K=any", func(t *testing.T) { checkIndex(t, striped.NewRW[any](16).Index, func(i int) any { return uint64(i) }) })
}

func checkIndex[K comparable](t *testing.T, index func(K) int, key func(int) K) {
	const n, keys = 16, 1 << 14
	hits := make([]int, n)
	for i := range keys {
		k := key(i)
		x := index(k)
		if x < 0 || x >= n {
			t.Fatalf("Index(%v) = %d, out of [0, %d)", k, x, n)
		}
		if y := index(key(i)); y != x {
			t.Fatalf("Index(%v) = %d, then %d", k, x, y)
		}
		hits[x]++
	}
	// Each stripe expects keys/n = 1024 keys, give or take 31 (binomial):
	// 20% off is more than 6 standard deviations.
	for i, h := range hits {
		if h < keys/n*8/10 || h > keys/n*12/10 {
			t.Errorf("stripe %d has %d of %d keys, want about %d: %v", i, h, keys, keys/n, hits)
		}
	}
}

func TestSeedIsRandom(t *testing.T) {
	t.Parallel()
	a, b := striped.New[int](16), striped.New[int](16)
	for k := range 256 {
		if a.Index(k) != b.Index(k) {
			return
		}
	}
	t.Fatal("two Striped values map 256 keys to the same stripes: the seed is not random")
}

func TestStripedLocksTheKeysStripe(t *testing.T) {
	t.Parallel()
	s := striped.New[string](16)
	st := s.Stripes()
	if st.Len() != s.Len() {
		t.Fatalf("Stripes().Len() = %d, want %d", st.Len(), s.Len())
	}
	s.Lock("alice")
	assertHeld(t, st, s.Index("alice"))
	if s.TryLock("alice") {
		t.Fatal("TryLock of a locked key succeeded")
	}
	s.Unlock("alice")
	assertHeld(t, st)

	rw := striped.NewRW[string](16)
	rst := rw.Stripes()
	rw.RLock("bob")
	if !rw.TryRLock("bob") {
		t.Fatal("TryRLock of a read-locked key failed")
	}
	assertHeld(t, rst, rw.Index("bob"))
	rw.RUnlock("bob")
	rw.RUnlock("bob")
	rw.Lock("bob")
	if rw.TryRLock("bob") || rw.TryLock("bob") {
		t.Fatal("a write-locked key let someone in")
	}
	rw.Unlock("bob")
	assertHeld(t, rst)
}

// collidingKeys returns two distinct int keys on the same stripe, and one
// on another stripe.
func collidingKeys(index func(int) int) (a, b, c int) {
	a, b, c = 0, -1, -1
	for k := 1; b < 0 || c < 0; k++ {
		if index(k) == index(a) {
			b = k
		} else {
			c = k
		}
	}
	return a, b, c
}

// TestLockKeysSharedStripe checks that keys sharing a stripe, and repeated
// keys, lock that stripe once instead of waiting for themselves.
func TestLockKeysSharedStripe(t *testing.T) {
	t.Parallel()
	s := striped.New[int](4)
	rw := striped.NewRW[int](4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a, b, c := collidingKeys(s.Index)
		unlock := s.LockKeys(b, c, a, b, a)
		assertHeld(t, s.Stripes(), s.Index(a), s.Index(c))
		unlock()
		assertHeld(t, s.Stripes())

		a, b, c = collidingKeys(rw.Index)
		for _, lockKeys := range []func(...int) func(){rw.LockKeys, rw.RLockKeys} {
			unlock := lockKeys(a, c, b, c)
			assertHeld(t, rw.Stripes(), rw.Index(a), rw.Index(c))
			unlock()
			assertHeld(t, rw.Stripes())
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("LockKeys with keys on one stripe deadlocked")
	}
}

func TestLockKeysUnhashablePanicsHoldingNothing(t *testing.T) {
	t.Parallel()
	s := striped.New[any](8)
	rw := striped.NewRW[any](8)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"Striped.LockKeys", func() { s.LockKeys(1, "two", []int{3}, 4) }},
		{"Striped.Lock", func() { s.Lock(map[int]int{}) }},
		{"RWStriped.LockKeys", func() { rw.LockKeys(1, "two", []int{3}) }},
		{"RWStriped.RLockKeys", func() { rw.RLockKeys(1, func() {}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustPanic(t, "unhashable type", tc.f)
			assertHeld(t, s.Stripes())
			assertHeld(t, rw.Stripes())
		})
	}
}

func TestLockKeysEmptyAndTwice(t *testing.T) {
	t.Parallel()
	s := striped.New[string](8)
	unlock := s.LockKeys()
	assertHeld(t, s.Stripes())
	unlock()
	unlock = s.LockKeys("x", "y")
	unlock()
	mustPanic(t, "striped: unlock func called more than once", unlock)
	assertHeld(t, s.Stripes())
}

func TestStripedLockAll(t *testing.T) {
	t.Parallel()
	s := striped.New[int](8)
	s.LockAll()
	for k := range 64 {
		if s.TryLock(k) {
			t.Fatalf("key %d was lockable under LockAll", k)
		}
	}
	s.UnlockAll()
	assertHeld(t, s.Stripes())

	rw := striped.NewRW[int](8)
	rw.RLockAll()
	for k := range 64 {
		if rw.TryLock(k) {
			t.Fatalf("key %d was write-lockable under RLockAll", k)
		}
	}
	rw.RUnlockAll()
	rw.LockAll()
	assertHeld(t, rw.Stripes(), 0, 1, 2, 3, 4, 5, 6, 7)
	rw.UnlockAll()
	assertHeld(t, rw.Stripes())
}

func TestStripedAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocations")
	}
	si := striped.New[int](16)
	ss := striped.New[string](16)
	sp := striped.NewRW[point](16)
	keys := []string{"a", "b", "c", "d"}
	for _, tc := range []struct {
		name string
		max  float64
		f    func()
	}{
		{"K=int/Lock+Unlock", 0, func() { si.Lock(42); si.Unlock(42) }},
		{"K=string/Lock+Unlock", 0, func() { ss.Lock("k"); ss.Unlock("k") }},
		{"K=struct/RLock+RUnlock", 0, func() { sp.RLock(point{1, 2}); sp.RUnlock(point{1, 2}) }},
		{"K=string/LockKeys/4", 2, func() { ss.LockKeys(keys...)() }},
	} {
		if got := testing.AllocsPerRun(100, tc.f); got > tc.max {
			t.Errorf("%s: %v allocations, want at most %v", tc.name, got, tc.max)
		}
	}
}
