package striped

import (
	"fmt"
	"math/bits"
	"slices"
	"sync/atomic"
)

// This file holds what every kind of stripe set shares: the stripe count,
// index checks with their panics, and the ordered multi-lock.
//
// Lock order. The stripes of one set are ordered by index, and every call
// that takes more than one stripe (LockAll, LockIndices, LockKeys and their
// read forms) takes them in ascending order. That is the classic argument
// against deadlock: a cycle of goroutines each waiting for a stripe held by
// the next would need one of them to wait for a lower stripe than one it
// holds, and none ever does. Duplicates are removed first, because the
// mutexes are not reentrant: locking the same stripe twice in one call would
// wait for itself.
//
// The obvious, incorrect implementation locks the stripes in the order the
// caller lists them. Two goroutines calling LockIndices(1, 2) and
// LockIndices(2, 1) then each take one stripe and wait forever for the
// other. Sorting makes them both start with stripe 1.

// maxStripes bounds n so that rounding it up to a power of two cannot
// overflow an int, even on 32-bit platforms.
const maxStripes = 1 << 30

// stripeCount returns n rounded up to a power of two, or panics with a
// message naming fn and n if n is not in [1, maxStripes].
func stripeCount(fn string, n int) int {
	if n < 1 {
		panic(fmt.Sprintf("striped: %s: n = %d is < 1", fn, n))
	}
	if n > maxStripes {
		panic(fmt.Sprintf("striped: %s: n = %d is > %d", fn, n, maxStripes))
	}
	return 1 << bits.Len(uint(n-1))
}

// panicIndex reports an index out of range. It is outlined to keep the
// formatting out of the callers' fast paths.
//
//go:noinline
func panicIndex(fn string, i, n int) {
	panic(fmt.Sprintf("striped: %s: index %d out of range [0, %d)", fn, i, n))
}

// held is the set of stripes locked by one multi-lock call (LockIndices,
// RLockIndices, LockKeys, RLockKeys), and the state of the unlock func that
// the call returned. Each call allocates one held and one func value (its
// closure); held is kept to 80 bytes, a size class, for that reason.
type held struct {
	// Exactly one of s and rw is non-nil: the set the call locked.
	s  *Stripes
	rw *RWStripes
	// read reports that the rw stripes were read-locked.
	read bool
	// done is set by the first call of unlock; a second call panics
	// instead of unlocking stripes that someone else may hold by then.
	done atomic.Bool
	// idx is ascending and without duplicates, and every index is in
	// range of s or rw. It aliases buf when it fits, as it does for the
	// usual two to four keys.
	idx []int
	buf [4]int
}

// checkIndices copies idx into h.idx, sorted and without duplicates. It
// panics naming fn and the first index (in argument order) that is not in
// [0, n), before anything is locked.
func (h *held) checkIndices(fn string, idx []int, n int) {
	for _, i := range idx {
		if uint(i) >= uint(n) {
			panicIndex(fn, i, n)
		}
	}
	h.idx = append(h.buf[:0], idx...) // never sort the caller's slice
	h.sortIndices()
}

// sortIndices sorts h.idx into the global lock order and removes
// duplicates.
func (h *held) sortIndices() {
	slices.Sort(h.idx)
	h.idx = slices.Compact(h.idx)
}

// lock takes the stripes of h.idx in ascending order.
func (h *held) lock() {
	switch {
	case h.s != nil:
		for _, i := range h.idx {
			h.s.mu[i].Lock()
		}
	case h.read:
		for _, i := range h.idx {
			h.rw.rw[i].RLock()
		}
	default:
		for _, i := range h.idx {
			h.rw.rw[i].Lock()
		}
	}
}

// unlock releases exactly the stripes that lock took. It is the func that
// the multi-lock calls return.
func (h *held) unlock() {
	if h.done.Swap(true) {
		panic("striped: unlock func called more than once")
	}
	// Any release order is deadlock-free; release in reverse, the
	// conventional nesting.
	switch {
	case h.s != nil:
		for _, i := range slices.Backward(h.idx) {
			h.s.mu[i].Unlock()
		}
	case h.read:
		for _, i := range slices.Backward(h.idx) {
			h.rw.rw[i].RUnlock()
		}
	default:
		for _, i := range slices.Backward(h.idx) {
			h.rw.rw[i].Unlock()
		}
	}
}
