package striped_test

import (
	"runtime"
	"slices"
	"sync/atomic"

	"github.com/segmap/segmap/striped"
)

func identity(i int) int { return i }

func stripesTarget(s *striped.Stripes) target {
	return target{
		name: "Stripes", items: s.Len(), stripes: s.Len(), stripeOf: identity,
		lockSet: func(items []int) func() { return s.LockIndices(items...) },
		lock:    s.Lock, unlock: s.Unlock, tryLock: s.TryLock,
		lockAll: s.LockAll, unlockAll: s.UnlockAll,
	}
}

func rwStripesTarget(s *striped.RWStripes) target {
	return target{
		name: "RWStripes", items: s.Len(), stripes: s.Len(), stripeOf: identity,
		lockSet: func(items []int) func() { return s.LockIndices(items...) },
		lock:    s.Lock, unlock: s.Unlock, tryLock: s.TryLock,
		lockAll: s.LockAll, unlockAll: s.UnlockAll,
		rlockSet: func(items []int) func() { return s.RLockIndices(items...) },
		rlock:    s.RLock, runlock: s.RUnlock,
		rlockAll: s.RLockAll, runlockAll: s.RUnlockAll,
	}
}

// stripedTarget hammers a Striped[int] with keys 0..4n-1, so that several
// keys share each stripe.
func stripedTarget(s *striped.Striped[int]) target {
	return target{
		name: "Striped", items: 4 * s.Len(), stripes: s.Len(), stripeOf: s.Index,
		lockSet: func(keys []int) func() { return s.LockKeys(keys...) },
		lock:    s.Lock, unlock: s.Unlock, tryLock: s.TryLock,
		lockAll: s.LockAll, unlockAll: s.UnlockAll,
	}
}

// stripedMixedTarget takes multi-locks by key and single locks by index
// through Striped.Stripes: both must share one set of locks and one order.
func stripedMixedTarget(s *striped.Striped[int]) target {
	tg := stripedTarget(s)
	tg.name = "Striped/mixed"
	st := s.Stripes()
	tg.lock = func(k int) { st.Lock(s.Index(k)) }
	tg.unlock = func(k int) { st.Unlock(s.Index(k)) }
	tg.tryLock = func(k int) bool { return st.TryLock(s.Index(k)) }
	tg.lockAll, tg.unlockAll = st.LockAll, st.UnlockAll
	return tg
}

func rwStripedTarget(s *striped.RWStriped[int]) target {
	return target{
		name: "RWStriped", items: 4 * s.Len(), stripes: s.Len(), stripeOf: s.Index,
		lockSet: func(keys []int) func() { return s.LockKeys(keys...) },
		lock:    s.Lock, unlock: s.Unlock, tryLock: s.TryLock,
		lockAll: s.LockAll, unlockAll: s.UnlockAll,
		rlockSet: func(keys []int) func() { return s.RLockKeys(keys...) },
		rlock:    s.RLock, runlock: s.RUnlock,
		rlockAll: s.RLockAll, runlockAll: s.RUnlockAll,
	}
}

// Deliberately broken multi-locks, to prove the hammer catches each flaw.
// Their locks spin on TryLock and give up when the hammer aborts, so that
// a deadlock they cause ends instead of leaking goroutines.

// spinLockSet locks the stripes in the order given, each until abort;
// on abort it releases what it took and ends the worker.
func spinLockSet(s *striped.Stripes, abort *atomic.Bool, order []int) func() {
	var taken []int
	for _, i := range order {
		for !s.TryLock(i) {
			if abort.Load() {
				for _, j := range taken {
					s.Unlock(j)
				}
				runtime.Goexit()
			}
			runtime.Gosched()
		}
		taken = append(taken, i)
	}
	return func() {
		for _, j := range taken {
			s.Unlock(j)
		}
	}
}

// brokenUnordered locks distinct stripes in argument order: the
// textbook deadlock.
func brokenUnordered(s *striped.Stripes, abort *atomic.Bool) target {
	tg := stripesTarget(s)
	tg.name = "broken/unordered"
	tg.lockSet = func(items []int) func() {
		var order []int
		for _, i := range items {
			if !slices.Contains(order, i) {
				order = append(order, i)
			}
		}
		return spinLockSet(s, abort, order)
	}
	return tg
}

// brokenNoDedup locks in ascending order but does not remove duplicates:
// it waits for a stripe it holds.
func brokenNoDedup(s *striped.Stripes, abort *atomic.Bool) target {
	tg := stripesTarget(s)
	tg.name = "broken/no-dedup"
	tg.lockSet = func(items []int) func() {
		return spinLockSet(s, abort, slices.Sorted(slices.Values(items)))
	}
	return tg
}

// brokenNoLock takes no lock in its multi-lock.
func brokenNoLock(s *striped.Stripes) target {
	tg := stripesTarget(s)
	tg.name = "broken/no-lock"
	tg.lockSet = func([]int) func() { return func() {} }
	return tg
}

// brokenLockAll skips the odd stripes in LockAll.
func brokenLockAll(s *striped.Stripes) target {
	tg := stripesTarget(s)
	tg.name = "broken/lock-all"
	tg.lockAll = func() {
		for i := 0; i < s.Len(); i += 2 {
			s.Lock(i)
		}
	}
	tg.unlockAll = func() {
		for i := 0; i < s.Len(); i += 2 {
			s.Unlock(i)
		}
	}
	return tg
}
