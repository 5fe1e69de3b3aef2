package striped_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmap/segmap/striped"
)

// tryLocker is what assertHeld needs: *Stripes and *RWStripes are both.
type tryLocker interface {
	Len() int
	TryLock(i int) bool
	Unlock(i int)
}

// assertHeld checks, with TryLock, that exactly the stripes in want are
// held, and leaves every stripe as it found it.
func assertHeld(t *testing.T, s tryLocker, want ...int) {
	t.Helper()
	for i := range s.Len() {
		free := s.TryLock(i)
		if free {
			s.Unlock(i)
		}
		if held := slices.Contains(want, i); free == held {
			t.Errorf("stripe %d: held = %v, want %v", i, !free, held)
		}
	}
}

// mustPanic calls f and checks that it panics with a message containing
// want.
func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one containing %q", want)
		}
		if msg := fmt.Sprint(r); !strings.Contains(msg, want) {
			t.Fatalf("panic %q, want one containing %q", msg, want)
		}
	}()
	f()
}

func TestLenRoundsUpToPowerOfTwo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ n, want int }{
		{1, 1}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {16, 16}, {17, 32}, {1000, 1024},
	} {
		got := map[string]int{
			"NewStripes":   striped.NewStripes(tc.n).Len(),
			"NewRWStripes": striped.NewRWStripes(tc.n).Len(),
			"New":          striped.New[string](tc.n).Len(),
			"NewRW":        striped.NewRW[string](tc.n).Len(),
		}
		for fn, n := range got {
			if n != tc.want {
				t.Errorf("%s(%d).Len() = %d, want %d", fn, tc.n, n, tc.want)
			}
		}
	}
}

func TestConstructorsPanicOnBadN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		f    func()
		want string
	}{
		{"NewStripes(-3)", func() { striped.NewStripes(-3) }, "striped: NewStripes: n = -3 is < 1"},
		{"NewStripes(0)", func() { striped.NewStripes(0) }, "striped: NewStripes: n = 0 is < 1"},
		{"NewStripes(huge)", func() { striped.NewStripes(1<<30 + 1) }, "striped: NewStripes: n = 1073741825 is > 1073741824"},
		{"NewRWStripes(0)", func() { striped.NewRWStripes(0) }, "striped: NewRWStripes: n = 0 is < 1"},
		{"New(-1)", func() { striped.New[int](-1) }, "striped: New: n = -1 is < 1"},
		{"NewRW(0)", func() { striped.NewRW[string](0) }, "striped: NewRW: n = 0 is < 1"},
	} {
		t.Run(tc.name, func(t *testing.T) { mustPanic(t, tc.want, tc.f) })
	}
}

func TestBadIndexPanicsHoldingNothing(t *testing.T) {
	t.Parallel()
	s := striped.NewStripes(16)
	rw := striped.NewRWStripes(16)
	for _, tc := range []struct {
		name string
		f    func()
		want string
	}{
		{"Lock(16)", func() { s.Lock(16) }, "striped: Stripes.Lock: index 16 out of range [0, 16)"},
		{"Lock(-1)", func() { s.Lock(-1) }, "striped: Stripes.Lock: index -1 out of range [0, 16)"},
		{"Unlock(99)", func() { s.Unlock(99) }, "striped: Stripes.Unlock: index 99 out of range [0, 16)"},
		{"TryLock(-7)", func() { s.TryLock(-7) }, "striped: Stripes.TryLock: index -7 out of range [0, 16)"},
		{"LockIndices(1,2,99,-5)", func() { s.LockIndices(1, 2, 99, -5) }, "striped: Stripes.LockIndices: index 99 out of range [0, 16)"},
		{"LockIndices(15,-5)", func() { s.LockIndices(15, -5) }, "striped: Stripes.LockIndices: index -5 out of range [0, 16)"},
		{"RW.Lock(16)", func() { rw.Lock(16) }, "striped: RWStripes.Lock: index 16 out of range [0, 16)"},
		{"RW.Unlock(16)", func() { rw.Unlock(16) }, "striped: RWStripes.Unlock: index 16 out of range [0, 16)"},
		{"RW.RLock(-1)", func() { rw.RLock(-1) }, "striped: RWStripes.RLock: index -1 out of range [0, 16)"},
		{"RW.RUnlock(-1)", func() { rw.RUnlock(-1) }, "striped: RWStripes.RUnlock: index -1 out of range [0, 16)"},
		{"RW.TryLock(16)", func() { rw.TryLock(16) }, "striped: RWStripes.TryLock: index 16 out of range [0, 16)"},
		{"RW.TryRLock(16)", func() { rw.TryRLock(16) }, "striped: RWStripes.TryRLock: index 16 out of range [0, 16)"},
		{"RW.LockIndices(0,16)", func() { rw.LockIndices(0, 16) }, "striped: RWStripes.LockIndices: index 16 out of range [0, 16)"},
		{"RW.RLockIndices(3,1,17)", func() { rw.RLockIndices(3, 1, 17) }, "striped: RWStripes.RLockIndices: index 17 out of range [0, 16)"},
		{"zero Stripes", func() { new(striped.Stripes).Lock(0) }, "striped: Stripes.Lock: index 0 out of range [0, 0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustPanic(t, tc.want, tc.f)
			assertHeld(t, s)
			assertHeld(t, rw)
			for i := range rw.Len() { // and no read lock either
				if !rw.TryLock(i) {
					t.Fatalf("RWStripes stripe %d is held after the panic", i)
				}
				rw.Unlock(i)
			}
		})
	}
}

func TestLockIndicesLocksExactlyTheDistinctIndices(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		idx  []int
		want []int
	}{
		{"none", nil, nil},
		{"one", []int{7}, []int{7}},
		{"duplicates", []int{5, 1, 5, 3, 1, 5}, []int{1, 3, 5}},
		{"descending", []int{15, 9, 2, 0}, []int{0, 2, 9, 15}},
		{"more than the inline buffer", []int{15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 15, 0},
			[]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := striped.NewStripes(16)
			idx := slices.Clone(tc.idx)
			unlock := s.LockIndices(idx...)
			if !slices.Equal(idx, tc.idx) {
				t.Errorf("LockIndices modified its argument: %v, was %v", idx, tc.idx)
			}
			assertHeld(t, s, tc.want...)
			unlock()
			assertHeld(t, s)

			rw := striped.NewRWStripes(16)
			unlock = rw.LockIndices(idx...)
			assertHeld(t, rw, tc.want...)
			unlock()
			assertHeld(t, rw)

			runlock := rw.RLockIndices(idx...)
			for i := range rw.Len() {
				if !rw.TryRLock(i) { // readers share
					t.Errorf("RLockIndices: stripe %d refuses another reader", i)
					continue
				}
				rw.RUnlock(i)
			}
			assertHeld(t, rw, tc.want...) // and writers wait
			runlock()
			assertHeld(t, rw)
		})
	}
}

func TestUnlockFuncTwicePanicsAndReleasesNothing(t *testing.T) {
	t.Parallel()
	s := striped.NewStripes(8)
	unlock := s.LockIndices(2, 6)
	unlock()
	s.Lock(2) // someone else's lock now; a second unlock must not release it
	mustPanic(t, "striped: unlock func called more than once", unlock)
	assertHeld(t, s, 2)
	s.Unlock(2)

	rw := striped.NewRWStripes(8)
	runlock := rw.RLockIndices(1)
	runlock()
	rw.RLock(1)
	mustPanic(t, "striped: unlock func called more than once", runlock)
	if rw.TryLock(1) {
		t.Fatal("the second call of the RLockIndices func released another reader")
	}
	rw.RUnlock(1)
	assertHeld(t, rw)
}

// TestLockAllExcludesEveryone checks LockAll with TryLock, and that a
// goroutine waiting for one stripe gets it only after UnlockAll.
func TestLockAllExcludesEveryone(t *testing.T) {
	t.Parallel()
	s := striped.NewStripes(8)
	rw := striped.NewRWStripes(8)
	s.LockAll()
	rw.LockAll()
	all := []int{0, 1, 2, 3, 4, 5, 6, 7}
	assertHeld(t, s, all...)
	assertHeld(t, rw, all...)
	for i := range rw.Len() {
		if rw.TryRLock(i) {
			t.Fatalf("RWStripes.LockAll: stripe %d let a reader in", i)
		}
	}

	var got atomic.Int32
	acquired := make(chan struct{})
	go func() {
		s.Lock(5)
		rw.RLock(3)
		got.Store(1)
		close(acquired)
		rw.RUnlock(3)
		s.Unlock(5)
	}()
	select {
	case <-acquired:
		t.Fatal("a goroutine locked a stripe while LockAll held them all")
	case <-time.After(20 * time.Millisecond):
	}
	rw.UnlockAll()
	s.UnlockAll()
	<-acquired

	rw.RLockAll()
	assertHeld(t, rw, all...) // writers are out
	for i := range rw.Len() {
		if !rw.TryRLock(i) {
			t.Fatalf("RWStripes.RLockAll: stripe %d refuses another reader", i)
		}
		rw.RUnlock(i)
	}
	rw.RUnlockAll()
	assertHeld(t, rw)
}

// TestStripesAreCacheLinePadded checks the layout that the size
// assertions in pad.go do not: consecutive stripes are one padding unit
// apart, and the first is aligned to it.
func TestStripesAreCacheLinePadded(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 16, 64} {
		s := striped.NewStripes(n)
		rw := striped.NewRWStripes(n)
		for _, addr := range []func(int) uintptr{s.Addr, rw.Addr} {
			if a := addr(0); a%striped.CacheLineSize != 0 {
				t.Errorf("n=%d: stripe 0 at %#x, not aligned to %d", n, a, striped.CacheLineSize)
			}
			for i := 1; i < n; i++ {
				if d := addr(i) - addr(i-1); d != striped.CacheLineSize {
					t.Errorf("n=%d: stripes %d and %d are %d bytes apart, want %d", n, i-1, i, d, striped.CacheLineSize)
				}
			}
		}
	}
}

func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocations")
	}
	s := striped.NewStripes(16)
	rw := striped.NewRWStripes(16)
	for _, tc := range []struct {
		name string
		max  float64
		f    func()
	}{
		{"Stripes.Lock+Unlock", 0, func() { s.Lock(3); s.Unlock(3) }},
		{"Stripes.LockAll+UnlockAll", 0, func() { s.LockAll(); s.UnlockAll() }},
		{"RWStripes.RLock+RUnlock", 0, func() { rw.RLock(3); rw.RUnlock(3) }},
		{"Stripes.LockIndices/4", 2, func() { s.LockIndices(7, 3, 5, 3)() }},
		{"Stripes.LockIndices/8", 3, func() { s.LockIndices(7, 6, 5, 4, 3, 2, 1, 0)() }},
		{"RWStripes.RLockIndices/2", 2, func() { rw.RLockIndices(9, 1)() }},
	} {
		if got := testing.AllocsPerRun(100, tc.f); got > tc.max {
			t.Errorf("%s: %v allocations, want at most %v", tc.name, got, tc.max)
		}
	}
	if strconv.IntSize == 64 && striped.HeldSize != 80 {
		t.Errorf("held is %d bytes, want 80 (a size class)", striped.HeldSize)
	}
}

// TestHammer runs the hammer against every kind of stripe set: random
// overlapping multi-locks with duplicates in random order, single locks,
// try-locks, lock-alls and reads, checking mutual exclusion, exact counts
// and freedom from deadlock.
func TestHammer(t *testing.T) {
	t.Parallel()
	for _, mk := range []func() target{
		func() target { return stripesTarget(striped.NewStripes(8)) },
		func() target { return rwStripesTarget(striped.NewRWStripes(8)) },
		func() target { return stripedTarget(striped.New[int](8)) },
		func() target { return stripedMixedTarget(striped.New[int](8)) },
		func() target { return rwStripedTarget(striped.NewRW[int](8)) },
	} {
		tg := mk()
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			if err := hammer(tg, defaultHammer(t)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestHammerCatchesBrokenLocks proves that the hammer can fail: each
// deliberately broken multi-lock is caught.
func TestHammerCatchesBrokenLocks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mk       func(*striped.Stripes, *atomic.Bool) target
		deadlock bool // the flaw shows as a deadlock, not as a race
	}{
		{brokenUnordered, true},
		{brokenNoDedup, true},
		{func(s *striped.Stripes, _ *atomic.Bool) target { return brokenNoLock(s) }, false},
		{func(s *striped.Stripes, _ *atomic.Bool) target { return brokenLockAll(s) }, false},
	} {
		abort := new(atomic.Bool)
		tg := tc.mk(striped.NewStripes(8), abort)
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			if !tc.deadlock && raceEnabled {
				t.Skip("the race detector would report the broken lock itself")
			}
			cfg := defaultHammer(t)
			cfg.abort = abort
			if tc.deadlock {
				cfg.stall = 300 * time.Millisecond // the default 10s, to the point
			}
			err := hammer(tg, cfg)
			switch {
			case err == nil:
				t.Fatal("the hammer did not notice")
			case tc.deadlock != strings.Contains(err.Error(), "deadlock"):
				t.Fatalf("caught, but not as expected: %v", err)
			}
			t.Logf("caught: %v", err)
		})
	}
}
